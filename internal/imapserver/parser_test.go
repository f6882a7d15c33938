package imapserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parseStream parses every command of input as a session would, without executing them: it
// returns a line per command, "tag NAME args" or "tag BAD/NO ...", and the continuations sent.
func parseStream(input string) (results []string, conts int, err error) {
	p := newParser(bufio.NewReaderSize(strings.NewReader(input), 4096), func() error { conts++; return nil })
	for {
		c, spec, err := parseCommand(p)
		if err == nil {
			err = parseArgs(p, spec, c)
		}
		if err == nil {
			if a, ok := c.args.(*appendArgs); ok {
				if a.lit.size > 1<<20 {
					err = &response{status: "NO", code: "TOOBIG", text: "too big"}
				} else {
					if err = p.acceptLiteral(a.lit); err == nil {
						var body []byte
						body, err = readN(p.r, a.lit.size)
						if err == nil {
							err = finishAppend(p, a)
							results = append(results, fmt.Sprintf("%s APPEND %q %v %q", c.tag, a.mailbox, a.flags, body))
							if err == nil {
								continue
							}
						}
					}
				}
			}
		}
		var pe *response
		switch {
		case err == nil:
			results = append(results, fmt.Sprintf("%s %s %s", c.tag, c.name, describe(c.args)))
		case errors.As(err, &pe):
			results = append(results, fmt.Sprintf("%s %s", c.tag, pe.status))
			if err := p.skip(); err == io.EOF {
				return results, conts, nil
			} else if err != nil {
				return results, conts, err
			}
		case err == io.EOF:
			return results, conts, nil
		default:
			return results, conts, err
		}
	}
}

func readN(r io.Reader, n int64) ([]byte, error) {
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}

func describe(args any) string {
	if args == nil {
		return ""
	}
	return strings.TrimPrefix(fmt.Sprintf("%+v", args), "&")
}

