package api

import (
	"net/http"
	"strconv"

	"posthorn/internal/campaign"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// send sends one message to each recipient (campaign.Transactional): 201 with the send, or
// 200 with the same send for a retry under the same key.
func send(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.cfg.Transactional == nil {
		return operr.New(operr.Unsupported, "", "", nil, "this server does not send transactional mail")
	}
	// The body is the content; the idempotency key comes in the Idempotency-Key header field
	// (as the IETF httpapi draft of that name has it).
	var content campaign.SendContent
	if err := decodeJSON(w, r, &content); err != nil {
		return err
	}
	p, _ := r.Context().Value(principalKey{}).(store.APIPrincipal)
	req := campaign.SendRequest{Principal: "token:" + strconv.FormatInt(p.TokenID, 10),
		IdempotencyKey: r.Header.Get("Idempotency-Key"), SendContent: content}
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
