package wellknown

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// MTA-STS policy modes (RFC 8461 §3.2).
const (
	ModeEnforce = "enforce"
	ModeTesting = "testing"
	ModeNone    = "none"
)

// Policy is a domain's MTA-STS policy: the text served at
// https://mta-sts.DOMAIN/.well-known/mta-sts.txt and the id of its _mta-sts TXT record.
type Policy struct {
	Text string
	ID   string
}

// MTASTSPolicy returns the policy (RFC 8461 §3.2) of a domain whose mail goes to the MX hosts
// given, in mode, cached by senders for maxAge. Lines end in CRLF, as the RFC's ABNF has it.
// The id is the first 20 hex digits of the text's SHA-256: 1 to 32 letters and digits (§3.1),
// the same for the same policy, another for any change.
func MTASTSPolicy(mode string, mx []string, maxAge time.Duration) Policy {
	var b strings.Builder
	b.WriteString("version: STSv1\r\n")
	fmt.Fprintf(&b, "mode: %s\r\n", mode)
	for _, h := range mx {
		fmt.Fprintf(&b, "mx: %s\r\n", strings.TrimSuffix(strings.ToLower(h), "."))
	}
	fmt.Fprintf(&b, "max_age: %d\r\n", int64(maxAge/time.Second))
	sum := sha256.Sum256([]byte(b.String()))
	return Policy{Text: b.String(), ID: hex.EncodeToString(sum[:10])}
}
