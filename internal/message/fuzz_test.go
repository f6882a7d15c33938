package message

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzParse checks that Parse never fails on content nor panics, that every result keeps the
// invariants and survives Marshal, and that Find reaches every part by its section number. The
// seed corpus in testdata/fuzz/FuzzParse holds small messages with the shapes that matter:
// nesting, missing or reused boundaries, empty parts, odd line ends, hard addresses and params.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		checkParsed(t, string(data), p)
		eachSection(p.Root, nil, func(section []int, want *Part) {
			if got, ok := p.Root.Find(section); !ok || got != want {
				t.Fatalf("Find(%v) = %p, %v; want %p", section, got, ok, want)
			}
		})
	})
}

// FuzzUnmarshal checks that corrupt stored forms give errors, not panics, and that what reads
// without error keeps the offset invariants.
func FuzzUnmarshal(f *testing.F) {
	for _, raw := range []string{crlf(nested), "", crlf("From: a@b\nTo: G: c@d;\n\nx")} {
		p, err := Parse(bytes.NewReader([]byte(raw)), int64(len(raw)))
		if err != nil {
			f.Fatal(err)
		}
		env, structure, err := p.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(env)
		f.Add(structure)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = UnmarshalEnvelope(data)
		root, err := UnmarshalStructure(data)
		if err != nil {
			return
		}
		if err := checkPart(root, 0, root.BodyEnd); err != nil {
			t.Fatal(err)
		}
		eachSection(root, nil, func(section []int, want *Part) {
			if got, ok := root.Find(section); !ok || got != want {
				t.Fatalf("Find(%v) = %p, %v; want %p", section, got, ok, want)
			}
		})
	})
}

// eachSection calls f with the section number (RFC 9051 §6.4.5) of every part of the message
// whose root is root, prefix being the section of the part that encapsulates it.
func eachSection(root *Part, prefix []int, f func([]int, *Part)) {
	if !root.IsMultipart() {
		visitSection(root, append(slices.Clip(prefix), 1), f)
		return
	}
	for i, c := range root.Parts {
		visitSection(c, append(slices.Clip(prefix), i+1), f)
	}
}

func visitSection(pt *Part, section []int, f func([]int, *Part)) {
	f(section, pt)
	if pt.Message != nil {
		eachSection(pt.Message, section, f)
		return
	}
	for i, c := range pt.Parts {
		visitSection(c, append(slices.Clip(section), i+1), f)
	}
}
