package mailauth

// DKIM signing of submitted mail (RFC 6376 §5, RFC 8463 for Ed25519).
//
// Keys: every local domain has two signing keys, RSA-2048 (k=rsa, what every verifier
// understands) and Ed25519 (k=ed25519, RFC 8463), made by GenerateDKIMKeys when the domain is
// added (and at start for domains that have none). Their selectors name the algorithm and the
// month they were made, "ph-rsa-YYYYMM" and "ph-ed-YYYYMM", so a new pair made for rotation
// gets new names while the old records still verify mail in transit. Private keys are kept as
// PKCS #8 DER in the store (table dkim_keys), never in files. DKIMRecord gives the TXT record to
// publish for each.
//
// Signing: a message whose From domain has keys gets one DKIM-Signature per key, newest pair
// first, RSA before Ed25519 (verifiers that do not know Ed25519 ignore that one, RFC 8463 §4),
// relaxed/relaxed canonicalisation, SHA-256, over DKIMSignedHeaders; From is listed twice
// (oversigned, RFC 6376 §8.15), so a second From added in transit breaks the signature.

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"posthorn/internal/store"
)

// DKIMSignedHeaders are the header fields every signature covers (RFC 6376 §5.4.1's list),
// From twice. Fields absent from a message are still listed, so adding one later breaks the
// signature (RFC 6376 §5.4.2).
var DKIMSignedHeaders = []string{
	"From", "From", "Reply-To", "Subject", "Date", "To", "Cc", "Resent-Date", "Resent-From",
	"Resent-To", "Resent-Cc", "In-Reply-To", "References", "List-Id", "List-Help",
	"List-Unsubscribe", "List-Unsubscribe-Post", "List-Subscribe", "List-Post", "List-Owner",
	"List-Archive", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
}

// DKIM key algorithms as stored.
const (
	DKIMAlgorithmRSA     = "rsa"
	DKIMAlgorithmEd25519 = "ed25519"
)

// dkimRSABits is the RSA key size (RFC 8301 §3.2: at least 1024, SHOULD 2048).
const dkimRSABits = 2048

// GenerateDKIMKeys makes a domain's pair of signing keys with the selectors of the month of now.
func GenerateDKIMKeys(domain string, now time.Time) ([]store.DKIMKey, error) {
	month := now.UTC().Format("200601")
	rsaKey, err := rsa.GenerateKey(rand.Reader, dkimRSABits)
	if err != nil {
		return nil, fmt.Errorf("generate rsa dkim key: %w", err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 dkim key: %w", err)
	}
	var out []store.DKIMKey
	for _, k := range []struct {
		alg, selector string
		key           any
	}{
		{DKIMAlgorithmRSA, "ph-rsa-" + month, rsaKey},
		{DKIMAlgorithmEd25519, "ph-ed-" + month, edKey},
	} {
		der, err := x509.MarshalPKCS8PrivateKey(k.key)
		if err != nil {
			return nil, fmt.Errorf("encode dkim key: %w", err)
		}
		out = append(out, store.DKIMKey{Domain: domain, Selector: k.selector, Algorithm: k.alg, PrivateKey: der})
	}
	return out, nil
}

// dkimSigner returns the private key of k.
func dkimSigner(k store.DKIMKey) (crypto.Signer, error) {
	key, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("dkim key %s of %s: %w", k.Selector, k.Domain, err)
	}
	switch key := key.(type) {
	case *rsa.PrivateKey:
		if k.Algorithm == DKIMAlgorithmRSA {
			return key, nil
		}
	case ed25519.PrivateKey:
		if k.Algorithm == DKIMAlgorithmEd25519 {
			return key, nil
		}
	}
	return nil, fmt.Errorf("dkim key %s of %s: not a %s key", k.Selector, k.Domain, k.Algorithm)
}

