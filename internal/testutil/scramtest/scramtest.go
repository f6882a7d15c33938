// Package scramtest is a SCRAM-SHA-256 client (RFC 5802 §3 and §7, RFC 7677) written from the
// RFC independently of posthorn's server, for tests. It implements go-sasl's Client, so go-smtp's
// client and the IMAP and POP3 transcript tests can use it, and it checks the server's
// signature in server-final-message.
package scramtest

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-sasl"
)

// Client is one SCRAM-SHA-256 exchange from the client side, without channel binding.
type Client struct {
	Username, Password string
	// Nonce is the client nonce; empty: a random one.
	Nonce string
	// GS2 is the gs2-header; empty: "n,,".
	GS2 string

	clientFirstBare string
	serverSignature []byte
	// Verified is set once the server's signature in server-final-message matched.
	Verified bool
}

// Start returns the mechanism name and the client-first-message.
func (c *Client) Start() (string, []byte, error) {
	if c.Nonce == "" {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		c.Nonce = base64.RawStdEncoding.EncodeToString(b)
	}
	if c.GS2 == "" {
		c.GS2 = "n,,"
	}
	name := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(c.Username)
	c.clientFirstBare = "n=" + name + ",r=" + c.Nonce
	return "SCRAM-SHA-256", []byte(c.GS2 + c.clientFirstBare), nil
}

// Next answers server-first-message with client-final-message, and checks
// server-final-message (answering it with an empty response).
func (c *Client) Next(challenge []byte) ([]byte, error) {
	msg := string(challenge)
	if strings.HasPrefix(msg, "v=") || strings.HasPrefix(msg, "e=") {
		if strings.HasPrefix(msg, "e=") {
			return nil, fmt.Errorf("server error %s", msg)
		}
		got, err := base64.StdEncoding.DecodeString(msg[2:])
		if err != nil || !hmac.Equal(got, c.serverSignature) {
			return nil, errors.New("server signature does not match")
		}
		c.Verified = true
		return []byte{}, nil
	}
	attrs := map[string]string{}
	for _, a := range strings.Split(msg, ",") {
		k, v, _ := strings.Cut(a, "=")
		attrs[k] = v
	}
	nonce, saltB64, iterS := attrs["r"], attrs["s"], attrs["i"]
	if !strings.HasPrefix(nonce, c.Nonce) || len(nonce) == len(c.Nonce) {
		return nil, fmt.Errorf("bad server nonce %q", nonce)
	}
	salt, err := base64.StdEncoding.DecodeString(saltB64)
	if err != nil {
		return nil, err
	}
	iter, err := strconv.Atoi(iterS)
	if err != nil {
		return nil, err
	}
	salted, err := pbkdf2.Key(sha256.New, c.Password, salt, iter, 32)
	if err != nil {
		return nil, err
	}
	clientKey := mac(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(c.GS2)) + ",r=" + nonce
	authMessage := c.clientFirstBare + "," + msg + "," + withoutProof
	signature := mac(storedKey[:], authMessage)
	proof := make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ signature[i]
	}
	c.serverSignature = mac(mac(salted, "Server Key"), authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// Converse runs the client side of an exchange over a line protocol whose challenges are
// "+ base64" lines (IMAP AUTHENTICATE, POP3 AUTH): it sends command, with the
// client-first-message as initial response when ir is set, answers every challenge, and
// returns the first line that is not a challenge (the protocol's final reply).
func Converse(c *Client, command string, ir bool, send func(line string), readLine func() string) (string, error) {
	_, resp, _ := c.Start()
	first := base64.StdEncoding.EncodeToString(resp)
	if ir {
		send(command + " " + first)
	} else {
		send(command)
		if line := readLine(); line != "+ " {
			return line, fmt.Errorf("reply %q, want an empty challenge", line)
		}
		send(first)
	}
	for {
		line := readLine()
		challenge, ok := strings.CutPrefix(line, "+ ")
		if !ok {
			return line, nil
		}
		data, err := base64.StdEncoding.DecodeString(challenge)
		if err != nil {
			return line, err
		}
		if resp, err = c.Next(data); err != nil {
			return line, err
		}
		send(base64.StdEncoding.EncodeToString(resp))
	}
}

// Run drives server with client, in memory, until the server is done or either side fails.
func Run(server sasl.Server, client sasl.Client) error {
	_, resp, err := client.Start()
	if err != nil {
		return err
	}
	for {
		challenge, done, err := server.Next(resp)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if resp, err = client.Next(challenge); err != nil {
			return err
		}
	}
}
