package message

import (
	"errors"
	"reflect"
	"testing"
)

func TestMarshalRoundTrip(t *testing.T) {
	// parseString checks the round trip of every message it parses; this one adds the sender and
	// reply-to that differ from from, and 8-bit values.
	raw := crlf("From: a@example.com\nSender: b@example.com\nReply-To: c@example.com\nSubject: caf\xe9\n" +
		"Content-Type: text/plain; name=\"\xff\"\nContent-Language: de\n\nx")
	p := parseString(t, raw)
	env, structure, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stored forms: envelope %d octets, structure %d octets", len(env), len(structure))
	got, err := UnmarshalEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sender[0].Mailbox != "b" || got.ReplyTo[0].Mailbox != "c" || got.Subject != "caf\xe9" {
		t.Errorf("envelope %+v", got)
	}
}

func TestUnmarshalCorrupt(t *testing.T) {
	p := parseString(t, crlf(nested))
	env, structure, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Every truncation fails cleanly, as does a trailing octet and another version.
	for _, b := range [][]byte{env, structure} {
		for n := range len(b) {
			if _, err := UnmarshalStructure(b[:n]); !errors.Is(err, ErrCorrupt) {
				t.Errorf("structure cut at %d: %v", n, err)
			}
			if _, err := UnmarshalEnvelope(b[:n]); !errors.Is(err, ErrCorrupt) {
				t.Errorf("envelope cut at %d: %v", n, err)
			}
		}
	}
	if _, err := UnmarshalStructure(append(structure, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing octet: %v", err)
	}
	if _, err := UnmarshalEnvelope(append([]byte{2}, env[1:]...)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("unknown version: %v", err)
	}

	// A structure whose offsets break the invariants is refused.
	bad := *p.Root
	bad.Parts = []*Part{p.Root.Parts[1], p.Root.Parts[0]} // out of order
	_, b, err := (&Parsed{Root: &bad}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := UnmarshalStructure(b); !errors.Is(err, ErrCorrupt) {
		t.Errorf("parts out of order: %v", err)
	}
	leaf := &Part{Type: "multipart", Subtype: "mixed", Encoding: "7bit"}
	if _, b, _ = (&Parsed{Root: leaf}).Marshal(); b != nil {
		if _, err := UnmarshalStructure(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("multipart without parts: %v", err)
		}
	}
	if _, _, err := (&Parsed{}).Marshal(); err == nil {
		t.Error("marshal without a root: no error")
	}
}

func TestUnmarshalInterns(t *testing.T) {
	p := parseString(t, crlf("Content-Type: text/plain; charset=utf-8\n\nx"))
	_, structure, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var got *Part
	allocs := testing.AllocsPerRun(100, func() {
		got, _ = UnmarshalStructure(structure)
	})
	if !reflect.DeepEqual(got, p.Root) {
		t.Fatalf("round trip: %s", dump(got))
	}
	// The part and its one-element parameter list: the common strings take no allocation.
	if allocs > 2 {
		t.Errorf("%v allocations to read a text/plain structure, want 2", allocs)
	}
}
