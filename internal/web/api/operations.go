package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/operr"
)

// DefaultMaxMessage bounds the message of POST /api/v1/spam/explain, in bytes, when
// Config.MaxMessage is 0.
const DefaultMaxMessage = 25 << 20

// webAdminInput is the body of PUT /api/v1/users/{address}/admin. A missing admin is an
// error, not "revoke".
type webAdminInput struct {
	Admin *bool `json:"admin"`
}

// setWebAdmin is `posthorn user admin ADDRESS on|off`: the flag opens the web UI's admin
// pages to the account (admin.SetWebAdmin); the answer is the account.
func setWebAdmin(a *API, w http.ResponseWriter, r *http.Request) error {
	var in webAdminInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Admin == nil {
		return invalid("admin", "admin is required: true grants the web UI's admin pages, false revokes them")
	}
	addr := r.PathValue("address")
	if err := a.cfg.Admin.SetWebAdmin(r.Context(), addr, *in.Admin); err != nil {
		return err
	}
	return a.writeUser(w, r, addr)
}

type dnsCheckView struct {
	Record dnsRecordView `json:"record"`
	// Status is published, missing, different or error (admin.DNSStatus).
	Status string   `json:"status"`
	Found  []string `json:"found"`
	Error  string   `json:"error,omitempty"`
}

