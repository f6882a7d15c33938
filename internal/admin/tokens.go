package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"posthorn/internal/audit"
	"posthorn/internal/auth"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// API tokens. A token is shown once, when it is created, as "ph_<id>_<secret>": the id finds
// its row, the secret (32 random bytes, lower-case base32 without padding: 52 characters of
// [a-z2-7]) proves it. Only auth.KeyedHash of the secret is stored, keyed by the server
// secret "api-token-key" that every process sharing the store uses; the secret carries 256
// bits, so a fast keyed hash protects it as well as a slow one would and lets every request
// check it in microseconds. A token is admin (every route) or account (acting for one
// account, which takes its tokens when it goes). Revoked tokens stay listed.

// TokenPrefix begins every API token.
const TokenPrefix = "ph_"

// tokenKeyName names the server secret that keys the tokens' hashes.
const tokenKeyName = "api-token-key"

// TokenUseInterval is how often at most a token's last use is written: a client making
// requests all day writes it once a minute.
const TokenUseInterval = time.Minute

// maxTokenName is the longest token name, in bytes.
const maxTokenName = 100

// tokenEncoding is lower-case base32 (RFC 4648 §6 alphabet, lower-cased) without padding.
var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Principal is who a verified token speaks for. It is a store type so that the JSON API
// (internal/web/api) names it without importing admin.
type Principal = store.APIPrincipal

// TokenInput is a token to create: Account is the address a ScopeAccount token acts for, and
// must be empty for ScopeAdmin.
type TokenInput struct {
	Name    string
	Scope   store.APITokenScope
	Account string
}

// Tokens are the operations on API tokens. Store must also keep API tokens and server
// secrets (store.APITokenStore, store.LoginStore); Now is time.Now when nil. One Tokens may
// serve many requests at once: it keeps the hashing key once read.
type Tokens struct {
	Store store.Store
	Now   func() time.Time

	mu  sync.Mutex
	key []byte
}

// Tokens returns the token operations on a's store.
func (a *Admin) Tokens() *Tokens { return &Tokens{Store: a.Store} }

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Tokens) stores() (store.APITokenStore, store.LoginStore, error) {
	ts, ok := t.Store.(store.APITokenStore)
	ls, ok2 := t.Store.(store.LoginStore)
	if !ok || !ok2 {
		return nil, nil, &operr.Error{Code: operr.Unsupported, Message: "this store keeps no API tokens"}
	}
	return ts, ls, nil
}

// hashKey returns the key of the secrets' hashes, making it the first time.
func (t *Tokens) hashKey(ctx context.Context, ls store.LoginStore) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.key != nil {
		return t.key, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	key, err := ls.ServerSecret(ctx, tokenKeyName, fresh)
	if err != nil {
		return nil, err
	}
	t.key = key
	return key, nil
}

// checkTokenName refuses an empty name, or one that is not one line of printable text.
func checkTokenName(name string) error {
	if strings.TrimSpace(name) == "" {
		return operr.New(operr.Invalid, "name", name, nil, "a token needs a name")
	}
	if len(name) > maxTokenName {
		return operr.New(operr.Invalid, "name", name, nil, "token name is longer than %d bytes", maxTokenName)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return operr.New(operr.Invalid, "name", name, nil, "token name %q is not one line of text", name)
		}
	}
	return nil
}

