package ui

import (
	"net/http"
	"strconv"
	"strings"

	"posthorn/internal/admin"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// The users' admin pages: /admin/users (list with quota usage and the admin flag, create,
// remove) and /admin/users/{address} (password, quota, admin flag, app passwords, send-as
// addresses and sending limits). The user page's forms all post to its own URL, with an
// "action" field saying which form it is.

type userRow struct {
	Account store.Account
	Admin   bool
	Quota   admin.Quota
}

type usersData struct {
	Users []userRow
	// Address is what the create form had (never the password).
	Address string
}

func (s *Server) usersData(r *http.Request) (usersData, error) {
	ctx := r.Context()
	accounts, err := s.ops.ListAccounts(ctx, "")
	if err != nil {
		return usersData{}, err
	}
	admins, err := s.ops.WebAdmins(ctx)
	if err != nil {
		return usersData{}, err
	}
	d := usersData{Users: make([]userRow, 0, len(accounts))}
	for _, acc := range accounts {
		q, err := s.ops.Quota(ctx, acc.Address)
		if err != nil {
			return usersData{}, err
		}
		d.Users = append(d.Users, userRow{Account: acc, Admin: admins[acc.ID], Quota: q})
	}
	return d, nil
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.usersData(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-users", d)
}

func (s *Server) userAdd(w http.ResponseWriter, r *http.Request) {
	addr := strings.TrimSpace(r.PostForm.Get("address"))
	_, err := s.ops.AddAccount(r.Context(), addr, r.PostForm.Get("password"))
	if err != nil {
		d, lerr := s.usersData(r)
		if lerr != nil {
			s.serverError(w, r, lerr)
			return
		}
		d.Address = addr
		s.fail(w, r, "admin-users", d, err)
		return
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

func (s *Server) userRemove(w http.ResponseWriter, r *http.Request) {
	d, err := s.usersData(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if !s.confirmed(w, r, "admin-users", d) {
		return
	}
	addr := r.PostForm.Get("address")
	if s.isSelf(r, addr) {
		s.formError(w, r, http.StatusBadRequest, "admin-users", d, "address",
			"You cannot remove your own account here; another administrator or the command line can.")
		return
	}
	if err := s.ops.RemoveAccount(r.Context(), addr); err != nil {
		s.fail(w, r, "admin-users", d, err)
		return
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// isSelf tells whether addr is the logged-in account's address.
func (s *Server) isSelf(r *http.Request, addr string) bool {
	parsed, err := operr.ParseAddress("address", addr)
	return err == nil && parsed == principal(r).Address
}

type userData struct {
	Account  store.Account
	Admin    bool
	Self     bool
	Quota    admin.Quota
	Apps     []store.AppPassword
	SendAs   []string
	Limits   store.SendLimits
	QuotaMiB string // the quota form's value
	// NewApp is an app password just created, shown this once, with its name NewAppName.
	NewApp, NewAppName string
}

func (s *Server) userData(r *http.Request, addr string) (userData, error) {
	ctx := r.Context()
	acc, err := s.ops.Account(ctx, addr)
	if err != nil {
		return userData{}, err
	}
	d := userData{Account: acc, Self: acc.Address == principal(r).Address}
	admins, err := s.ops.WebAdmins(ctx)
	if err != nil {
		return userData{}, err
	}
	d.Admin = admins[acc.ID]
	if d.Quota, err = s.ops.Quota(ctx, acc.Address); err != nil {
		return userData{}, err
	}
	switch acc.QuotaBytes {
	case store.QuotaDefault:
		d.QuotaMiB = "default"
	default:
		d.QuotaMiB = strconv.FormatInt(acc.QuotaBytes/mib, 10)
	}
	if d.Apps, err = s.ops.AppPasswords(ctx, acc.Address); err != nil {
		return userData{}, err
	}
	if d.SendAs, err = s.ops.SendAs(ctx, acc.Address); err != nil {
		return userData{}, err
	}
	if d.Limits, err = s.ops.SendLimits(ctx, acc.Address); err != nil {
		return userData{}, err
	}
	return d, nil
}

// mib is a mebibyte, the unit of the quota form.
const mib = 1 << 20

func (s *Server) userPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.userData(r, r.PathValue("address"))
	if err != nil {
		s.fail(w, r, "admin-user", nil, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-user", d)
}

// userPost runs one form of the user page (its "action" field).
func (s *Server) userPost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, err := s.userData(r, r.PathValue("address"))
	if err != nil {
		s.fail(w, r, "admin-user", nil, err)
		return
	}
	addr := d.Account.Address
	f := r.PostForm
	switch f.Get("action") {
	case "password":
		err = s.ops.SetPassword(ctx, addr, f.Get("password"))
	case "quota":
		var bytes int64
		if bytes, err = parseQuotaMiB(f.Get("quota")); err == nil {
			err = s.ops.SetQuota(ctx, addr, bytes)
		}
	case "admin":
		on := f.Get("admin") == "on"
		if !on && d.Self {
			err = operr.New(operr.Invalid, "admin", "off", nil,
				"You cannot revoke your own admin flag here; another administrator or the command line can.")
			break
		}
		err = s.ops.SetWebAdmin(ctx, addr, on)
	case "app-password-add":
		name := strings.TrimSpace(f.Get("name"))
		var secret string
		if secret, err = s.ops.AddAppPassword(ctx, addr, name); err == nil {
			if d, err = s.userData(r, addr); err != nil {
				s.serverError(w, r, err)
				return
			}
			d.NewApp, d.NewAppName = secret, name
			s.render(w, r, http.StatusOK, "admin-user", d)
			return
		}
	case "app-password-remove":
		err = s.ops.RemoveAppPassword(ctx, addr, f.Get("name"))
	case "send-as-add":
		err = s.ops.AddSendAs(ctx, addr, strings.TrimSpace(f.Get("send_as")))
	case "send-as-remove":
		err = s.ops.RemoveSendAs(ctx, addr, f.Get("send_as"))
	case "limits":
		var limits store.SendLimits
		if limits.PerHour, err = parseLimit("per_hour", f.Get("per_hour")); err == nil {
			if limits.PerDay, err = parseLimit("per_day", f.Get("per_day")); err == nil {
				err = s.ops.SetSendLimits(ctx, addr, limits)
			}
		}
	default:
		err = operr.New(operr.Invalid, "action", f.Get("action"), nil, "unknown action")
	}
	if err != nil {
		s.fail(w, r, "admin-user", d, err)
		return
	}
	http.Redirect(w, r, userPath(addr), http.StatusSeeOther)
}

// parseQuotaMiB reads the quota form: "default" (or empty) for the server's default, 0 for
// none, else a whole number of MiB.
func parseQuotaMiB(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "default") {
		return store.QuotaDefault, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > admin.MaxQuotaBytes/mib {
		return 0, operr.New(operr.Invalid, "quota", s, err,
			"quota %q: want a whole number of MiB (0 for none) or \"default\"", s)
	}
	return n * mib, nil
}

// parseLimit reads a sending limit of field: "default" (or empty), 0 for none, else a number
// of recipients.
func parseLimit(field, s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "default") {
		return store.LimitDefault, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, operr.New(operr.Invalid, field, s, err,
			"limit %q: want a number of recipients (0 for none) or \"default\"", s)
	}
	return n, nil
}
