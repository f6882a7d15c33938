package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Kind is the first payload byte: what a token grants.
type Kind byte

// The kinds of token. Their values are part of the format: never renumber them.
const (
	KindOpen Kind = iota + 1
	KindClick
	KindView
	KindUnsubscribe
	KindBounce
	KindConfirm
	KindPreferences
)

// MACLen is the length of the truncated HMAC-SHA256 in a token, in bytes.
const MACLen = 10

// MinKeyLen is the shortest key a Signer verifies with, in bytes. The store creates 32.
const MinKeyLen = 16

const domainSeparator = "posthorn-campaign-v1"

var (
	// ErrInvalid is returned for a forged, altered, truncated or malformed token, or one of
	// another kind.
	ErrInvalid = errors.New("invalid token")
	// ErrExpired is returned for a genuine Confirm token whose expiry has passed.
	ErrExpired = errors.New("token expired")
)

// encoding is RFC 4648 base32 in lower case, without padding.
var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Signer signs and verifies tokens with Key (32 random bytes, see the package doc).
type Signer struct {
	Key []byte
}

// Recipient is what Open, View, Unsubscribe and Bounce tokens carry.
type Recipient struct {
	Campaign  int64
	Recipient int64 // 0: anonymous
}

// Click is what a Click token carries.
type Click struct {
	Campaign  int64
	Recipient int64 // 0: anonymous
	Link      int64 // the link's index in the campaign
}

// Confirm is what a Confirm token carries.
type Confirm struct {
	Subscription int64
	Expires      time.Time
}

func (s Signer) mac(payload []byte, extra string) []byte {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte(domainSeparator))
	m.Write(payload)
	m.Write([]byte(extra))
	return m.Sum(nil)[:MACLen]
}

func (s Signer) sign(kind Kind, extra string, fields ...int64) string {
	payload := make([]byte, 1, 1+len(fields)*binary.MaxVarintLen64+MACLen)
	payload[0] = byte(kind)
	for _, f := range fields {
		payload = binary.AppendUvarint(payload, uint64(f))
	}
	return encoding.EncodeToString(append(payload, s.mac(payload, extra)...))
}

// verify checks tok as a token of kind with n fields and returns the fields.
func (s Signer) verify(tok string, kind Kind, extra string, n int) ([]int64, error) {
	if len(s.Key) < MinKeyLen || len(tok) > 128 {
		return nil, ErrInvalid
	}
	raw, err := encoding.DecodeString(tok)
	// The decoder ignores the unused low bits of the last character: re-encoding catches
	// a text that differs from the canonical one only there.
	if err != nil || len(raw) < 1+n+MACLen || encoding.EncodeToString(raw) != tok {
		return nil, ErrInvalid
	}
	payload, mac := raw[:len(raw)-MACLen], raw[len(raw)-MACLen:]
	if !hmac.Equal(mac, s.mac(payload, extra)) {
		return nil, ErrInvalid
	}
	// The MAC is genuine; still check the layout, so that only what sign writes is read.
	if Kind(payload[0]) != kind {
		return nil, ErrInvalid
	}
	fields := make([]int64, 0, n)
	rest := payload[1:]
	for range n {
		v, used := binary.Uvarint(rest)
		if used <= 0 || v > math.MaxInt64 || used != len(binary.AppendUvarint(nil, v)) {
			return nil, ErrInvalid
		}
		fields = append(fields, int64(v))
		rest = rest[used:]
	}
	if len(rest) != 0 {
		return nil, ErrInvalid
	}
	return fields, nil
}

func (s Signer) signRecipient(kind Kind, r Recipient) string {
	return s.sign(kind, "", r.Campaign, r.Recipient)
}

func (s Signer) verifyRecipient(kind Kind, tok string) (Recipient, error) {
	f, err := s.verify(tok, kind, "", 2)
	if err != nil {
		return Recipient{}, err
	}
	return Recipient{Campaign: f[0], Recipient: f[1]}, nil
}

// SignOpen returns the token of r's open pixel.
func (s Signer) SignOpen(r Recipient) string { return s.signRecipient(KindOpen, r) }

// VerifyOpen checks an open pixel token.
func (s Signer) VerifyOpen(tok string) (Recipient, error) { return s.verifyRecipient(KindOpen, tok) }

// SignView returns the token of r's view-in-browser link.
func (s Signer) SignView(r Recipient) string { return s.signRecipient(KindView, r) }

// VerifyView checks a view-in-browser token.
func (s Signer) VerifyView(tok string) (Recipient, error) { return s.verifyRecipient(KindView, tok) }

// SignUnsubscribe returns the token of r's unsubscribe link and mailto address.
func (s Signer) SignUnsubscribe(r Recipient) string { return s.signRecipient(KindUnsubscribe, r) }

// VerifyUnsubscribe checks an unsubscribe token.
func (s Signer) VerifyUnsubscribe(tok string) (Recipient, error) {
	return s.verifyRecipient(KindUnsubscribe, tok)
}

