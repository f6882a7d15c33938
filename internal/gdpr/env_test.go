package gdpr_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/app"
	"posthorn/internal/audit"
	"posthorn/internal/config"
	"posthorn/internal/delivery"
	"posthorn/internal/gdpr"
	"posthorn/internal/store"
)

// env is a data directory opened as the CLI opens it, with the operations and a committer.
type env struct {
	t         *testing.T
	dir       string
	data      *app.Data
	ops       *admin.Admin
	commit    *delivery.Committer
	svc       *gdpr.Service
	campaigns store.CampaignStore
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	d, err := app.OpenData(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: cfg.DataDir, data: d}
	e.ops = &admin.Admin{Store: d.Store, Credentials: d.Credentials, Blobs: d.Blobs}
	e.commit = delivery.New(d.Store, d.Blobs.Bodies(), slog.New(slog.DiscardHandler))
	e.svc = &gdpr.Service{Store: d.Store, Bodies: d.Blobs, Accounts: e.ops}
	e.campaigns = d.Store.(store.CampaignStore)
	t.Cleanup(func() {
		e.commit.Close()
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	e.must(e.ops.AddDomain(e.ctx(), "example.org"))
	return e
}

func (e *env) ctx() context.Context {
	return audit.WithActor(e.t.Context(), audit.Actor{Kind: audit.KindCLI, Name: "tester"})
}

func (e *env) must(_ any, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) check(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// deliver commits a message to local targets and remote recipients, with its text indexed.
func (e *env) deliver(msg string, targets []store.Target, outbound []store.Outbound) string {
	e.t.Helper()
	d, err := e.commit.NewDraft(e.ctx())
	e.check(err)
	defer d.Abort()
	_, err = io.WriteString(d, strings.ReplaceAll(msg, "\n", "\r\n"))
	e.check(err)
	_, err = d.Commit(e.ctx(), delivery.Message{Targets: targets, Outbound: outbound, IndexText: true})
	e.check(err)
	return d.ID()
}

// mailEvents stores mail log events.
func (e *env) mailEvents(events ...store.MailEvent) {
	e.t.Helper()
	e.check(e.data.Store.(store.MailEventStore).AddMailEvents(e.ctx(), events))
}

// subscriber subscribes address to list (created if new) with attributes, and gives it a
// ledger row of a campaign with an open and a click.
func (e *env) subscriber(address, listName string, attrs map[string]any) {
	e.t.Helper()
	cs := e.campaigns
	ctx := e.ctx()
	list, err := cs.GetList(ctx, listName)
	if err != nil {
		list, err = cs.CreateList(ctx, store.List{Name: listName, OptIn: store.OptInSingle})
		e.check(err)
	}
	_, err = cs.SubscribeToList(ctx, list.ID, []store.SubscribeRequest{{
		Subscriber: store.Subscriber{Address: address, Name: "Some One", Attributes: attrs},
		Status:     store.StatusConfirmed,
		Consent: store.Consent{At: time.Now(), Source: store.SourceForm, IP: "198.51.100.0",
			Text: "Yes, send me the news", Tracking: true},
	}})
	e.check(err)
	c, err := cs.CreateCampaign(ctx, store.Campaign{Name: "spring", ListIDs: []int64{list.ID}, Tracking: true})
	e.check(err)
	_, err = cs.FillRecipients(ctx, c.ID)
	e.check(err)
	rows, err := cs.StreamRecipients(ctx, c.ID, 0, 100)
	e.check(err)
	for _, r := range rows {
		if r.Address != address {
			continue
		}
		e.check(cs.AddEvents(ctx, []store.Event{
			{CampaignID: c.ID, RecipientID: r.ID, Kind: store.EventOpen, LinkIndex: -1, UserAgent: "Mozilla/5.0 (Tracked)",
				IP: "203.0.113.0", At: time.Now()},
			{CampaignID: c.ID, RecipientID: r.ID, Kind: store.EventClick, LinkIndex: 0, UserAgent: "Mozilla/5.0 (Tracked)",
				IP: "203.0.113.0", At: time.Now()},
		}))
	}
}

// index decodes index.json of an export and checks that it lists every other file once.
func index(t *testing.T, files map[string]string) gdpr.Index {
	t.Helper()
	var idx gdpr.Index
	if err := json.Unmarshal([]byte(files["index.json"]), &idx); err != nil {
		t.Fatalf("index.json: %v\n%s", err, files["index.json"])
	}
	listed := map[string]bool{"index.json": true}
	for _, p := range idx.Parts {
		if _, ok := files[p.File]; !ok {
			t.Errorf("index lists %s, not in the zip", p.File)
		}
		listed[p.File] = true
	}
	for name := range files {
		if !listed[name] {
			t.Errorf("%s is in the zip, not in the index", name)
		}
	}
	return idx
}

// part returns the index entry of part (and mailbox, for a mailbox).
func part(t *testing.T, idx gdpr.Index, name, mailbox string) gdpr.IndexPart {
	t.Helper()
	for _, p := range idx.Parts {
		if p.Part == name && p.Mailbox == mailbox {
			return p
		}
	}
	t.Fatalf("no part %s %s in %+v", name, mailbox, idx.Parts)
	return gdpr.IndexPart{}
}

// fileSums returns the SHA-256 of every file under dir but the WAL index (-shm), whose read
// marks a reader moves.
func fileSums(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, "-shm") {
			return err
		}
		b, err := os.ReadFile(path)
		out[path] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
