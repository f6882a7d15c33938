package message

import (
	"fmt"
	"strings"
	"testing"
)

// rfcExample is the message of the section numbering example in RFC 9051 §6.4.5.
const rfcExample = `Subject: example
Content-Type: multipart/mixed; boundary=x

--x
Content-Type: text/plain

1
--x
Content-Type: application/octet-stream

2
--x
Content-Type: message/rfc822

Subject: 3
Content-Type: multipart/mixed; boundary=3x

--3x
Content-Type: text/plain

3.1
--3x
Content-Type: application/octet-stream

3.2
--3x--
--x
Content-Type: multipart/mixed; boundary=4x

--4x
Content-Type: image/gif

4.1
--4x
Content-Type: message/rfc822

Subject: 4.2
Content-Type: multipart/mixed; boundary=42x

--42x
Content-Type: text/plain

4.2.1
--42x
Content-Type: multipart/alternative; boundary=422x

--422x
Content-Type: text/plain

4.2.2.1
--422x
Content-Type: text/richtext

4.2.2.2
--422x--
--42x--
--4x--
--x--
`

func TestFind(t *testing.T) {
	p := parseString(t, crlf(rfcExample))
	tests := []struct {
		section []int
		want    string // type/subtype, or "" for none
	}{
		{nil, "multipart/mixed"},
		{[]int{1}, "text/plain"},
		{[]int{2}, "application/octet-stream"},
		{[]int{3}, "message/rfc822"},
		{[]int{3, 1}, "text/plain"},
		{[]int{3, 2}, "application/octet-stream"},
		{[]int{4}, "multipart/mixed"},
		{[]int{4, 1}, "image/gif"},
		{[]int{4, 2}, "message/rfc822"},
		{[]int{4, 2, 1}, "text/plain"},
		{[]int{4, 2, 2}, "multipart/alternative"},
		{[]int{4, 2, 2, 1}, "text/plain"},
		{[]int{4, 2, 2, 2}, "text/richtext"},
		{[]int{0}, ""},
		{[]int{-1}, ""},
		{[]int{5}, ""},
		{[]int{1, 1}, ""}, // a text part inside a multipart has no part 1
		{[]int{3, 3}, ""}, // the encapsulated multipart has two parts
		{[]int{4, 1, 1}, ""},
		{[]int{4, 2, 2, 3}, ""},
	}
	for _, tt := range tests {
		got := ""
		if pt, ok := p.Root.Find(tt.section); ok {
			got = pt.Type + "/" + pt.Subtype
		}
		if got != tt.want {
			t.Errorf("Find(%v) = %q, want %q", tt.section, got, tt.want)
		}
	}
	// Each text part holds its own section number.
	for _, s := range []string{"1", "3.1", "4.2.1", "4.2.2.1", "4.2.2.2"} {
		if got, _ := fetchSection(crlf(rfcExample), p.Root, s); got != s {
			t.Errorf("BODY[%s] = %q", s, got)
		}
	}
	n := 0
	eachSection(p.Root, nil, func(section []int, want *Part) {
		n++
		if got, ok := p.Root.Find(section); !ok || got != want {
			t.Errorf("Find(%v) = %p, %v; want %p", section, got, ok, want)
		}
	})
	if n != 12 {
		t.Errorf("%d sections, want the 12 of the example", n)
	}
}

func ExamplePart_Find() {
	raw := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nhello\r\n--b--\r\n"
	p, err := Parse(strings.NewReader(raw), int64(len(raw)))
	if err != nil {
		fmt.Println(err)
		return
	}
	part, ok := p.Root.Find([]int{1})
	fmt.Println(ok, part.Type, part.Subtype, raw[part.BodyStart:part.BodyEnd])
	// Output: true text plain hello
}
