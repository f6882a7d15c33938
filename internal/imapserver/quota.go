package imapserver

import (
	"strconv"

	"posthorn/internal/store"
)

// QUOTA (RFC 9208). An account has at most one quota root, named "" (RFC 9208 leaves the
// names to the server), holding all its mailboxes, with one resource: STORAGE (§5.1), the
// account's storage quota (store.Account.Quota with Server.DefaultQuota) against the sizes of
// its messages (store.AccountUsage: a message counts once per mailbox it is in), both in units
// of 1024 octets. An account without a quota has no quota root, since a QUOTA response cannot
// say "unlimited" (§4.2.1 needs at least one resource with its limit).
//
// Enforcement: APPEND and COPY that would take the account over its quota get NO [OVERQUOTA]
// (§4.3.1) before anything is stored. MOVE never does: it leaves the usage as it is, and moving
// mail to Trash is how a user over quota makes room. Quotas are set by the administrator
// (posthorn user quota), not with SETQUOTA, which is why QUOTASET is not advertised.

// quotaRoot is the name of an account's one quota root.
const quotaRoot = ""

type quotaRootArgs struct{ mailbox string } // GETQUOTAROOT

type quotaArgs struct{ root string } // GETQUOTA, SETQUOTA

// parseGetQuotaRoot: GETQUOTAROOT SP mailbox (RFC 9208 §4.1.2).
func parseGetQuotaRoot(p *parser, c *command) error {
	a := &quotaRootArgs{}
	c.args = a
	return p.spAstring(&a.mailbox)
}

// parseGetQuota: GETQUOTA SP quota-root (RFC 9208 §4.1.1).
func parseGetQuota(p *parser, c *command) error {
	a := &quotaArgs{}
	c.args = a
	return p.spAstring(&a.root)
}

// parseSetQuota: SETQUOTA SP quota-root SP "(" [setquota-resource *(SP setquota-resource)] ")",
// setquota-resource = resource-name SP number64 (RFC 9208 §4.1.3, §7).
func parseSetQuota(p *parser, c *command) error {
	a := &quotaArgs{}
	c.args = a
	if err := p.spAstring(&a.root); err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	return p.parenList(func() error {
		if _, err := p.atom(); err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
		_, err := p.number64()
		return err
	})
}

// quota returns the account's storage quota and usage, read afresh: the administrator may
// change the quota while the session lasts.
func (s *session) quota() (store.QuotaUsage, error) {
	acc, err := s.server.Store.GetAccountByID(s.ctx, s.account.ID)
	if err != nil {
		return store.QuotaUsage{}, err
	}
	return store.GetQuota(s.ctx, s.server.Store, acc, s.server.DefaultQuota)
}

// errOverQuota is the answer to an APPEND or COPY that would go over quota (RFC 9208 §4.3.1,
// RFC 9051 §7.1).
var errOverQuota = no("OVERQUOTA", "over the storage quota of the account")

// checkQuota answers NO [OVERQUOTA] when storing add more octets would take the account over
// its quota.
func (s *session) checkQuota(add int64) error {
	q, err := s.quota()
	if err != nil {
		return err
	}
	if q.Exceeded(add) {
		return errOverQuota
	}
	return nil
}

// cmdGetQuotaRoot: GETQUOTAROOT (RFC 9208 §4.1.2): the quota roots of a mailbox, each followed
// by its QUOTA response.
func (s *session) cmdGetQuotaRoot(c *command) error {
	a := c.args.(*quotaRootArgs)
	mb, err := s.existingMailbox(a.mailbox)
	if err != nil {
		return err
	}
	q, err := s.quota()
	if err != nil {
		return err
	}
	s.bw.WriteString("* QUOTAROOT ")
	s.writeMailbox(mb.Name)
	if q.Limit > 0 {
		s.bw.WriteString(` ""`)
	}
	s.bw.WriteString("\r\n")
	if q.Limit > 0 {
		s.writeQuota(q)
	}
	return nil
}

// cmdGetQuota: GETQUOTA (RFC 9208 §4.1.1).
func (s *session) cmdGetQuota(c *command) error {
	a := c.args.(*quotaArgs)
	q, err := s.quota()
	if err != nil {
		return err
	}
	if a.root != quotaRoot || q.Limit == 0 {
		return no("NONEXISTENT", "no such quota root")
	}
	s.writeQuota(q)
	return nil
}

// cmdSetQuota: SETQUOTA (RFC 9208 §4.1.3) is for the administrator, who sets quotas with
// "posthorn user quota"; users may not change their own.
func (s *session) cmdSetQuota(c *command) error {
	return no("NOPERM", "quotas are set by the administrator")
}

// writeQuota writes the QUOTA response of the account's quota root (RFC 9208 §4.2.1): STORAGE
// usage and limit in units of 1024 octets (§5.1), the usage rounded up and the limit down.
func (s *session) writeQuota(q store.QuotaUsage) {
	used := (q.Used + 1023) / 1024
	limit := q.Limit / 1024
	s.bw.WriteString(`* QUOTA "" (STORAGE ` + strconv.FormatInt(used, 10) + " " + strconv.FormatInt(limit, 10) + ")\r\n")
}
