package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"posthorn/internal/testutil/gdprtest"
)

// TestAccountExport checks the self-service export: a button on the account page, a POST
// refused without the CSRF token or a login, and the account's own data as a zip download.
func TestAccountExport(t *testing.T) {
	u := newTestUI(t)
	if _, err := u.ops.AddAppPassword(t.Context(), userAddress, "laptop"); err != nil {
		t.Fatal(err)
	}
	_, page := u.get(t, u.User, "/account/")
	wantContains(t, "account page", page, `action="/account/export"`, "Download all my data")

	resp, _ := u.postRaw(t, u.User, "/account/export", url.Values{})
	wantStatus(t, "export without CSRF token", resp, http.StatusForbidden)
	resp, _ = u.postRaw(t, u.client(t), "/account/export", url.Values{})
	wantStatus(t, "export without login", resp, http.StatusForbidden)

	resp, body := u.post(t, u.User, "/account/", "/account/export", url.Values{})
	wantStatus(t, "export", resp, http.StatusOK)
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "application/zip" ||
		!strings.Contains(cd, "attachment") || !strings.Contains(cd, "user_at_example.org") {
		t.Errorf("export headers: %q, %q", ct, cd)
	}
	files := gdprtest.ReadZip(t, []byte(body))
	var idx struct {
		Address string   `json:"address"`
		Kinds   []string `json:"kinds"`
	}
	if err := json.Unmarshal([]byte(files["index.json"]), &idx); err != nil || idx.Address != userAddress {
		t.Fatalf("index.json: %v %+v", err, idx)
	}
	if !strings.Contains(files["account.json"], `"laptop"`) {
		t.Errorf("account.json: %s", files["account.json"])
	}
	for name, text := range files {
		if strings.Contains(text, adminAddress) {
			t.Errorf("%s names another account:\n%s", name, text)
		}
	}
	if _, ok := files["mailboxes/01-INBOX.mbox"]; !ok {
		t.Errorf("no INBOX in the export: %v", files)
	}
}
