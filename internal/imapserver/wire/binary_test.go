package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// base64Message is the message of Dovecot imaptest's fetch-binary-mime-base64 test, with CRLF
// line ends, and a sixth part that decodes to NULs.
const base64Message = fooBarHeader + `Root MIME prologue

--foo bar
Content-Type: text/x-myown; charset=us-ascii
Content-Transfer-Encoding: base64


aGVs
bG8gd29y
bGQ=

--foo bar
Content-Type: text/x-myown; charset=us-ascii
Content-Transfer-Encoding: base64

  aGVs    
 bG8g  
   d29y  	 
    bGQ= 


--foo bar
Content-Type: text/x-myown; charset=us-ascii
Content-Transfer-Encoding: base64

aGVsbG8g
dG8geW91IHRv
bw==

--foo bar
Content-Type: text/x-myown; charset=us-ascii
Content-Transfer-Encoding: base64

aGVsbG8gdG8gZXZlcnlvbmUh
--foo bar
Content-Type: text/x-myown; charset=us-ascii
Content-Transfer-Encoding: BASE64

YWJjZGVmZw1oaWprbA0KbW5vCnBxcnN0dXZxeHl6

--foo bar
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAEC
--foo bar
Content-Type: application/octet-stream
Content-Transfer-Encoding: x-uuencode

begin 644 x
--foo bar--
Root MIME epilogue
`

// qpMessage is the message of imaptest's fetch-binary-mime-qp test, with CRLF line ends.
const qpMessage = fooBarHeader +
	"Root MIME prologue\n" +
	"\n" +
	"--foo bar\n" +
	"Content-Type: text/x-myown; charset=us-ascii\n" +
	"Content-Transfer-Encoding: quoted-printable\n" +
	"\n" +
	"hello  \n" +
	"bar=\n" +
	"\n" +
	"foo\t=\n" +
	"bar\n" +
	"foo\t \t= \n" +
	"=62\n" +
	"foo = \t\n" +
	"bar\n" +
	"foo =\n" +
	"=62\n" +
	"foo  \n" +
	"bar=\n" +
	"\n" +
	"foo_bar\n" +
	"\n" +
	"--foo bar--\n" +
	"Root MIME epilogue\n"

// qpDecoded is the first part of qpMessage decoded, as imaptest expects it.
const qpDecoded = "hello\r\nbar\r\nfoo\tbar\r\nfoo\t \tb\r\nfoo bar\r\nfoo b\r\nfoo\r\nbar\r\nfoo_bar\r\n"

