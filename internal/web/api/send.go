package api

import (
	"net/http"
	"strconv"

	"posthorn/internal/campaign"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// sendInput is the body of POST /api/v1/send; the idempotency key comes in the
// Idempotency-Key header field (as the IETF httpapi draft of that name has it).
type sendInput struct {
	From     string         `json:"from"`
	ReplyTo  string         `json:"reply_to"`
	To       []string       `json:"to"`
	Subject  string         `json:"subject"`
	HTML     string         `json:"html"`
	Text     string         `json:"text"`
	Data     map[string]any `json:"data"`
	Tracking bool           `json:"tracking"`
	Tag      string         `json:"tag"`
}

// send sends one message to each recipient (campaign.Transactional): 201 with the send, or
// 200 with the same send for a retry under the same key.
func send(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.cfg.Transactional == nil {
		return operr.New(operr.Unsupported, "", "", nil, "this server does not send transactional mail")
	}
	var in sendInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, _ := r.Context().Value(principalKey{}).(store.APIPrincipal)
	req := campaign.SendRequest{Principal: "token:" + strconv.FormatInt(p.TokenID, 10), IdempotencyKey: r.Header.Get("Idempotency-Key"),
		From: in.From, ReplyTo: in.ReplyTo, To: in.To, Subject: in.Subject, HTML: in.HTML, Text: in.Text,
		Data: in.Data, Tracking: in.Tracking, Tag: in.Tag}
	if p.Scope == store.ScopeAccount {
		req.Account = &store.Account{ID: p.AccountID, Address: p.Account}
	}
	res, err := a.cfg.Transactional.Send(r.Context(), req)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	}
	a.writeJSON(w, r, status, res)
	return nil
}
