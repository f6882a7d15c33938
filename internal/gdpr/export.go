package gdpr

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"posthorn/internal/audit"
	"posthorn/internal/store"
)

// Index is the export's index.json: who, when, what the address is, and every part.
type Index struct {
	Address     string      `json:"address"`
	GeneratedAt string      `json:"generated_at"` // RFC 3339, UTC
	Kinds       []string    `json:"kinds"`        // Person.Kinds
	Parts       []IndexPart `json:"parts"`
}

// IndexPart is one part of an export: the file in the zip holding it, what it is, and how
// many items (messages, rows, events) it holds.
type IndexPart struct {
	File    string `json:"file"`
	Part    string `json:"part"`
	Mailbox string `json:"mailbox,omitempty"` // a mailbox's name, for its mbox file
	Count   int64  `json:"count"`
}

// Export writes everything the server holds about address to w as a zip file (package doc)
// and records the export in the audit log. It returns the index written.
func (s *Service) Export(ctx context.Context, address string, w io.Writer) (Index, error) {
	p, err := s.Find(ctx, address)
	if err != nil {
		return Index{}, err
	}
	idx, err := s.write(ctx, p, w)
	if err != nil {
		return idx, fmt.Errorf("export %s: %w", p.Address, err)
	}
	log, err := s.auditLog()
	if err == nil {
		err = log.Record(ctx, "gdpr.export", p.Address, audit.Details{"parts": len(idx.Parts)})
	}
	if err != nil {
		return idx, fmt.Errorf("export of %s written, but not recorded in the audit log: %w", p.Address, err)
	}
	return idx, nil
}

// ExportAccount writes the export of the account at address to w, for its owner (the web
// UI's self-service): Export, whose caller has checked who asks.
func (s *Service) ExportAccount(ctx context.Context, address string, w io.Writer) error {
	_, err := s.Export(ctx, address, w)
	return err
}

// LazyWriter writes to W, calling Start once before the first write: an HTTP handler sets
// the download's header fields there, so that a failure found before the zip begins (an
// unknown address) is still answered as an error, and Started tells whether it began.
type LazyWriter struct {
	W       io.Writer
	Start   func()
	Started bool
}

func (l *LazyWriter) Write(p []byte) (int, error) {
	if !l.Started {
		l.Started = true
		l.Start()
	}
	return l.W.Write(p)
}

