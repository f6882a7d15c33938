package message

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// parseString parses raw and checks everything that must hold for any input: the offset
// invariants, the line counts against a count of the bytes, and a lossless stored form.
func parseString(t testing.TB, raw string) *Parsed {
	t.Helper()
	p, err := Parse(strings.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	checkParsed(t, raw, p)
	return p
}

func checkParsed(t testing.TB, raw string, p *Parsed) {
	t.Helper()
	root := p.Root
	if p.Size != int64(len(raw)) || root.HeaderStart != 0 || root.BodyEnd != p.Size {
		t.Fatalf("root at [%d %d], size %d, want the whole %d octets", root.HeaderStart, root.BodyEnd, p.Size, len(raw))
	}
	if err := checkPart(root, 0, p.Size); err != nil {
		t.Fatalf("%v\n%s", err, dump(root))
	}
	count := 0
	walk(root, func(pt *Part) {
		count++
		if pt.IsMessage() != (pt.Envelope != nil) {
			t.Errorf("part %s/%s: message %v, envelope %v", pt.Type, pt.Subtype, pt.Message != nil, pt.Envelope != nil)
		}
		want := int64(0)
		if reportsLines(pt) {
			want = countLines(raw[pt.BodyStart:pt.BodyEnd])
		}
		if pt.Lines != want {
			t.Errorf("part %s/%s at %d: %d lines, want %d\n%s", pt.Type, pt.Subtype, pt.HeaderStart, pt.Lines, want, dump(root))
		}
	})
	if count > MaxParts {
		t.Errorf("%d parts, more than %d", count, MaxParts)
	}

	envBytes, structBytes, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	env, err := UnmarshalEnvelope(envBytes)
	if err != nil {
		t.Fatalf("unmarshal envelope: %v", err)
	}
	if !reflect.DeepEqual(*env, p.Envelope) {
		t.Errorf("envelope after a round trip:\n%+v\nwant\n%+v", *env, p.Envelope)
	}
	got, err := UnmarshalStructure(structBytes)
	if err != nil {
		t.Fatalf("unmarshal structure: %v\n%s", err, dump(root))
	}
	if !reflect.DeepEqual(got, root) {
		t.Errorf("structure after a round trip:\n%s\nwant\n%s", dump(got), dump(root))
	}
}

// countLines counts the lines that start in body: the definition of Part.Lines.
func countLines(body string) int64 {
	if body == "" {
		return 0
	}
	return 1 + int64(strings.Count(body[:len(body)-1], "\n"))
}

// walk calls f on pt and all its descendants, encapsulated messages included.
func walk(pt *Part, f func(*Part)) {
	f(pt)
	for _, c := range pt.Parts {
		walk(c, f)
	}
	if pt.Message != nil {
		walk(pt.Message, f)
	}
}

// fetchSection serves BODY[spec] by offsets, as the package doc describes it for the IMAP layer:
// spec is a section-spec of RFC 9051 §6.4.5 without the brackets, such as "2.1.MIME" or "TEXT".
func fetchSection(raw string, root *Part, spec string) (string, bool) {
	var nums []int
	suffix := ""
	for f := range strings.SplitSeq(spec, ".") {
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			suffix = f
			continue
		}
		nums = append(nums, n)
	}
	pt, ok := root.Find(nums)
	if !ok {
		return "", false
	}
	switch suffix {
	case "":
		if len(nums) == 0 {
			return raw, true
		}
		return raw[pt.BodyStart:pt.BodyEnd], true
	case "MIME":
		if len(nums) == 0 {
			return "", false
		}
		return raw[pt.HeaderStart:pt.BodyStart], true
	case "HEADER", "TEXT":
		msg := pt
		if len(nums) > 0 {
			if msg = pt.Message; msg == nil {
				return "", false
			}
		}
		if suffix == "HEADER" {
			return raw[msg.HeaderStart:msg.BodyStart], true
		}
		return raw[msg.BodyStart:msg.BodyEnd], true
	}
	panic(fmt.Sprintf("bad section %q", spec))
}
