package api

import (
	"net/http"

	"posthorn/internal/store"
)

// An account's send-as addresses (besides its own and its aliases') and sending limits, as
// `posthorn user send-as|limits` manage them.

type sendAsView struct {
	Account string   `json:"account"`
	SendAs  []string `json:"send_as"`
}

// sendAsInput is the body of POST /api/v1/users/{address}/send-as.
type sendAsInput struct {
	SendAs string `json:"send_as"`
}

func (a *API) writeSendAs(w http.ResponseWriter, r *http.Request, status int) error {
	acc, err := a.cfg.Admin.Account(r.Context(), r.PathValue("address"))
	if err != nil {
		return err
	}
	list, err := a.cfg.Admin.SendAs(r.Context(), acc.Address)
	if err != nil {
		return err
	}
	a.writeJSON(w, r, status, sendAsView{Account: acc.Address, SendAs: append([]string{}, list...)})
	return nil
}

func listSendAs(a *API, w http.ResponseWriter, r *http.Request) error {
	return a.writeSendAs(w, r, http.StatusOK)
}

func addSendAs(a *API, w http.ResponseWriter, r *http.Request) error {
	var in sendAsInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.cfg.Admin.AddSendAs(r.Context(), r.PathValue("address"), in.SendAs); err != nil {
		return err
	}
	return a.writeSendAs(w, r, http.StatusCreated)
}

func removeSendAs(a *API, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, a.cfg.Admin.RemoveSendAs(r.Context(), r.PathValue("address"), r.PathValue("send_as")))
}

// sendLimitsView is an account's limits in recipients: 0 none, -1 the server's default.
type sendLimitsView struct {
	PerHour int64 `json:"per_hour"`
	PerDay  int64 `json:"per_day"`
}

func getSendLimits(a *API, w http.ResponseWriter, r *http.Request) error {
	l, err := a.cfg.Admin.SendLimits(r.Context(), r.PathValue("address"))
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, sendLimitsView{PerHour: l.PerHour, PerDay: l.PerDay})
	return nil
}

// setSendLimits replaces both limits; both fields are required.
func setSendLimits(a *API, w http.ResponseWriter, r *http.Request) error {
	var in struct {
		PerHour *int64 `json:"per_hour"`
		PerDay  *int64 `json:"per_day"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.PerHour == nil {
		return invalid("per_hour", "per_hour is required: recipients, 0 for none, -1 for the server's default")
	}
	if in.PerDay == nil {
		return invalid("per_day", "per_day is required: recipients, 0 for none, -1 for the server's default")
	}
	limits := store.SendLimits{PerHour: *in.PerHour, PerDay: *in.PerDay}
	if err := a.cfg.Admin.SetSendLimits(r.Context(), r.PathValue("address"), limits); err != nil {
		return err
	}
	return getSendLimits(a, w, r)
}
