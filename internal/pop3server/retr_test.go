package pop3server

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestWriteMessage(t *testing.T) {
	long := strings.Repeat("x", 70_000) // longer than the read buffer
	for _, tc := range []struct {
		name, in  string
		bodyLines int
		want      string
	}{
		{"empty", "", -1, ".\r\n"},
		{"plain", "A: b\r\n\r\nbody\r\n", -1, "A: b\r\n\r\nbody\r\n.\r\n"},
		{"dots", ".a\r\n\r\n.\r\n..\r\nx.\r\n", -1, "..a\r\n\r\n..\r\n...\r\nx.\r\n.\r\n"},
		{"no final CRLF", "A: b\r\n\r\nend", -1, "A: b\r\n\r\nend\r\n.\r\n"},
		{"final dot without CRLF", "A: b\r\n\r\n.", -1, "A: b\r\n\r\n..\r\n.\r\n"},
		{"bare LF", "A: b\n\n.x\n", -1, "A: b\n\n..x\n.\r\n"},
		{"top 0", "A: b\r\nC: d\r\n\r\n1\r\n2\r\n", 0, "A: b\r\nC: d\r\n\r\n.\r\n"},
		{"top 1", "A: b\r\n\r\n.1\r\n2\r\n", 1, "A: b\r\n\r\n..1\r\n.\r\n"},
		{"top beyond the body", "A: b\r\n\r\n1\r\n2", 5, "A: b\r\n\r\n1\r\n2\r\n.\r\n"},
		{"top without body", "A: b\r\n", 0, "A: b\r\n.\r\n"},
		{"top bare LF", "A: b\n\n1\n2\n", 1, "A: b\n\n1\n.\r\n"},
		{"long line", long + "\r\n." + long + "\r\n", -1, long + "\r\n.." + long + "\r\n.\r\n"},
		{"long line, dot after the buffer", "\r\n" + long + ".\r\n", -1, "\r\n" + long + ".\r\n.\r\n"},
		{"top long lines", "A: " + long + "\r\n\r\n" + long + "\r\n" + long + "\r\n", 1, "A: " + long + "\r\n\r\n" + long + "\r\n.\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := bufio.NewWriter(&out)
			sent, err := writeMessage(w, bufio.NewReaderSize(strings.NewReader(tc.in), bodyBufferSize), tc.bodyLines)
			if err != nil {
				t.Fatal(err)
			}
			w.Flush()
			if out.String() != tc.want {
				t.Errorf("got  %q\nwant %q", trim(out.String()), trim(tc.want))
			}
			if tc.bodyLines < 0 && sent != int64(len(tc.in)) {
				t.Errorf("sent %d octets, want %d", sent, len(tc.in))
			}
		})
	}
}

func trim(s string) string {
	if len(s) > 200 {
		return s[:100] + "..." + s[len(s)-100:]
	}
	return s
}

// unstuff undoes writeMessage as a client does: it reads lines up to the "." line and removes
// the first "." of every line that starts with one.
func unstuff(t *testing.T, wire []byte) []byte {
	t.Helper()
	var out []byte
	for len(wire) > 0 {
		i := bytes.IndexByte(wire, '\n')
		if i < 0 {
			t.Fatalf("no line end in %q", wire)
		}
		line := wire[:i+1]
		wire = wire[i+1:]
		if string(line) == ".\r\n" {
			if len(wire) > 0 {
				t.Fatalf("data after the end: %q", wire)
			}
			return out
		}
		if line[0] == '.' {
			line = line[1:]
		}
		out = append(out, line...)
	}
	t.Fatal("no terminating line")
	return nil
}

// FuzzWriteMessage: whatever a stored message holds, a client that unstuffs the response gets
// the message back (with CRLF added when it lacked a final line end), and a TOP response is a
// prefix of it. Seeds are in testdata/fuzz/FuzzWriteMessage.
func FuzzWriteMessage(f *testing.F) {
	f.Add([]byte("A: b\r\n\r\n.x\r\n"), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, lines uint8) {
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		if _, err := writeMessage(w, bufio.NewReaderSize(bytes.NewReader(in), 16), -1); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		want := in
		if len(in) > 0 && in[len(in)-1] != '\n' {
			want = append(bytes.Clone(in), "\r\n"...)
		}
		full := unstuff(t, out.Bytes())
		if !bytes.Equal(full, want) {
			t.Fatalf("round trip of %q gave %q", in, full)
		}
		out.Reset()
		if _, err := writeMessage(w, bufio.NewReaderSize(bytes.NewReader(in), 16), int(lines)); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if top := unstuff(t, out.Bytes()); !bytes.HasPrefix(want, top) {
			t.Fatalf("TOP %d of %q gave %q", lines, in, top)
		}
	})
}
