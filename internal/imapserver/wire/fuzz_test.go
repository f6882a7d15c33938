package wire

import (
	"bytes"
	"testing"
	"testing/iotest"
)

// FuzzDecode checks that the decoders never fail on content nor panic, and that their output
// does not depend on how the input is read.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("aGVsbG8=\r\n=41=\r\nb"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, decode := range []func(*bytes.Buffer, []byte, bool) error{
			func(out *bytes.Buffer, in []byte, bytewise bool) error {
				if bytewise {
					return decodeBase64(out, iotest.OneByteReader(bytes.NewReader(in)))
				}
				return decodeBase64(out, bytes.NewReader(in))
			},
			func(out *bytes.Buffer, in []byte, bytewise bool) error {
				if bytewise {
					return decodeQuotedPrintable(out, iotest.OneByteReader(bytes.NewReader(in)))
				}
				return decodeQuotedPrintable(out, bytes.NewReader(in))
			},
		} {
			var whole, bytewise bytes.Buffer
			if err := decode(&whole, data, false); err != nil {
				t.Fatal(err)
			}
			if err := decode(&bytewise, data, true); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(whole.Bytes(), bytewise.Bytes()) {
				t.Fatalf("%q read whole, %q byte by byte", whole.Bytes(), bytewise.Bytes())
			}
		}
	})
}
