package test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posthorn/internal/campaign"
	"posthorn/internal/store"
	"posthorn/internal/testutil/storeenv"
)

// campaignFixture is a tracked campaign to one subscriber written into a server's store
// while it is stopped, with the public URLs of its recipient.
type campaignFixture struct {
	id    int64
	links campaign.Links
	link  string
}

func newCampaignFixture(t *testing.T, s *Server) campaignFixture {
	t.Helper()
	s.MustCLI("", "list", "create", "news")
	s.MustCLI("", "subscriber", "add", "carol@remote.example", "--list", "news", "--tracking")
	st := storeenv.OpenStore(t, filepath.Join(s.Dir, "data", "posthorn.db"))
	defer st.Close()
	ctx := t.Context()
	cs := st.(store.CampaignStore)
	l, err := cs.GetList(ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	c, err := cs.CreateCampaign(ctx, store.Campaign{Name: "june", Subject: "June", Text: "hi", From: "news@test.example",
		ListIDs: []int64{l.ID}, Tracking: true})
	if err != nil {
		t.Fatal(err)
	}
	f := campaignFixture{id: c.ID, link: "https://example.com/offer"}
	if err := cs.SetCampaignLinks(ctx, c.ID, []string{"", f.link}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.FillRecipients(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := cs.StreamRecipients(ctx, c.ID, 0, 1)
	if err != nil || len(rows) != 1 {
		t.Fatalf("recipients %v, %v", rows, err)
	}
	signer, err := (&campaign.Service{Store: cs}).Signer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.links = campaign.Links{Signer: signer, Base: "http://" + s.HTTP, Domain: "test.example", Campaign: c.ID,
		Recipient: rows[0].ID, Subscriber: rows[0].SubscriberID}
	return f
}

// TestCampaignPublicEndpoints: the built binary serves the pixel, tracked links, one-click
// unsubscribe and the subscription form on its HTTP listener, and records the events still
// buffered when it is stopped.
func TestCampaignPublicEndpoints(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "[campaign]\npublic_url = \"https://news.test.example\"\n")
	f := newCampaignFixture(t, s)
	s.Start()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	call := func(method, url, contentType, body string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, u := range []string{f.links.OpenURL(), "http://" + s.HTTP + "/t/o/forged.gif"} {
		if resp, body := call("GET", u, "", ""); resp.StatusCode != 200 || len(body) != 43 || resp.Header.Get("Content-Type") != "image/gif" {
			t.Errorf("GET %s = %d, %d bytes", u, resp.StatusCode, len(body))
		}
	}
	if resp, _ := call("GET", f.links.ClickURL(1, f.link), "", ""); resp.StatusCode != 302 || resp.Header.Get("Location") != f.link {
		t.Errorf("click = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := call("GET", f.links.ClickURL(1, "https://evil.example/"), "", ""); resp.StatusCode != 404 || resp.Header.Get("Location") != "" {
		t.Errorf("click signed for another URL = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := call("POST", "http://"+s.HTTP+campaign.PathSubscribe+"news", "application/json", `{"email":"dave@remote.example","name":"Dave"}`)
	var answer struct{ Status string }
	if err := json.Unmarshal([]byte(body), &answer); err != nil || resp.StatusCode != 200 || answer.Status != "subscribed" {
		t.Errorf("subscribe = %d %s", resp.StatusCode, body)
	}
	if resp, _ := call("GET", f.links.UnsubscribeURL(), "", ""); resp.StatusCode != 200 {
		t.Errorf("GET unsubscribe = %d", resp.StatusCode)
	}
	if resp, _ := call("POST", f.links.UnsubscribeURL(), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); resp.StatusCode != 200 {
		t.Errorf("one-click unsubscribe = %d", resp.StatusCode)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, s.Log())
	}
	if out := s.MustCLI("", "subscriber", "list", "--list", "news"); !strings.Contains(out, "dave@remote.example") ||
		!strings.Contains(out, "unsubscribed") {
		t.Errorf("subscribers:\n%s", out)
	}
	st := storeenv.OpenStore(t, filepath.Join(s.Dir, "data", "posthorn.db"))
	defer st.Close()
	stats, err := st.(store.CampaignStore).CampaignStats(t.Context(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Events[store.EventOpen].Human != 1 || stats.Events[store.EventClick].Human != 1 || stats.Events[store.EventUnsubscribe].Total() != 1 {
		t.Errorf("events after shutdown %+v, want an open, a click and an unsubscribe", stats.Events)
	}
}

// TestCampaignWebhooks: the server started with a [[campaign.webhooks]] table POSTs the events
// that happen after its start to the receiver, signed with the webhook's secret.
func TestCampaignWebhooks(t *testing.T) {
	t.Parallel()
	type delivery struct {
		timestamp, signature string
		body                 []byte
	}
	got := make(chan delivery, 16)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Get("X-Posthorn-Timestamp"), r.Header.Get("X-Posthorn-Signature"), b}
	}))
	defer receiver.Close()
	s := NewServer(t, "[campaign]\npublic_url = \"https://news.test.example\"\n"+
		"[[campaign.webhooks]]\nurl = \""+receiver.URL+"\"\nsecret = \"s3cret\"\nevents = [\"open\"]\n")
	f := newCampaignFixture(t, s)
	s.Start()
	defer s.Stop()
	deadline := time.After(30 * time.Second)
	for {
		// The webhook starts at the newest event when first seen: fetch the pixel until an
		// open arrives.
		resp, err := http.Get(f.links.OpenURL())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		select {
		case d := <-got:
			mac := hmac.New(sha256.New, []byte("s3cret"))
			mac.Write([]byte(d.timestamp + "." + string(d.body)))
			if d.signature != "v1="+hex.EncodeToString(mac.Sum(nil)) {
				t.Errorf("signature %q does not match the body", d.signature)
			}
			if !strings.Contains(string(d.body), `"open"`) || !strings.Contains(string(d.body), "carol@remote.example") {
				t.Errorf("batch %s lacks carol's open", d.body)
			}
			return
		case <-time.After(500 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no webhook request within 30 s\n%s", s.Log())
		}
	}
}
