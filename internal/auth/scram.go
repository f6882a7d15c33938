package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-sasl"
)

// SCRAMIterations is the PBKDF2 iteration count of new SCRAM-SHA-256 salts (RFC 7677 §4: at
// least 4096).
const SCRAMIterations = 4096

// ErrChannelBinding is returned when a SCRAM client asks for channel binding ("p=" gs2 flag):
// posthorn offers SCRAM-SHA-256 without -PLUS, so the exchange fails (RFC 5802 §6).
var ErrChannelBinding = errors.New("channel binding is not supported")

// SCRAMSalt is an account's SCRAM salt and iteration count (RFC 5802 §5.1), shared by all its
// credentials: the server names them before it knows which credential the client holds.
type SCRAMSalt struct {
	Salt       []byte
	Iterations int
}

// SCRAMKeys are the stored form of one SCRAM-SHA-256 credential (RFC 5802 §3).
type SCRAMKeys struct {
	StoredKey []byte
	ServerKey []byte
}

// NewSCRAMSalt returns a fresh random salt with SCRAMIterations.
func NewSCRAMSalt() (SCRAMSalt, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return SCRAMSalt{}, fmt.Errorf("scram salt: %w", err)
	}
	return SCRAMSalt{Salt: salt, Iterations: SCRAMIterations}, nil
}

// DeriveSCRAM computes the stored form of a SCRAM-SHA-256 credential (RFC 5802 §3):
// SaltedPassword := Hi(password, salt, i); StoredKey := H(HMAC(SaltedPassword, "Client Key"));
// ServerKey := HMAC(SaltedPassword, "Server Key"), the password prepared with saslprep.
func DeriveSCRAM(password string, salt SCRAMSalt) (SCRAMKeys, error) {
	salted, err := pbkdf2.Key(sha256.New, saslprep(password), salt.Salt, salt.Iterations, sha256.Size)
	if err != nil {
		return SCRAMKeys{}, fmt.Errorf("scram keys: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return SCRAMKeys{StoredKey: stored[:], ServerKey: hmacSHA256(salted, "Server Key")}, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// SCRAMLookup returns the salt and every credential of username. For an unknown user it
// returns a stable fake salt (FakeSCRAMSalt) and no keys, so that the exchange goes on and fails
// at the proof; its error ends the exchange as is.
type SCRAMLookup func(username string) (SCRAMSalt, []SCRAMKeys, error)

// SCRAMFinish is told whether the client's proof matched one of the credentials; its error (if
// any) ends the exchange.
type SCRAMFinish func(username string, ok bool) error

// NewSCRAMServer returns the server side of SCRAM-SHA-256 over lookup and finish.
func NewSCRAMServer(lookup SCRAMLookup, finish SCRAMFinish) sasl.Server {
	return &scramServer{lookup: lookup, finish: finish, nonce: randomNonce}
}

// FakeSCRAMSalt is the salt to show for username when it has no SCRAM credentials (an unknown
// user, or one whose keys were never derived): stable per name under secret, so probing the
// salt does not tell which accounts exist.
func FakeSCRAMSalt(secret []byte, username string) SCRAMSalt {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strings.ToLower(username)))
	return SCRAMSalt{Salt: m.Sum(nil)[:saltLen], Iterations: SCRAMIterations}
}

// scramServer is the server side of SCRAM-SHA-256 (RFC 5802 §5, RFC 7677) as a sasl.Server:
// client-first-message -> server-first-message, client-final-message -> server-final-message,
// then an empty client response ends the exchange. It offers no channel binding: the gs2 flags
// "n" and "y" are accepted (RFC 5802 §6: "y" means the client could bind but believes the
// server cannot, which is true here), "p=" is refused with ErrChannelBinding.
type scramServer struct {
	lookup SCRAMLookup
	finish SCRAMFinish
	// nonce returns the server's part of the nonce.
	nonce func() string

	step            int
	username        string
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	fullNonce       string
	keys            []SCRAMKeys
}

// Next implements sasl.Server.
func (s *scramServer) Next(response []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		if len(response) == 0 {
			// No initial response: ask for the client-first-message with an empty challenge.
			s.step = 1
			return []byte{}, false, nil
		}
		s.step = 1
		return s.next(response)
	default:
		return s.next(response)
	}
}

func (s *scramServer) next(response []byte) ([]byte, bool, error) {
	switch s.step {
	case 1:
		s.step = 2
		out, err := s.clientFirst(string(response))
		return out, false, err
	case 2:
		s.step = 3
		out, err := s.clientFinal(string(response))
		return out, false, err
	case 3:
		s.step = 4
		if len(response) != 0 {
			return nil, false, ErrSASLSyntax
		}
		return nil, true, nil
	}
	return nil, false, ErrSASLSyntax
}

