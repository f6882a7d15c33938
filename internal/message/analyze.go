package message

import "io"

// Analysis is everything a store keeps beside a message's body, computed once at delivery.
type Analysis struct {
	Parsed    *Parsed
	Envelope  []byte // Parsed.Envelope, marshalled
	Structure []byte // Parsed.Root, marshalled
	Text      Text   // the searchable text
}

// Analyze parses the stored message of size octets in r, marshals its envelope and structure
// and extracts its searchable text. It fails only when r does.
func Analyze(r io.ReaderAt, size int64) (*Analysis, error) {
	parsed, err := Parse(r, size)
	if err != nil {
		return nil, err
	}
	env, structure, err := parsed.Marshal()
	if err != nil {
		return nil, err
	}
	text, err := ExtractText(r, parsed.Root)
	if err != nil {
		return nil, err
	}
	return &Analysis{Parsed: parsed, Envelope: env, Structure: structure, Text: text}, nil
}
