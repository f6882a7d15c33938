package message

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestParamValue(t *testing.T) {
	for _, tc := range []struct {
		params []Param
		want   string
	}{
		{[]Param{{"filename", "a.pdf"}}, "a.pdf"},
		{[]Param{{"filename*", "utf-8''r%C3%A9sum%C3%A9.scr"}}, "résumé.scr"},
		{[]Param{{"filename*", "iso-8859-1'fr'caf%E9.txt"}}, "café.txt"},
		{[]Param{{"filename", "plain.txt"}, {"filename*", "utf-8''ext.txt"}}, "ext.txt"},
		{[]Param{{"filename*0", "long"}, {"filename*1", "name.exe"}}, "longname.exe"},
		{[]Param{{"filename*1*", "%2Eexe"}, {"filename*0*", "utf-8''setup"}}, "setup.exe"},
		{[]Param{{"filename*1", "gap"}}, ""},
		{[]Param{{"name", "other"}}, ""},
	} {
		if got := ParamValue(tc.params, "filename"); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.params, got, tc.want)
		}
	}
}

// TestResizeHeader: the parse of a message, resized for fields added on top of it and
// removed from its header, is the parse of the changed message.
func TestResizeHeader(t *testing.T) {
	body := "Content-Type: multipart/mixed; boundary=B\r\nX-Drop: me\r\n\tfolded\r\nSubject: s\r\n\r\n" +
		"--B\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nhi\r\n--B\r\nContent-Type: text/plain\r\n\r\nbye\r\n--B--\r\n"
	for _, msg := range []string{body, "Subject: no body, no blank line", "Subject: x\r\n\r\nplain\r\n"} {
		changed := "Authentication-Results: mx.example.org; spf=pass\r\nReceived: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n" +
			strings.Replace(msg, "X-Drop: me\r\n\tfolded\r\n", "", 1)
		parsed, err := Parse(strings.NewReader(msg), int64(len(msg)))
		if err != nil {
			t.Fatal(err)
		}
		parsed.ResizeHeader(int64(len(changed) - len(msg)))
		want, err := Parse(strings.NewReader(changed), int64(len(changed)))
		if err != nil {
			t.Fatal(err)
		}
		gotEnv, gotStructure, _ := parsed.Marshal()
		wantEnv, wantStructure, _ := want.Marshal()
		if !bytes.Equal(gotEnv, wantEnv) || !bytes.Equal(gotStructure, wantStructure) || parsed.Size != want.Size {
			t.Errorf("resized parse of %q differs from the changed message's", msg)
		}
	}
}

func TestDecodedBody(t *testing.T) {
	for enc, in := range map[string]string{"base64": "aGVs\r\nbG8=\r\n", "quoted-printable": "h=65llo", "7bit": "hello"} {
		got, _ := io.ReadAll(DecodedBody(strings.NewReader(in), &Part{Encoding: enc}))
		if string(got) != "hello" {
			t.Errorf("%s: %q", enc, got)
		}
	}
}
