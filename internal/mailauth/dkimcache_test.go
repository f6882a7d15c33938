package mailauth

import (
	"crypto"
	"strings"
	"testing"
	"time"

	"posthorn/internal/store"
	"posthorn/internal/testutil/dkimpy"
)

// countingCache is a DKIMKeyCache that counts the keys it decodes.
func countingCache(parses *int) *DKIMKeyCache {
	return &DKIMKeyCache{Parse: func(k store.DKIMKey) (crypto.Signer, error) {
		*parses++
		return dkimSigner(k)
	}}
}

func dkimRecords(t *testing.T, keys []store.DKIMKey) map[string]string {
	t.Helper()
	records := map[string]string{}
	for _, k := range keys {
		name, value, err := DKIMRecord(k)
		if err != nil {
			t.Fatal(err)
		}
		records[name] = value
	}
	return records
}

// TestDKIMKeyCacheDecodesOnce: signing many messages with the same keys decodes each key once,
// and the signatures verify.
func TestDKIMKeyCacheDecodesOnce(t *testing.T) {
	keys, err := GenerateDKIMKeys("example.org", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var parses int
	c := countingCache(&parses)
	var sigs []string
	for range 5 {
		if sigs, err = c.Sign(strings.NewReader(dkimTestMessage), keys); err != nil {
			t.Fatal(err)
		}
	}
	if parses != 2 || c.Len() != 2 {
		t.Errorf("5 messages signed with 2 keys: %d decodes, %d kept; want 2, 2", parses, c.Len())
	}
	signed := []byte(strings.Join(sigs, "") + dkimTestMessage)
	if got := dkimpy.Verify(t, signed, dkimRecords(t, keys)); got != "True True" {
		t.Fatalf("dkimpy verify = %v, want True True\n%s", got, signed)
	}
}

// TestDKIMKeyCacheRotation: a rotated pair (new selectors) and a key replaced under the same
// selector are both decoded at their first use and sign from then on; the replaced key's old
// entry is dropped.
func TestDKIMKeyCacheRotation(t *testing.T) {
	old, err := GenerateDKIMKeys("example.org", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var parses int
	c := countingCache(&parses)
	if _, err := c.Sign(strings.NewReader(dkimTestMessage), old); err != nil {
		t.Fatal(err)
	}

	rotated, err := GenerateDKIMKeys("example.org", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := c.Sign(strings.NewReader(dkimTestMessage), rotated)
	if err != nil {
		t.Fatal(err)
	}
	if parses != 4 {
		t.Errorf("after rotation: %d decodes, want 4", parses)
	}
	if !strings.Contains(sigs[0], "s=ph-rsa-202612") || !strings.Contains(sigs[1], "s=ph-ed-202612") {
		t.Errorf("signatures after rotation:\n%s", strings.Join(sigs, ""))
	}
	signed := []byte(strings.Join(sigs, "") + dkimTestMessage)
	if got := dkimpy.Verify(t, signed, dkimRecords(t, rotated)); got != "True True" {
		t.Fatalf("dkimpy verify with the rotated keys = %v, want True True\n%s", got, signed)
	}

	// The same selectors with new key material (a pair made again in the same month).
	replaced, err := GenerateDKIMKeys("example.org", time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	kept := c.Len()
	if sigs, err = c.Sign(strings.NewReader(dkimTestMessage), replaced); err != nil {
		t.Fatal(err)
	}
	if parses != 6 || c.Len() != kept {
		t.Errorf("after replacing both keys: %d decodes, %d kept; want 6, %d", parses, c.Len(), kept)
	}
	signed = []byte(strings.Join(sigs, "") + dkimTestMessage)
	if got := dkimpy.Verify(t, signed, dkimRecords(t, replaced)); got != "True True" {
		t.Fatalf("dkimpy verify with the replaced keys = %v, want True True\n%s", got, signed)
	}
	if got := dkimpy.Verify(t, signed, dkimRecords(t, rotated)); got != "False False" {
		t.Errorf("a replaced key still signs: dkimpy verify with the earlier keys = %v", got)
	}
}

// TestDKIMKeyCacheBounded: the cache never keeps more than Max keys.
func TestDKIMKeyCacheBounded(t *testing.T) {
	var parses int
	c := countingCache(&parses)
	c.Max = 3
	for i := range 5 {
		keys, err := GenerateDKIMKeys("example.org", time.Date(2020+i, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Sign(strings.NewReader(dkimTestMessage), keys[1:]); err != nil {
			t.Fatal(err)
		}
		if c.Len() > 3 {
			t.Fatalf("%d keys kept, Max is 3", c.Len())
		}
	}
	if parses != 5 {
		t.Errorf("%d decodes of 5 distinct keys", parses)
	}
}
