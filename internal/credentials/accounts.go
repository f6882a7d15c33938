package credentials

import (
	"context"
	"errors"
	"fmt"

	"posthorn/internal/auth"
	"posthorn/internal/store"
)

// AddAccount creates an account with password: its argon2id hash and SCRAM keys.
func AddAccount(ctx context.Context, st Store, address, password string) (store.Account, error) {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return store.Account{}, err
	}
	acc, err := st.AddAccount(ctx, address, hash)
	if err != nil {
		return store.Account{}, err
	}
	return acc, setSCRAM(ctx, st, acc, password)
}

// SetPassword replaces an account's password: its argon2id hash and SCRAM keys. The store drops
// the old SCRAM keys as soon as the hash changes, so the old password never passes SCRAM.
func SetPassword(ctx context.Context, st Store, address, password string) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	if err := st.SetPassword(ctx, address, hash); err != nil {
		return err
	}
	acc, err := st.GetAccount(ctx, address)
	if err != nil {
		return err
	}
	return setSCRAM(ctx, st, acc, password)
}

func setSCRAM(ctx context.Context, st Store, acc store.Account, password string) error {
	keys, err := deriveSCRAM(ctx, st, acc, password)
	if err != nil {
		return err
	}
	return st.SetAccountSCRAM(ctx, acc.ID, keys)
}

// deriveSCRAM derives the SCRAM keys of password under the account's salt, giving the account
// a salt first if it has none.
func deriveSCRAM(ctx context.Context, st Store, acc store.Account, password string) (store.SCRAMKeys, error) {
	fresh, err := auth.NewSCRAMSalt()
	if err != nil {
		return store.SCRAMKeys{}, err
	}
	salt, err := st.EnsureSCRAMSalt(ctx, acc.ID, fresh)
	if err != nil {
		return store.SCRAMKeys{}, err
	}
	return auth.DeriveSCRAM(password, salt)
}

// appKeyName names the server secret that keys the app passwords' hashes.
const appKeyName = "app-password-key"

// appPasswordKey returns the server secret of the app passwords' keyed hashes, making it the
// first time.
func appPasswordKey(ctx context.Context, ls store.LoginStore) ([]byte, error) {
	return ls.ServerSecret(ctx, appKeyName, newSecret())
}

// AddAppPassword generates an app password called name for the account at address, stores its
// keyed hash and SCRAM keys, and returns it: it is shown once and never stored in clear. App
// passwords are random (auth.RandomPassword: 20 characters of 56, over 110 bits), so a fast
// keyed hash protects them as well as argon2id would and lets a login find one by its hash
// instead of trying each.
func AddAppPassword(ctx context.Context, st Store, address, name string) (string, error) {
	if name == "" {
		return "", errors.New("app password name must not be empty")
	}
	acc, err := st.GetAccount(ctx, address)
	if err != nil {
		return "", err
	}
	password, err := auth.RandomPassword()
	if err != nil {
		return "", err
	}
	key, err := appPasswordKey(ctx, st)
	if err != nil {
		return "", err
	}
	keys, err := deriveSCRAM(ctx, st, acc, password)
	if err != nil {
		return "", err
	}
	p := store.AppPassword{AccountID: acc.ID, Name: name, PasswordHash: auth.KeyedHash(key, password), SCRAM: keys}
	if _, err := st.AddAppPassword(ctx, p); err != nil {
		return "", fmt.Errorf("app password %q of %s: %w", name, address, err)
	}
	return password, nil
}
