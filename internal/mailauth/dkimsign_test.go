package mailauth

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"posthorn/internal/testutil/dkimpy"
)

const dkimTestMessage = "From: Alice <alice@example.org>\r\n" +
	"To: bob@example.net\r\n" +
	"Subject: signed   with  both\r\n" +
	"Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n" +
	"Message-ID: <1@example.org>\r\n" +
	"\r\n" +
	"Hello Bob,  \r\n" +
	"this body is relaxed.\r\n\r\n\r\n"

func TestSignDKIMVerifiedByDkimpy(t *testing.T) {
	keys, err := GenerateDKIMKeys("example.org", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if keys[0].Selector != "ph-rsa-202611" || keys[1].Selector != "ph-ed-202611" {
		t.Fatalf("selectors %s %s", keys[0].Selector, keys[1].Selector)
	}
	records := dkimRecords(t, keys)
	sigs, err := SignDKIM(strings.NewReader(dkimTestMessage), SigningKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 || !strings.Contains(sigs[0], "a=rsa-sha256") || !strings.Contains(sigs[1], "a=ed25519-sha256") {
		t.Fatalf("signatures:\n%s", strings.Join(sigs, ""))
	}
	for _, s := range sigs {
		if !strings.Contains(s, "c=relaxed/relaxed") || !strings.Contains(strings.ToLower(s), "h=from:from:") {
			t.Errorf("signature not relaxed/relaxed with From oversigned:\n%s", s)
		}
	}
	signed := []byte(strings.Join(sigs, "") + dkimTestMessage)
	if got := dkimpy.Verify(t, signed, records); got != "True True" {
		t.Fatalf("dkimpy verify = %v, want True True\n%s", got, signed)
	}
	// A second From added in transit breaks both (oversigning); so does a changed body.
	for _, bad := range [][]byte{
		[]byte(strings.Join(sigs, "") + "From: mallory@example.com\r\n" + dkimTestMessage),
		bytes.Replace(signed, []byte("Hello Bob"), []byte("Hello Eve"), 1),
	} {
		if got := dkimpy.Verify(t, bad, records); got != "False False" {
			t.Errorf("dkimpy verify of a tampered message = %v, want False False", got)
		}
	}
}