func TestParseCommands(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  []string
		conts int
	}{
		{"a1 NOOP\r\n", []string{"a1 NOOP "}, 0},
		{"a1 noop\r\na2 capability\n", []string{"a1 NOOP ", "a2 CAPABILITY "}, 0},
		{"a1 LOGIN alice \"p a\\\"ss\"\r\n", []string{`a1 LOGIN {user:alice password:p a"ss}`}, 0},
		{"a1 LOGIN {5}\r\nalice {3+}\r\nabc\r\n", []string{`a1 LOGIN {user:alice password:abc}`}, 1},
		{"a1 LOGIN alice\r\n", []string{"a1 BAD"}, 0},
		{"+a NOOP\r\n", []string{" BAD"}, 0},
		{"a1 FROB\r\n", []string{"a1 BAD"}, 0},
		{"a1 NOOP extra\r\n", []string{"a1 BAD"}, 0},
		// UID forms exist for the commands that have them only; only UID EXPUNGE takes a set.
		{"a1 UID NOOP\r\na2 UID LOGIN a b\r\n", []string{"a1 BAD", "a2 BAD"}, 0},
		{"a1 uid expunge 1:5\r\na2 EXPUNGE\r\n", []string{"a1 UID EXPUNGE {set:{ranges:[{start:1 stop:5}] saved:false}}", "a2 EXPUNGE "}, 0},
		{"a1 EXPUNGE 1:5\r\na2 UID EXPUNGE\r\n", []string{"a1 BAD", "a2 BAD"}, 0},
		{"a1 UID MOVE 1 Trash\r\n", []string{"a1 UID MOVE {set:{ranges:[{start:1 stop:1}] saved:false} mailbox:Trash}"}, 0},
		// A refused command's non-synchronizing literal is skipped; the next command parses.
		{"a1 FROB {3+}\r\nabc\r\na2 NOOP\r\n", []string{"a1 BAD", "a2 NOOP "}, 0},
		// A synchronizing one gets no continuation.
		{"a1 FROB {3}\r\na2 NOOP\r\n", []string{"a1 BAD", "a2 NOOP "}, 0},
		{"a1 SELECT INBOX (CONDSTORE)\r\n", []string{"a1 SELECT {mailbox:INBOX condstore:true qresync:<nil>}"}, 0},
		{"a1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 7 VANISHED)\r\n", nil, 0},
		{"a1 STORE 1,3:5 (UNCHANGEDSINCE 12) +FLAGS.SILENT (\\seen $Junk)\r\n",
			[]string{`a1 STORE {set:{ranges:[{start:1 stop:1} {start:3 stop:5}] saved:false} unchangedSince:12 hasUnchanged:true op:+FLAGS silent:true flags:[\Seen $Junk]}`}, 0},
		{"a1 STORE $ -FLAGS \\Deleted \\Draft\r\n",
			[]string{`a1 STORE {set:{ranges:[] saved:true} unchangedSince:0 hasUnchanged:false op:-FLAGS silent:false flags:[\Deleted \Draft]}`}, 0},
		{"a1 APPEND INBOX (\\Seen) \" 7-Feb-2024 10:11:12 +0100\" {5}\r\nhello\r\n", []string{`a1 APPEND "INBOX" [\Seen] "hello"`}, 1},
		{"a1 APPEND INBOX {5+}\r\nhello\r\na2 NOOP\r\n", []string{`a1 APPEND "INBOX" [] "hello"`, "a2 NOOP "}, 0},
		{"a1 APPEND INBOX UTF8 (~{2+}\r\nhi)\r\n", []string{`a1 APPEND "INBOX" [] "hi"`}, 0},
		{"a1 APPEND INBOX {99999999+}\r\n", []string{"a1 NO"}, 0},
		{"a1 LOGIN {999999}\r\na2 NOOP\r\n", []string{"a1 BAD", "a2 NOOP "}, 0},
		{"a1 LIST \"\" ~foo\r\n", nil, 0},
		{"a1 SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\r\n", nil, 0},
		{"a1 LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*\r\n", nil, 0},
		{"a1 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX \"Sent*\") RETURN (CHILDREN STATUS (MESSAGES SIZE))\r\n", nil, 0},
		{"a1 LIST (RECURSIVEMATCH) \"\" *\r\n", []string{"a1 BAD"}, 0},
		{"a1 FETCH 1 BODY[1.2.HEADER.FIELDS.NOT (From \"To\")]<0.10>\r\n", nil, 0},
		{"a1 FETCH 1 BODY[1.]\r\n", []string{"a1 BAD"}, 0},
		{"a1 FETCH 1 BODY[MIME]\r\n", []string{"a1 BAD"}, 0},
		{"a1 FETCH 1 (BINARY.PEEK[1]<0.5> BINARY.SIZE[2])\r\n", nil, 0},
		{"a1 FETCH 1:* full\r\n", nil, 0},
		{"a1 SEARCH RETURN (MIN COUNT SAVE) CHARSET UTF-8 OR (FROM x NOT SEEN) UID 1:5,* HEADER X-Spam yes SINCE 1-Feb-2024 LARGER 100 MODSEQ \"/flags/\\\\draft\" all 620162338\r\n", nil, 0},
		{"a1 SEARCH NOT\r\n", []string{"a1 BAD"}, 0},
		{"a1 SEARCH ()\r\n", []string{"a1 BAD"}, 0},
		{"a1 SEARCH " + strings.Repeat("NOT ", 200) + "ALL\r\n", []string{"a1 BAD"}, 0},
		{"a1 SEARCH SINCE 30-Feb-2024\r\n", []string{"a1 BAD"}, 0},
		{"a1 CREATE Foo (USE (\\Sent))\r\n", []string{`a1 CREATE {mailbox:Foo use:[\Sent]}`}, 0},
		{"a1 ID (\"name\" \"x\" \"version\" NIL)\r\n", []string{`a1 ID {params:[name x version ]}`}, 0},
		{"a1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n", []string{`a1 AUTHENTICATE {mechanism:PLAIN initial:AGFsaWNlAHNlY3JldA== hasIR:true}`}, 0},
		{"a1 STATUS INBOX (MESSAGES UIDNEXT FOO)\r\n", []string{"a1 BAD"}, 0},
		{"a1 ENABLE CONDSTORE utf8=accept\r\n", []string{`a1 ENABLE {caps:[CONDSTORE UTF8=ACCEPT]}`}, 0},
		{"a1 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:3 2:4)))\r\n", nil, 0},
	} {
		got, conts, err := parseStream(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if tc.want == nil {
			if len(got) != 1 || strings.Contains(got[0], " BAD") || strings.Contains(got[0], " NO") {
				t.Errorf("%q: got %q, want it parsed", tc.in, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, tc.want) || conts != tc.conts {
			t.Errorf("%q:\n got %q (%d continuations)\nwant %q (%d)", tc.in, got, conts, tc.want, tc.conts)
		}
	}
}

func TestLineTooLong(t *testing.T) {
	in := "a1 NOOP " + strings.Repeat("x", maxLine+10) + "\r\na2 NOOP\r\n"
	got, _, err := parseStream(in)
	if err != nil || !reflect.DeepEqual(got, []string{" BAD", "a2 NOOP "}) {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestDateTime(t *testing.T) {
	for in, want := range map[string]string{
		`" 7-Feb-2024 10:11:12 +0100"`: "2024-02-07T10:11:12+01:00",
		`"17-Jul-1996 02:44:25 -0700"`: "1996-07-17T02:44:25-07:00",
		`"7-Feb-2024 10:11:12 +0000"`:  "2024-02-07T10:11:12Z",
		`"7-Feb-2024 10:11:12"`:        "",
		`"31-Apr-2024 10:11:12 +0000"`: "",
	} {
		p := &parser{line: []byte(in)}
		got, err := p.dateTime()
		if want == "" {
			if err == nil {
				t.Errorf("%s: accepted as %v", in, got)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339) != want {
			t.Errorf("%s: %v %v, want %s", in, got, err, want)
		}
	}
}

func TestMUTF7(t *testing.T) {
	for utf, enc := range map[string]string{
		"INBOX":                  "INBOX",
		"Entwürfe":               "Entw&APw-rfe",
		"~peter/mail/台北/日本語":     "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
		"A&B":                    "A&-B",
		"😀":                      "&2D3eAA-",
		"Gesendete Objekte & co": "Gesendete Objekte &- co",
	} {
		if got := encodeMUTF7(utf); got != enc {
			t.Errorf("encode %q = %q, want %q", utf, got, enc)
		}
		if got, err := decodeMUTF7(enc); err != nil || got != utf {
			t.Errorf("decode %q = %q %v, want %q", enc, got, err, utf)
		}
	}
	for _, bad := range []string{"&", "&AGE", "&AGE-" /* printable "a" */, "&2D0-", "Entwürfe", "&U,BTF-"} {
		if got, err := decodeMUTF7(bad); err == nil {
			t.Errorf("decode %q = %q, want an error", bad, got)
		}
	}
}

func TestCompactUIDs(t *testing.T) {
	if got := compactUIDs([]uint32{1, 2, 3, 7, 9, 10}); got != "1:3,7,9:10" {
		t.Fatal(got)
	}
}
