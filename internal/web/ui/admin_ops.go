package ui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/filter/spam"
	"posthorn/internal/store"
)

// The admin pages of the mail system's configuration and its queue, under /admin/: domains
// with their DNS records and the live check, users, aliases, the outbound queue and the spam
// lists. Each calls the operations of internal/admin (through Operations), so the page, the
// command line and the JSON API do the same thing; a refused operation shows its
// *operr.Error on the form, with its field named.
//
// Destructive forms (removing a domain, a user, an alias, deleting a queued message) carry a
// "confirm" checkbox that must be ticked: the confirmation works without JavaScript, and a
// POST without it changes nothing (400, naming the field). A successful change answers 303 to
// the page that shows it (post, redirect, get), except where the answer holds something shown
// once (a new app password). An administrator cannot revoke their own admin flag or remove
// their own account here, which would end the session doing it; another administrator or the
// command line can.

// Operations are the operations the admin pages call (admin.Admin).
type Operations interface {
	AppPasswords

	ListDomains(ctx context.Context) ([]store.Domain, error)
	AddDomain(ctx context.Context, name string) ([]store.DKIMKey, error)
	RemoveDomain(ctx context.Context, name string) error
	GetDomain(ctx context.Context, name string) (store.Domain, error)
	DNSRecords(ctx context.Context, domain string, setup admin.DNSSetup) ([]admin.DNSRecord, error)
	CheckDNS(ctx context.Context, records []admin.DNSRecord) ([]admin.DNSCheck, error)

	ListAccounts(ctx context.Context, domain string) ([]store.Account, error)
	AddAccount(ctx context.Context, addr, password string) (store.Account, error)
	RemoveAccount(ctx context.Context, addr string) error
	Account(ctx context.Context, addr string) (store.Account, error)
	SetPassword(ctx context.Context, addr, password string) error
	Quota(ctx context.Context, addr string) (admin.Quota, error)
	SetQuota(ctx context.Context, addr string, bytes int64) error
	SetWebAdmin(ctx context.Context, addr string, on bool) error
	WebAdmins(ctx context.Context) (map[int64]bool, error)
	SendAs(ctx context.Context, addr string) ([]string, error)
	AddSendAs(ctx context.Context, addr, sendAs string) error
	RemoveSendAs(ctx context.Context, addr, sendAs string) error
	SendLimits(ctx context.Context, addr string) (store.SendLimits, error)
	SetSendLimits(ctx context.Context, addr string, limits store.SendLimits) error

	ListAliases(ctx context.Context) ([]store.Alias, error)
	AddAlias(ctx context.Context, alias string, targets []string) (string, []string, error)
	RemoveAlias(ctx context.Context, alias string) error

	ListQueue(ctx context.Context) ([]store.QueuedMessage, error)
	GetQueued(ctx context.Context, id int64) (store.QueuedMessage, error)
	RetryQueued(ctx context.Context, id int64) error
	RetryAllQueued(ctx context.Context) (int64, error)
	HoldQueued(ctx context.Context, id int64, held bool) error
	DeleteQueued(ctx context.Context, id int64) error

	SpamList(ctx context.Context, account string, block bool) ([]string, error)
	AddSpamListEntry(ctx context.Context, account, entry string, block bool) error
	RemoveSpamListEntry(ctx context.Context, account, entry string, block bool) error
	SpamTotals(ctx context.Context, account string) (global, acc store.SpamCounts, err error)
	ExplainSpam(ctx context.Context, account string, msg io.ReaderAt, size int64) (spam.Score, *spam.Explanation, error)
}

// dnsCheckTimeout bounds the live check of a domain's records.
const dnsCheckTimeout = 15 * time.Second

// adminOpsRoutes adds the pages of this file and its siblings (admin_users.go,
// admin_queue.go); none when the UI has no Operations.
func (s *Server) adminOpsRoutes(handle func(pattern string, h http.HandlerFunc)) {
	if s.ops == nil {
		return
	}
	handle("GET /admin/domains", s.admin(s.domainsPage))
	handle("POST /admin/domains", s.admin(s.domainAdd))
	handle("POST /admin/domains/remove", s.admin(s.domainRemove))
	handle("GET /admin/domains/{name}", s.admin(s.domainPage))

	handle("GET /admin/users", s.admin(s.usersPage))
	handle("POST /admin/users", s.admin(s.userAdd))
	handle("POST /admin/users/remove", s.admin(s.userRemove))
	handle("GET /admin/users/{address}", s.admin(s.userPage))
	handle("POST /admin/users/{address}", s.admin(s.userPost))

	handle("GET /admin/aliases", s.admin(s.aliasesPage))
	handle("POST /admin/aliases", s.admin(s.aliasAdd))
	handle("POST /admin/aliases/remove", s.admin(s.aliasRemove))

	handle("GET /admin/queue", s.admin(s.queuePage))
	handle("POST /admin/queue", s.admin(s.queueRetryAll))
	handle("GET /admin/queue/{id}", s.admin(s.queuedPage))
	handle("POST /admin/queue/{id}", s.admin(s.queuedPost))

	handle("GET /admin/spam", s.admin(s.spamPage))
	handle("POST /admin/spam", s.admin(s.spamPost))
	handle("POST /admin/spam/explain", s.admin(s.spamExplain))
}

// confirmed tells whether a destructive form's confirm box was ticked; when not, it shows the
// form again, naming the field.
func (s *Server) confirmed(w http.ResponseWriter, r *http.Request, name string, data any) bool {
	if r.PostForm.Get("confirm") != "" {
		return true
	}
	s.formError(w, r, http.StatusBadRequest, name, data, "confirm", "Tick the box to confirm the removal.")
	return false
}

