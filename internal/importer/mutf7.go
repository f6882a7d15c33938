package importer

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf16"
)

// modified UTF-7 (RFC 3501 §5.1.3): how IMAP4rev1 servers and Dovecot's Maildir++ folders name
// mailboxes outside ASCII; the store keeps UTF-8.

var errBadFolderName = errors.New("folder name is not valid modified UTF-7")

// decodeMUTF7 returns the UTF-8 form of a modified UTF-7 name: "&" starts a run of modified
// base64 (UTF-16BE, "," for "/") ended by "-", "&-" is "&".
func decodeMUTF7(name string) (string, error) {
	var b strings.Builder
	for {
		before, rest, found := strings.Cut(name, "&")
		b.WriteString(before)
		if !found {
			return b.String(), nil
		}
		run, after, ended := strings.Cut(rest, "-")
		if !ended {
			return "", errBadFolderName
		}
		name = after
		if run == "" {
			b.WriteByte('&')
			continue
		}
		raw, err := base64.RawStdEncoding.DecodeString(strings.ReplaceAll(run, ",", "/"))
		if err != nil || len(raw)%2 != 0 {
			return "", errBadFolderName
		}
		units := make([]uint16, len(raw)/2)
		for i := range units {
			units[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
		}
		b.WriteString(string(utf16.Decode(units)))
	}
}