// SignBounce returns the token of r's VERP sender address.
func (s Signer) SignBounce(r Recipient) string { return s.signRecipient(KindBounce, r) }

// VerifyBounce checks a VERP bounce token.
func (s Signer) VerifyBounce(tok string) (Recipient, error) {
	return s.verifyRecipient(KindBounce, tok)
}

// SignClick returns the token of a rewritten link to targetURL.
func (s Signer) SignClick(c Click, targetURL string) string {
	return s.sign(KindClick, targetURL, c.Campaign, c.Recipient, c.Link)
}

// VerifyClick checks a click token. The target URL is part of the MAC but not of the token,
// so target is called with the token's unverified campaign and link to look the URL up; its
// answer is trusted only once the MAC matches. An error from target is returned wrapped;
// a link target does not know is best reported as ErrInvalid.
func (s Signer) VerifyClick(tok string, target func(campaign, link int64) (string, error)) (Click, string, error) {
	c, err := peekClick(tok)
	if err != nil {
		return Click{}, "", err
	}
	url, err := target(c.Campaign, c.Link)
	if err != nil {
		return Click{}, "", fmt.Errorf("look up link %d of campaign %d: %w", c.Link, c.Campaign, err)
	}
	f, err := s.verify(tok, KindClick, url, 3)
	if err != nil {
		return Click{}, "", err
	}
	return Click{Campaign: f[0], Recipient: f[1], Link: f[2]}, url, nil
}

// peekClick reads a click token's fields without checking its MAC.
func peekClick(tok string) (Click, error) {
	if len(tok) > 128 {
		return Click{}, ErrInvalid
	}
	raw, err := encoding.DecodeString(tok)
	if err != nil || len(raw) < 4+MACLen || Kind(raw[0]) != KindClick {
		return Click{}, ErrInvalid
	}
	rest := raw[1 : len(raw)-MACLen]
	var f [3]int64
	for i := range f {
		v, used := binary.Uvarint(rest)
		if used <= 0 || v > math.MaxInt64 {
			return Click{}, ErrInvalid
		}
		f[i] = int64(v)
		rest = rest[used:]
	}
	return Click{Campaign: f[0], Recipient: f[1], Link: f[2]}, nil
}

// SignConfirm returns the token of a double opt-in link that is valid until expires
// (whole seconds).
func (s Signer) SignConfirm(subscription int64, expires time.Time) string {
	return s.sign(KindConfirm, "", subscription, expires.Unix())
}

// VerifyConfirm checks a confirmation token at now: ErrExpired if it is genuine but its
// expiry has passed.
func (s Signer) VerifyConfirm(tok string, now time.Time) (Confirm, error) {
	f, err := s.verify(tok, KindConfirm, "", 2)
	if err != nil {
		return Confirm{}, err
	}
	c := Confirm{Subscription: f[0], Expires: time.Unix(f[1], 0).UTC()}
	if !now.Before(c.Expires) {
		return c, ErrExpired
	}
	return c, nil
}

// SignPreferences returns the token of a subscriber's preferences link.
func (s Signer) SignPreferences(subscriber int64) string {
	return s.sign(KindPreferences, "", subscriber)
}

// VerifyPreferences checks a preferences token and returns the subscriber id.
func (s Signer) VerifyPreferences(tok string) (int64, error) {
	f, err := s.verify(tok, KindPreferences, "", 1)
	if err != nil {
		return 0, err
	}
	return f[0], nil
}

// Address is a VERP address taken apart by ParseAddress.
type Address struct {
	Kind   Kind   // KindBounce or KindUnsubscribe
	Token  string // lower-cased, not yet verified
	Domain string // lower-cased
}

const (
	bouncePrefix      = "bounce+"
	unsubscribePrefix = "unsubscribe+"
)

// BounceAddress returns the VERP sender "bounce+TOKEN@domain" for a Bounce token.
func BounceAddress(tok, domain string) string { return bouncePrefix + tok + "@" + domain }

// UnsubscribeAddress returns the mailto unsubscribe address "unsubscribe+TOKEN@domain" for an
// Unsubscribe token.
func UnsubscribeAddress(tok, domain string) string { return unsubscribePrefix + tok + "@" + domain }

// ParseAddress takes apart a bounce or unsubscribe address, case-insensitively, with or
// without angle brackets. It does not verify the token. ok is false for any other address.
func ParseAddress(addr string) (a Address, ok bool) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "<"), ">")
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return Address{}, false
	}
	local, domain := addr[:at], addr[at+1:]
	switch {
	case strings.HasPrefix(local, bouncePrefix):
		a = Address{Kind: KindBounce, Token: local[len(bouncePrefix):]}
	case strings.HasPrefix(local, unsubscribePrefix):
		a = Address{Kind: KindUnsubscribe, Token: local[len(unsubscribePrefix):]}
	default:
		return Address{}, false
	}
	if a.Token == "" || strings.ContainsAny(domain, "@ \t") {
		return Address{}, false
	}
	a.Domain = domain
	return a, true
}