// DKIMRecord returns the name and value of the TXT record that publishes k's public key
// (RFC 6376 §3.6.1; for Ed25519, p= is the raw 32-byte key, RFC 8463 §4).
func DKIMRecord(k store.DKIMKey) (name, value string, err error) {
	signer, err := dkimSigner(k)
	if err != nil {
		return "", "", err
	}
	var p []byte
	switch pub := signer.Public().(type) {
	case *rsa.PublicKey:
		if p, err = x509.MarshalPKIXPublicKey(pub); err != nil {
			return "", "", err
		}
	case ed25519.PublicKey:
		p = pub
	}
	return k.Selector + "._domainkey." + k.Domain, "v=DKIM1; k=" + k.Algorithm + "; p=" + base64.StdEncoding.EncodeToString(p), nil
}

// SignDKIM reads a whole message from r and returns one DKIM-Signature header field (ending in
// CRLF) per key, in the order of keys, to be put in front of the message. It decodes every key;
// a sender that signs many messages uses a DKIMKeyCache's Sign instead.
func SignDKIM(r io.Reader, keys []store.DKIMKey) ([]string, error) {
	return signDKIM(r, keys, dkimSigner)
}

// signDKIM is SignDKIM with the private keys given by signerOf.
func signDKIM(r io.Reader, keys []store.DKIMKey, signerOf func(store.DKIMKey) (crypto.Signer, error)) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	signers := make([]*dkim.Signer, 0, len(keys))
	writers := make([]io.Writer, 0, len(keys))
	closeAll := func() {
		for _, s := range signers {
			_ = s.Close()
		}
	}
	for _, k := range keys {
		key, err := signerOf(k)
		if err != nil {
			closeAll()
			return nil, err
		}
		s, err := dkim.NewSigner(&dkim.SignOptions{
			Domain:                 k.Domain,
			Selector:               k.Selector,
			Signer:                 key,
			Hash:                   crypto.SHA256,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed,
			BodyCanonicalization:   dkim.CanonicalizationRelaxed,
			HeaderKeys:             DKIMSignedHeaders,
		})
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("dkim signer %s: %w", k.Selector, err)
		}
		signers = append(signers, s)
		writers = append(writers, s)
	}
	if _, err := io.Copy(io.MultiWriter(writers...), r); err != nil {
		closeAll()
		return nil, fmt.Errorf("dkim sign: %w", err)
	}
	var out []string
	var errs []error
	for _, s := range signers {
		if err := s.Close(); err != nil {
			errs = append(errs, err)
			continue
		}
		sig := s.Signature()
		if !strings.HasSuffix(sig, "\r\n") {
			sig += "\r\n"
		}
		out = append(out, sig)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("dkim sign: %w", err)
	}
	return out, nil
}

// EnsureDKIMKeys gives domain its pair of signing keys unless it has keys already, and returns
// the keys to sign with.
func EnsureDKIMKeys(ctx context.Context, st store.SubmissionStore, domain string, now time.Time) ([]store.DKIMKey, error) {
	keys, err := st.DKIMKeys(ctx, domain)
	if err != nil || len(keys) > 0 {
		return SigningKeys(keys), err
	}
	fresh, err := GenerateDKIMKeys(domain, now)
	if err != nil {
		return nil, err
	}
	for _, k := range fresh {
		if _, err := st.AddDKIMKey(ctx, k); err != nil && !errors.Is(err, store.ErrExists) {
			return nil, err
		}
	}
	keys, err = st.DKIMKeys(ctx, domain)
	return SigningKeys(keys), err
}

// SigningKeys picks from a domain's keys (newest first, as the store returns them) the newest
// of each algorithm, RSA first.
func SigningKeys(keys []store.DKIMKey) []store.DKIMKey {
	var rsaKey, edKey *store.DKIMKey
	for i := range keys {
		switch keys[i].Algorithm {
		case DKIMAlgorithmRSA:
			if rsaKey == nil {
				rsaKey = &keys[i]
			}
		case DKIMAlgorithmEd25519:
			if edKey == nil {
				edKey = &keys[i]
			}
		}
	}
	var out []store.DKIMKey
	for _, k := range []*store.DKIMKey{rsaKey, edKey} {
		if k != nil {
			out = append(out, *k)
		}
	}
	return out
}