// write writes p's export to w.
func (s *Service) write(ctx context.Context, p *Person, w io.Writer) (Index, error) {
	idx := Index{Address: p.Address, GeneratedAt: s.now().UTC().Format(time.RFC3339), Kinds: p.Kinds()}
	z := zip.NewWriter(w)
	modified := s.now()
	create := func(name string) (io.Writer, error) {
		return z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
	}
	counts := map[string]int64{}
	for _, c := range p.Parts() {
		counts[c.Part] = c.Count
	}
	addJSON := func(part string, v any) error {
		file := part + ".json"
		f, err := create(file)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		idx.Parts = append(idx.Parts, IndexPart{File: file, Part: part, Count: counts[part]})
		return nil
	}
	if p.Account != nil {
		if err := addJSON("account", accountJSON(p)); err != nil {
			return idx, err
		}
		for i, mb := range p.Mailboxes {
			part, err := s.writeMailbox(ctx, create, i, mb)
			if err != nil {
				return idx, err
			}
			idx.Parts = append(idx.Parts, part)
		}
	}
	r := &p.Records
	parts := []struct {
		name string
		v    any
	}{
		{"aliases", aliasesJSON(r.Aliases)},
		{"send_as_grants", orEmpty(r.SendAsGrants)},
		{"logins", loginsJSON(p)},
		{"web_sessions", sessionsJSON(r.WebSessions)},
		{"queue", queueJSON(r.Queue)},
		{"subscriber", subscriberJSON(r.Subscriber)},
		{"subscriptions", subscriptionsJSON(r.Subscriptions)},
		{"consent_records", consentJSON(r.Subscriptions)},
		{"campaign_recipients", recipientsJSON(r.CampaignRecipients)},
		{"tracking_events", eventsJSON(r.CampaignEvents)},
		{"suppressions", suppressionsJSON(r)},
		{"spam_filter", spamJSON(r)},
		{"greylist", greylistJSON(r.Greylist)},
		{"transactional_sends", orEmpty(r.TransactionalSends)},
		{"audit", auditJSON(r.AuditEntries)},
	}
	for _, part := range parts {
		if err := addJSON(part.name, part.v); err != nil {
			return idx, err
		}
	}
	if err := s.writeMailLog(ctx, create, p, &idx); err != nil {
		return idx, err
	}
	f, err := create("index.json")
	if err != nil {
		return idx, err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(idx); err != nil {
		return idx, err
	}
	return idx, z.Close()
}

// writeMailLog writes the mail log events naming the person as one JSON array, streamed.
func (s *Service) writeMailLog(ctx context.Context, create func(string) (io.Writer, error), p *Person, idx *Index) error {
	g, err := s.gdprStore()
	if err != nil {
		return err
	}
	const file = "mail_log.json"
	f, err := create(file)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	bw.WriteString("[")
	n := int64(0)
	err = g.PersonalMailEvents(ctx, p.Address, func(e store.MailEvent) error {
		b, err := json.Marshal(mailEventJSON(e))
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n  ")
		bw.Write(b)
		n++
		return nil
	})
	if err != nil {
		return err
	}
	bw.WriteString("\n]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	idx.Parts = append(idx.Parts, IndexPart{File: file, Part: "mail_log", Count: n})
	return nil
}

// mailboxPage is how many messages' rows writeMailbox reads at a time.
const mailboxPage = 256

// writeMailbox writes one mailbox as an mbox file, message by message from the body store.
func (s *Service) writeMailbox(ctx context.Context, create func(string) (io.Writer, error), i int, mb store.Mailbox) (IndexPart, error) {
	part := IndexPart{File: fmt.Sprintf("mailboxes/%02d-%s.mbox", i+1, fileName(mb.Name)), Part: "mailbox", Mailbox: mb.Name}
	uids, err := s.Store.ListUIDs(ctx, mb.ID)
	if err != nil {
		return part, err
	}
	f, err := create(part.File)
	if err != nil {
		return part, err
	}
	bw := bufio.NewWriter(f)
	// The messages' rows a page at a time, so a mailbox of any size takes little memory.
	for len(uids) > 0 {
		page := uids[:min(len(uids), mailboxPage)]
		uids = uids[len(page):]
		msgs, err := s.Store.GetMessages(ctx, mb.ID, page)
		if err != nil {
			return part, err
		}
		for _, m := range msgs {
			if err := s.writeMessage(bw, m); err != nil {
				return part, fmt.Errorf("mailbox %s: %w", mb.Name, err)
			}
			part.Count++
		}
	}
	return part, bw.Flush()
}

// writeMessage writes one message in mboxrd form: its "From " line, its lines with "From "
// quoted, and a blank line after it.
func (s *Service) writeMessage(w *bufio.Writer, m store.Message) error {
	body, err := s.Bodies.Open(m.BlobID)
	if err != nil {
		return err
	}
	defer body.Close()
	fmt.Fprintf(w, "From MAILER-DAEMON %s\n", m.InternalDate.UTC().Format(time.ANSIC))
	r := bufio.NewReader(body)
	last := byte('\n')
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			// A line longer than the buffer comes in pieces: only a piece that starts a line
			// is quoted.
			if last == '\n' && quoteFrom(line) {
				w.WriteByte('>')
			}
			last = line[len(line)-1]
			if last == '\n' {
				line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
				w.Write(line)
				w.WriteByte('\n')
			} else {
				w.Write(line)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read message %s: %w", m.BlobID, err)
		}
	}
	if last != '\n' {
		w.WriteByte('\n')
	}
	_, err = w.WriteString("\n")
	return err
}

// quoteFrom reports whether an mboxrd writer quotes line: ">"* then "From ".
func quoteFrom(line []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From "))
}

// fileName makes a mailbox name a safe name for a file in the zip: "/" (the hierarchy) becomes
// ".", and anything but letters, digits, "-", "_", "." and spaces becomes "_"; the number in
// front of it (writeMailbox) keeps two names made alike apart.
func fileName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == '/':
			b.WriteByte('.')
		case r == '-' || r == '_' || r == '.' || r == ' ' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r > 0x7f && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ". ")
	if out == "" {
		out = "_"
	}
	return out
}