// TestBinary fetches BINARY[] and BINARY.SIZE[] as imaptest's fetch-binary-mime-base64,
// fetch-binary-mime-qp and fetch-binary-mime tests do, with their expected replies.
func TestBinary(t *testing.T) {
	tests := []struct {
		name, raw string
		part      []int
		partial   *Partial
		want      string // the decoded octets
		literal8  bool
	}{
		{"base64", base64Message, []int{1}, nil, "hello world", false},
		{"base64 with white space", base64Message, []int{2}, nil, "hello world", false},
		{"base64", base64Message, []int{3}, nil, "hello to you too", false},
		{"base64 without line break", base64Message, []int{4}, nil, "hello to everyone!", false},
		{"base64 with CR and LF", base64Message, []int{5}, nil, "abcdefg\rhijkl\r\nmno\npqrstuvqxyz", false},
		{"base64 with NUL: literal8", base64Message, []int{6}, nil, "\x00\x01\x02", true},
		{"partial", base64Message, []int{5}, &Partial{0, 7}, "abcdefg", false},
		{"partial", base64Message, []int{5}, &Partial{0, 8}, "abcdefg\r", false},
		{"partial", base64Message, []int{5}, &Partial{0, 10}, "abcdefg\rhi", false},
		{"partial", base64Message, []int{5}, &Partial{10, 10}, "jkl\r\nmno\np", false},
		{"partial", base64Message, []int{5}, &Partial{5, 10}, "fg\rhijkl\r\n", false},
		{"partial", base64Message, []int{5}, &Partial{15, 100}, "mno\npqrstuvqxyz", false},
		{"partial past the end", base64Message, []int{5}, &Partial{30, 1}, "", false},
		{"partial without the NUL: literal", base64Message, []int{6}, &Partial{1, 2}, "\x01\x02", false},
		{"missing part", base64Message, []int{9}, nil, "", false},
		{"missing part", base64Message, []int{1, 1}, nil, "", false},
		{"quoted-printable", qpMessage, []int{1}, nil, qpDecoded, false},
		{"partial", qpMessage, []int{1}, &Partial{0, 10}, "hello\r\nbar", false},
		{"partial", qpMessage, []int{1}, &Partial{10, 10}, "\r\nfoo\tbar\r", false},
		{"partial", qpMessage, []int{1}, &Partial{20, 10}, "\nfoo\t \tb\r\n", false},
		{"partial", qpMessage, []int{1}, &Partial{15, 10}, "\tbar\r\nfoo\t", false},
		{"partial", qpMessage, []int{1}, &Partial{40, 100}, "oo b\r\nfoo\r\nbar\r\nfoo_bar\r\n", false},
		{"identity", mimeMessage, []int{1}, nil, "hello\r\n", false},
		{"identity", mimeMessage, []int{2, 1}, nil, "<p>Hello world</p>\r\n", false},
		{"multipart: as stored", mimeMessage, []int{2}, nil, crlf(mimeMessage[strings.Index(mimeMessage, "From: sub"):strings.Index(mimeMessage, "\n--foo bar--")]), false},
		{"whole message: as stored", mimeMessage, nil, nil, crlf(mimeMessage), false},
		{"whole message: partial", mimeMessage, nil, &Partial{6, 4}, "user", false},
		{"binary with NUL: literal8", "Content-Transfer-Encoding: binary\r\n\r\na\x00b", []int{1}, nil, "a\x00b", true},
	}
	for _, tt := range tests {
		raw := crlf(tt.raw)
		if strings.Contains(tt.raw, "\r") {
			raw = tt.raw
		}
		root := parse(t, raw).Root
		s, p := Section{Part: tt.part}, tt.partial
		partial := ""
		if p != nil {
			partial = fmt.Sprintf("<%d.%d>", p.Offset, p.Length)
		}
		want := literal(tt.want)
		if tt.literal8 {
			want = "~" + want
		}
		got, err := renderErr(t, func(w *bufio.Writer) error {
			return WriteBinary(w, strings.NewReader(raw), root, s, p)
		})
		if err != nil || got != want {
			t.Errorf("%s: BINARY[%s]%s = %q, %v; want %q", tt.name, s, partial, got, err, want)
		}
		if p != nil {
			continue
		}
		size, err := BinarySize(strings.NewReader(raw), root, s)
		if err != nil || size != int64(len(tt.want)) {
			t.Errorf("%s: BINARY.SIZE[%s] = %d, %v; want %d", tt.name, s, size, err, len(tt.want))
		}
	}
}

// TestBinarySizes checks the BINARY.SIZE replies of imaptest's fetch-binary-mime test.
func TestBinarySizes(t *testing.T) {
	raw := crlf(mimeMessage)
	root := parse(t, raw).Root
	for _, tt := range []struct {
		part []int
		want int64
	}{{nil, 602}, {[]int{1}, 7}, {[]int{2}, 298}, {[]int{2, 1}, 20}, {[]int{2, 2}, 21}} {
		s := Section{Part: tt.part}
		if got, err := BinarySize(strings.NewReader(raw), root, s); err != nil || got != tt.want {
			t.Errorf("BINARY.SIZE[%s] = %d, %v; want %d", s, got, err, tt.want)
		}
	}
}

func TestBinaryUnknownCTE(t *testing.T) {
	raw := crlf(base64Message)
	root := parse(t, raw).Root
	s := Section{Part: []int{7}}
	got, err := renderErr(t, func(w *bufio.Writer) error {
		return WriteBinary(w, strings.NewReader(raw), root, s, nil)
	})
	if !errors.Is(err, ErrUnknownCTE) || got != "" {
		t.Errorf("BINARY[7] = %q, %v; want nothing written and ErrUnknownCTE", got, err)
	}
	if _, err := BinarySize(strings.NewReader(raw), root, s); !errors.Is(err, ErrUnknownCTE) {
		t.Errorf("BINARY.SIZE[7]: %v, want ErrUnknownCTE", err)
	}
	bad := Section{Part: []int{1}, Kind: SectionText}
	if _, err := BinarySize(strings.NewReader(raw), root, bad); !errors.Is(err, ErrBadSection) {
		t.Errorf("BINARY.SIZE[1.TEXT]: %v, want ErrBadSection", err)
	}
}

func TestDecodeBase64(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"aGk=":              "hi",
		"aGk":               "hi",
		"aGV5":              "hey",
		"aGV5a":             "hey",
		"aGV5aG":            "heyh",
		"aGk=aGk=":          "hi",
		"a G\r\nk ! = junk": "hi",
		"****":              "",
		"/+/+":              "\xff\xef\xfe",
	} {
		var out bytes.Buffer
		if err := decodeBase64(&out, strings.NewReader(in)); err != nil || out.String() != want {
			t.Errorf("decodeBase64(%q) = %q, %v; want %q", in, out.String(), err, want)
		}
	}
}

func TestDecodeQuotedPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"plain":             "plain",
		"a=3Db":             "a=b",
		"a=3db":             "a=b",
		"soft=\r\nbreak":    "softbreak",
		"soft=\nbreak":      "softbreak",
		"soft=  \r\nbreak":  "softbreak",
		"trail  \r\nx":      "trail\r\nx",
		"trail\t\nx":        "trail\r\nx",
		"end  ":             "end",
		"end=":              "end",
		"end=4":             "end=4",
		"bad=zz":            "bad=zz",
		"bad=4z":            "bad=4z",
		"= x":               "= x",
		"a \t=20\r\n":       "a \t \r\n",
		"bare\rCR":          "bare\rCR",
		"cr at end\r":       "cr at end\r",
		"=\r":               "",
		"= \rx":             "= \rx",
		"a=\r\r\n":          "a=\r\r\n",
		"x=\r\n=\r\n=41":    "xA",
		"=C3=A9t=C3=A9":     "\xc3\xa9t\xc3\xa9",
		"line1\nline2\n":    "line1\r\nline2\r\n",
		"sp  =\r\n  x":      "sp    x",
		"=0D=0A":            "\r\n",
		"x" + "\t=00" + "y": "x\t\x00y",
	} {
		var out bytes.Buffer
		if err := decodeQuotedPrintable(&out, strings.NewReader(in)); err != nil || out.String() != want {
			t.Errorf("decodeQuotedPrintable(%q) = %q, %v; want %q", in, out.String(), err, want)
		}
	}
	// Held back white space stays bounded.
	long := "a" + strings.Repeat(" ", 3*maxQPSpace) + "b"
	var out bytes.Buffer
	if err := decodeQuotedPrintable(&out, strings.NewReader(long)); err != nil || out.String() != long {
		t.Errorf("a long run of spaces: %d octets, %v; want it kept", out.Len(), err)
	}
}

// TestDecodeChunks checks that the decoders give the same output whatever the reads' sizes.
func TestDecodeChunks(t *testing.T) {
	for _, in := range []string{crlf(base64Message), crlf(qpMessage), "a=\r\n=4", "x =  \r\n"} {
		for name, decode := range map[string]func(io.Writer, io.Reader) error{
			"base64": decodeBase64, "quoted-printable": decodeQuotedPrintable,
		} {
			var whole, bytewise bytes.Buffer
			if err := decode(&whole, strings.NewReader(in)); err != nil {
				t.Fatal(err)
			}
			if err := decode(&bytewise, iotest.OneByteReader(strings.NewReader(in))); err != nil {
				t.Fatal(err)
			}
			if whole.String() != bytewise.String() {
				t.Errorf("%s of %.30q: %q read whole, %q byte by byte", name, in, whole.String(), bytewise.String())
			}
		}
	}
}

// TestReadErrors checks that a failing reader gives an error, and a short one too.
func TestReadErrors(t *testing.T) {
	raw := crlf(base64Message)
	root := parse(t, raw).Root
	failing := failingReaderAt{strings.NewReader(raw[:100])}
	for _, s := range []Section{{}, {Part: []int{1}}, {Kind: SectionHeaderFields, Fields: []string{"From"}}} {
		if _, err := renderErr(t, func(w *bufio.Writer) error {
			return WriteSection(w, failing, root, s, nil)
		}); err == nil {
			t.Errorf("BODY[%s] of a failing reader: no error", s)
		}
	}
	s := Section{Part: []int{1}}
	if _, err := renderErr(t, func(w *bufio.Writer) error {
		return WriteBinary(w, failing, root, s, nil)
	}); err == nil {
		t.Error("BINARY[1] of a failing reader: no error")
	}
	short := strings.NewReader(raw[:len(raw)/2])
	s = Section{Kind: SectionText}
	if _, err := renderErr(t, func(w *bufio.Writer) error {
		return WriteSection(w, short, root, s, nil)
	}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("BODY[TEXT] of a short message: %v, want io.ErrUnexpectedEOF", err)
	}
}

// failingReaderAt fails past the octets it holds.
type failingReaderAt struct{ r *strings.Reader }

var errDisk = errors.New("disk on fire")

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.r.ReadAt(p, off)
	if err != nil {
		err = errDisk
	}
	return n, err
}