// Create makes a token and returns it with its row. The token is in no other place: it
// cannot be shown again.
func (t *Tokens) Create(ctx context.Context, in TokenInput) (string, store.APIToken, error) {
	ts, ls, err := t.stores()
	if err != nil {
		return "", store.APIToken{}, err
	}
	if err := checkTokenName(in.Name); err != nil {
		return "", store.APIToken{}, err
	}
	row := store.APIToken{Name: in.Name, Scope: in.Scope, CreatedAt: t.now().UTC()}
	switch in.Scope {
	case store.ScopeAdmin:
		if in.Account != "" {
			return "", store.APIToken{}, operr.New(operr.Invalid, "account", in.Account, nil, "an admin token acts for no account")
		}
	case store.ScopeAccount:
		addr, err := operr.ParseAddress("account", in.Account)
		if err != nil {
			return "", store.APIToken{}, err
		}
		acc, err := t.Store.GetAccount(ctx, addr)
		if errors.Is(err, store.ErrNotFound) {
			return "", store.APIToken{}, unknownUser("account", addr, err)
		} else if err != nil {
			return "", store.APIToken{}, err
		}
		row.AccountID = acc.ID
	default:
		return "", store.APIToken{}, operr.New(operr.Invalid, "scope", string(in.Scope), nil, "token scope %q: want admin or account", in.Scope)
	}
	key, err := t.hashKey(ctx, ls)
	if err != nil {
		return "", store.APIToken{}, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", store.APIToken{}, err
	}
	secret := tokenEncoding.EncodeToString(raw)
	row.SecretHash = auth.KeyedHash(key, secret)
	row, err = ts.CreateAPIToken(ctx, row)
	if errors.Is(err, store.ErrNotFound) {
		return "", store.APIToken{}, unknownUser("account", in.Account, err)
	} else if err != nil {
		return "", store.APIToken{}, err
	}
	details := audit.Details{"name": row.Name, "scope": string(row.Scope)}
	if row.Account != "" {
		details["account"] = row.Account
	}
	if err := record(ctx, t.Store, "token.create", strconv.FormatInt(row.ID, 10), details); err != nil {
		return "", store.APIToken{}, err
	}
	return TokenPrefix + strconv.FormatInt(row.ID, 10) + "_" + secret, row, nil
}

// splitToken reads the id and secret of "ph_<id>_<secret>"; ok is false for anything else.
func splitToken(presented string) (id int64, secret string, ok bool) {
	rest, found := strings.CutPrefix(presented, TokenPrefix)
	if !found {
		return 0, "", false
	}
	num, secret, found := strings.Cut(rest, "_")
	id, err := strconv.ParseInt(num, 10, 64)
	if !found || err != nil || id <= 0 || secret == "" {
		return 0, "", false
	}
	return id, secret, true
}

// errBadToken is the one answer to every token that does not pass: it never says whether the
// id exists, the secret is wrong or the token was revoked.
func errBadToken() error {
	return operr.New(operr.Unauthorized, "token", "", nil, "invalid or revoked API token")
}

// Verify returns who the presented token speaks for. A malformed token, an unknown id, a
// wrong secret and a revoked token all fail alike with operr.Unauthorized, after the same
// work: the secret is hashed and compared (hmac.Equal) whether or not its row was found. The
// last use is written when the recorded one is older than TokenUseInterval.
func (t *Tokens) Verify(ctx context.Context, presented string) (Principal, error) {
	ts, ls, err := t.stores()
	if err != nil {
		return Principal{}, err
	}
	key, err := t.hashKey(ctx, ls)
	if err != nil {
		return Principal{}, err
	}
	id, secret, wellFormed := splitToken(presented)
	var row store.APIToken
	found := false
	if wellFormed {
		row, err = ts.GetAPIToken(ctx, id)
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, store.ErrNotFound):
			return Principal{}, err
		}
	}
	stored := row.SecretHash
	if !found {
		// The hash of nothing: the comparison below runs on a string of the same form and
		// fails.
		stored = auth.KeyedHash(key, "")
	}
	match := hmac.Equal([]byte(auth.KeyedHash(key, secret)), []byte(stored))
	if !wellFormed || !found || !match || row.Revoked() {
		return Principal{}, errBadToken()
	}
	if now := t.now(); now.Sub(row.LastUsedAt) >= TokenUseInterval {
		if err := ts.RecordAPITokenUse(ctx, row.ID, now.UTC()); err != nil {
			return Principal{}, fmt.Errorf("verify API token %d: %w", row.ID, err)
		}
	}
	return Principal{TokenID: row.ID, Name: row.Name, Scope: row.Scope, AccountID: row.AccountID, Account: row.Account}, nil
}

// List returns every token, revoked ones included, in id order.
func (t *Tokens) List(ctx context.Context) ([]store.APIToken, error) {
	ts, _, err := t.stores()
	if err != nil {
		return nil, err
	}
	return ts.ListAPITokens(ctx)
}

// Revoke revokes the token id at once: every later request with it fails.
func (t *Tokens) Revoke(ctx context.Context, id int64) error {
	ts, _, err := t.stores()
	if err != nil {
		return err
	}
	if err := ts.RevokeAPIToken(ctx, id, t.now().UTC()); errors.Is(err, store.ErrNotFound) {
		return operr.New(operr.NotFound, "id", strconv.FormatInt(id, 10), err, "unknown API token %d", id)
	} else if err != nil {
		return err
	}
	return record(ctx, t.Store, "token.revoke", strconv.FormatInt(id, 10), nil)
}