// checkDomainDNS is `posthorn domain dns NAME --check`: every record of GET
// /api/v1/domains/{name} looked up through the server's resolver now (admin.CheckDNS);
// published is true when all of them are as they should be.
func checkDomainDNS(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.cfg.Admin.Resolver == nil {
		return operr.New(operr.Unsupported, "", "", nil, "this server has no resolver to check DNS records with")
	}
	d, err := a.cfg.Admin.GetDomain(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	records, err := a.cfg.Admin.DNSRecords(r.Context(), d.Name, a.cfg.DNS)
	if err != nil {
		return err
	}
	checks, err := a.cfg.Admin.CheckDNS(r.Context(), records)
	if err != nil {
		return err
	}
	out := struct {
		Domain    string         `json:"domain"`
		Published bool           `json:"published"`
		Records   []dnsCheckView `json:"records"`
	}{Domain: d.Name, Published: true, Records: make([]dnsCheckView, 0, len(checks))}
	for _, c := range checks {
		found := c.Found
		if found == nil {
			found = []string{}
		}
		out.Records = append(out.Records, dnsCheckView{Record: viewDNSRecord(c.Record), Status: string(c.Status),
			Found: found, Error: c.Error})
		if c.Status != admin.DNSPublished {
			out.Published = false
		}
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

type spamReasonView struct {
	Name   string  `json:"name"`
	Points float64 `json:"points"`
	Detail string  `json:"detail"`
}

type spamClueView struct {
	Token string  `json:"token"`
	Prob  float64 `json:"prob"`
	Spam  int64   `json:"spam"`
	Ham   int64   `json:"ham"`
}

type spamCountsView struct {
	Spam int64 `json:"spam"`
	Ham  int64 `json:"ham"`
}

// explainSpam is `posthorn spam explain FILE [--account A] [--tokens N]` for the message of
// the body (message/rfc822, at most Config.MaxMessage bytes: 413 beyond), scored as the MX would
// for ?account= (the global model, no lists, without): the verdict, its reasons and the most
// deciding tokens (?tokens=, default 20). The body is spooled to a temporary file, never held
// whole in memory.
func explainSpam(a *API, w http.ResponseWriter, r *http.Request) error {
	if err := requireType(r, "message/rfc822"); err != nil {
		return err
	}
	top := 20
	if s := r.URL.Query().Get("tokens"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxPage {
			return invalid("tokens", "tokens %q: want a number from 0 to %d", s, maxPage)
		}
		top = n
	}
	f, err := os.CreateTemp("", "posthorn-explain-*.eml")
	if err != nil {
		return err
	}
	defer func() {
		// A temporary file read only by this request: nothing to report if it fails to go.
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	size, err := io.Copy(f, http.MaxBytesReader(w, r.Body, a.cfg.MaxMessage))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return fmt.Errorf("spool message: %w", err)
	}
	if size == 0 {
		return invalid("", "the request body is empty: want the message")
	}
	sc, ex, err := a.cfg.Admin.ExplainSpam(r.Context(), r.URL.Query().Get("account"), f, size)
	if err != nil {
		return err
	}
	verdict := "inbox"
	switch {
	case sc.Reject:
		verdict = "reject"
	case sc.Spam:
		verdict = "junk"
	}
	out := struct {
		Score     float64          `json:"score"`
		Verdict   string           `json:"verdict"`
		Bayes     float64          `json:"bayes"`
		Junk      float64          `json:"junk_threshold"`
		Reject    float64          `json:"reject_threshold"`
		Reasons   []spamReasonView `json:"reasons"`
		Tokens    int              `json:"tokens"`
		Truncated bool             `json:"truncated"`
		Clues     []spamClueView   `json:"clues"`
		Global    spamCountsView   `json:"global_model"`
		Account   spamCountsView   `json:"account_model"`
	}{Score: sc.Value, Verdict: verdict, Bayes: sc.Bayes, Junk: a.cfg.Admin.Spam.JunkThreshold,
		Reject: a.cfg.Admin.Spam.RejectThreshold, Reasons: make([]spamReasonView, 0, len(sc.Reasons)),
		Tokens: ex.Tokens, Truncated: ex.Features.Truncated, Clues: make([]spamClueView, 0, min(top, len(ex.Clues))),
		Global: spamCountsView{ex.Global.Spam, ex.Global.Ham}, Account: spamCountsView{ex.Account.Spam, ex.Account.Ham}}
	for _, re := range sc.Reasons {
		out.Reasons = append(out.Reasons, spamReasonView{Name: re.Name, Points: re.Points, Detail: re.Detail})
	}
	for i, c := range ex.Clues {
		if i == top {
			break
		}
		out.Clues = append(out.Clues, spamClueView{Token: c.Token, Prob: c.Prob, Spam: c.Spam, Ham: c.Ham})
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// checkIntegrity is `posthorn check` without --repair: the store's invariants and the message
// bodies (admin.Check), one line per problem; ok when there is none. The repair is left to
// the command line with the server stopped: it deletes bodies nothing references yet, which
// while the server runs includes those of deliveries not yet committed. For the same reason a
// body reported as an orphan here may be one a delivery is about to commit.
func checkIntegrity(a *API, w http.ResponseWriter, r *http.Request) error {
	problems, err := a.cfg.Admin.Check(r.Context())
	if err != nil {
		return err
	}
	if problems == nil {
		problems = []string{}
	}
	a.writeJSON(w, r, http.StatusOK, struct {
		OK       bool     `json:"ok"`
		Problems []string `json:"problems"`
	}{len(problems) == 0, problems})
	return nil
}

// retentionInput is the body of POST /api/v1/retention/run.
type retentionInput struct {
	DryRun bool `json:"dry_run"`
}

type retentionMailboxView struct {
	Account  string `json:"account"`
	Mailbox  string `json:"mailbox"`
	Days     int    `json:"days"`
	Messages int64  `json:"messages"`
}

// runRetention is `posthorn retention run [--dry-run]`: the [retention] rules applied now, as
// the daily job does (package retention), answering what went (or, dry, would go).
func runRetention(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.cfg.Retention == nil {
		return operr.New(operr.Unsupported, "", "", nil, "this server runs no retention")
	}
	var in retentionInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rep, err := a.cfg.Retention.Run(r.Context(), in.DryRun)
	if err != nil {
		return err
	}
	out := struct {
		At             time.Time              `json:"at"`
		DryRun         bool                   `json:"dry_run"`
		Messages       int64                  `json:"messages"`
		MailEvents     int64                  `json:"mail_events"`
		TrackingEvents int64                  `json:"tracking_events"`
		LoginSources   int64                  `json:"login_sources"`
		WebLogins      int64                  `json:"web_logins"`
		HeldAccounts   int                    `json:"held_accounts"`
		Mailboxes      []retentionMailboxView `json:"mailboxes"`
	}{At: rep.At.UTC(), DryRun: rep.DryRun, Messages: rep.Messages, MailEvents: rep.MailEvents,
		TrackingEvents: rep.TrackingEvents, LoginSources: rep.LoginSources, WebLogins: rep.WebLogins,
		HeldAccounts: rep.HeldAccounts, Mailboxes: make([]retentionMailboxView, 0, len(rep.Mailboxes))}
	for _, mb := range rep.Mailboxes {
		out.Mailboxes = append(out.Mailboxes, retentionMailboxView{Account: mb.Account, Mailbox: mb.Mailbox, Days: mb.Days,
			Messages: mb.Messages})
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}