// userPath is the URL path of an account's admin page.
func userPath(addr string) string { return "/admin/users/" + url.PathEscape(addr) }

// humanBytes writes a size in octets with a binary unit.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// quotaText shows an account's quota setting.
func quotaText(bytes int64) string {
	switch {
	case bytes == store.QuotaDefault:
		return "default"
	case bytes == 0:
		return "none"
	}
	return humanBytes(bytes)
}

// adminOpsFuncs are the template functions of the admin pages.
func adminOpsFuncs() map[string]any {
	return map[string]any{
		"userPath": userPath,
		"bytes":    humanBytes,
		"quota":    quotaText,
		"limit": func(n int64) string {
			switch n {
			case store.LimitDefault:
				return "default"
			case 0:
				return "none"
			}
			return fmt.Sprint(n)
		},
	}
}

// Domains.

type domainsData struct {
	Domains []store.Domain
	// Name is the name the add form had.
	Name string
}

func (s *Server) domainsData(r *http.Request) (domainsData, error) {
	list, err := s.ops.ListDomains(r.Context())
	return domainsData{Domains: list}, err
}

func (s *Server) domainsPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.domainsData(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-domains", d)
}

func (s *Server) domainAdd(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostForm.Get("domain"))
	if _, err := s.ops.AddDomain(r.Context(), name); err != nil {
		d, lerr := s.domainsData(r)
		if lerr != nil {
			s.serverError(w, r, lerr)
			return
		}
		d.Name = name
		s.fail(w, r, "admin-domains", d, err)
		return
	}
	http.Redirect(w, r, "/admin/domains", http.StatusSeeOther)
}

func (s *Server) domainRemove(w http.ResponseWriter, r *http.Request) {
	d, err := s.domainsData(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if !s.confirmed(w, r, "admin-domains", d) {
		return
	}
	if err := s.ops.RemoveDomain(r.Context(), r.PostForm.Get("domain")); err != nil {
		s.fail(w, r, "admin-domains", d, err)
		return
	}
	http.Redirect(w, r, "/admin/domains", http.StatusSeeOther)
}

// dnsRow is one record of a domain's page with its check; Group is the records' purpose on
// the first record of each group, "" on the others.
type dnsRow struct {
	admin.DNSCheck
	Group string
	// Class is the status as a CSS class.
	Class string
}

type domainData struct {
	Domain store.Domain
	Rows   []dnsRow
	// CheckError says why the live check could not run (the records are shown unchecked).
	CheckError string
}

func (s *Server) domainPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	dom, err := s.ops.GetDomain(ctx, r.PathValue("name"))
	if err != nil {
		s.fail(w, r, "admin-domain", nil, err)
		return
	}
	records, err := s.ops.DNSRecords(ctx, dom.Name, s.dns)
	if err != nil {
		s.fail(w, r, "admin-domain", nil, err)
		return
	}
	d := domainData{Domain: dom}
	checkCtx, cancel := context.WithTimeout(ctx, dnsCheckTimeout)
	defer cancel()
	checks, err := s.ops.CheckDNS(checkCtx, records)
	if err != nil {
		d.CheckError = err.Error()
		checks = make([]admin.DNSCheck, len(records))
		for i, rec := range records {
			checks[i] = admin.DNSCheck{Record: rec}
		}
	}
	purpose := ""
	for _, c := range checks {
		row := dnsRow{DNSCheck: c, Class: "status-" + strings.ReplaceAll(string(c.Status), " ", "-")}
		if c.Record.Purpose != purpose {
			purpose = c.Record.Purpose
			row.Group = purpose
		}
		d.Rows = append(d.Rows, row)
	}
	s.render(w, r, http.StatusOK, "admin-domain", d)
}

// Aliases.

type aliasesData struct {
	Aliases []store.Alias
	// Alias and Targets are what the add form had.
	Alias, Targets string
}

func (s *Server) aliasesData(r *http.Request) (aliasesData, error) {
	list, err := s.ops.ListAliases(r.Context())
	return aliasesData{Aliases: list}, err
}

func (s *Server) aliasesPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.aliasesData(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-aliases", d)
}

// aliasTargets splits the targets field: addresses separated by commas, spaces or lines.
func aliasTargets(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
}

func (s *Server) aliasAdd(w http.ResponseWriter, r *http.Request) {
	alias, targets := strings.TrimSpace(r.PostForm.Get("alias")), r.PostForm.Get("targets")
	if _, _, err := s.ops.AddAlias(r.Context(), alias, aliasTargets(targets)); err != nil {
		d, lerr := s.aliasesData(r)
		if lerr != nil {
			s.serverError(w, r, lerr)
			return
		}
		d.Alias, d.Targets = alias, targets
		s.fail(w, r, "admin-aliases", d, err)
		return
	}
	http.Redirect(w, r, "/admin/aliases", http.StatusSeeOther)
}

func (s *Server) aliasRemove(w http.ResponseWriter, r *http.Request) {
	d, err := s.aliasesData(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if !s.confirmed(w, r, "admin-aliases", d) {
		return
	}
	if err := s.ops.RemoveAlias(r.Context(), r.PostForm.Get("alias")); err != nil {
		s.fail(w, r, "admin-aliases", d, err)
		return
	}
	http.Redirect(w, r, "/admin/aliases", http.StatusSeeOther)
}