// clientFirst handles client-first-message = gs2-header client-first-bare, where
// gs2-header = gs2-cbind-flag "," [authzid] "," and
// client-first-bare = [reserved-mext ","] username "," nonce ["," extensions].
func (s *scramServer) clientFirst(msg string) ([]byte, error) {
	flag, rest, ok := strings.Cut(msg, ",")
	if !ok {
		return nil, ErrSASLSyntax
	}
	switch {
	case flag == "n", flag == "y":
	case strings.HasPrefix(flag, "p="):
		return nil, ErrChannelBinding
	default:
		return nil, ErrSASLSyntax
	}
	authzField, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, ErrSASLSyntax
	}
	authzid := ""
	if authzField != "" {
		v, ok := strings.CutPrefix(authzField, "a=")
		if !ok {
			return nil, ErrSASLSyntax
		}
		name, err := decodeSASLName(v)
		if err != nil {
			return nil, err
		}
		authzid = name
	}
	s.gs2Header = flag + "," + authzField + ","
	s.clientFirstBare = bare
	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 || strings.HasPrefix(attrs[0], "m=") {
		// RFC 5802 §5.1: a mandatory extension we do not know fails the authentication.
		return nil, ErrSASLSyntax
	}
	user, ok := strings.CutPrefix(attrs[0], "n=")
	if !ok {
		return nil, ErrSASLSyntax
	}
	username, err := decodeSASLName(user)
	if err != nil || username == "" {
		return nil, ErrSASLSyntax
	}
	clientNonce, ok := strings.CutPrefix(attrs[1], "r=")
	if !ok || !validNonce(clientNonce) {
		return nil, ErrSASLSyntax
	}
	if authzid != "" && !strings.EqualFold(authzid, username) {
		return nil, ErrInvalidCredentials // acting as another user is not offered
	}
	s.username = username
	salt, keys, err := s.lookup(username)
	if err != nil {
		return nil, err
	}
	s.keys = keys
	s.fullNonce = clientNonce + s.nonce()
	s.serverFirst = "r=" + s.fullNonce + ",s=" + base64.StdEncoding.EncodeToString(salt.Salt) +
		",i=" + strconv.Itoa(salt.Iterations)
	return []byte(s.serverFirst), nil
}

// clientFinal handles client-final-message = channel-binding "," nonce ["," extensions] ","
// proof, checks the proof against every credential and answers server-final-message.
func (s *scramServer) clientFinal(msg string) ([]byte, error) {
	withoutProof, proofAttr, ok := cutLast(msg, ",")
	if !ok {
		return nil, ErrSASLSyntax
	}
	proofB64, ok := strings.CutPrefix(proofAttr, "p=")
	if !ok {
		return nil, ErrSASLSyntax
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return nil, ErrSASLSyntax
	}
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 {
		return nil, ErrSASLSyntax
	}
	cb, ok := strings.CutPrefix(attrs[0], "c=")
	if !ok {
		return nil, ErrSASLSyntax
	}
	// Without channel binding, c= carries the gs2-header alone (RFC 5802 §7).
	if cb != base64.StdEncoding.EncodeToString([]byte(s.gs2Header)) {
		return nil, s.fail()
	}
	if nonce, ok := strings.CutPrefix(attrs[1], "r="); !ok || nonce != s.fullNonce {
		return nil, s.fail()
	}
	authMessage := s.clientFirstBare + "," + s.serverFirst + "," + withoutProof
	for _, k := range s.keys {
		if len(k.StoredKey) != sha256.Size {
			continue
		}
		signature := hmacSHA256(k.StoredKey, authMessage)
		clientKey := make([]byte, sha256.Size)
		subtle.XORBytes(clientKey, proof, signature)
		stored := sha256.Sum256(clientKey)
		if subtle.ConstantTimeCompare(stored[:], k.StoredKey) == 1 {
			if err := s.finish(s.username, true); err != nil {
				return nil, err
			}
			return []byte("v=" + base64.StdEncoding.EncodeToString(hmacSHA256(k.ServerKey, authMessage))), nil
		}
	}
	return nil, s.fail()
}

func (s *scramServer) fail() error {
	if err := s.finish(s.username, false); err != nil {
		return err
	}
	return ErrInvalidCredentials
}

// decodeSASLName undoes the saslname escaping of RFC 5802 §5.1: "=2C" is ",", "=3D" is "=",
// and any other "=" is an error.
func decodeSASLName(s string) (string, error) {
	if !strings.Contains(s, "=") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", ErrSASLSyntax
		}
		i += 2
	}
	return b.String(), nil
}

// validNonce: printable ASCII except "," (RFC 5802 §7).
func validNonce(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < 0x21 || n[i] > 0x7e || n[i] == ',' {
			return false
		}
	}
	return true
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// randomNonce returns 24 random bytes in base64: printable and without ",".
func randomNonce() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawStdEncoding.EncodeToString(b)
}
