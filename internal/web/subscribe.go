package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"posthorn/internal/campaign"
	"posthorn/internal/operr"
)

// The subscription form: GET /s/subscribe/{list} shows it, POST takes it as a form
// (application/x-www-form-urlencoded or multipart) or as JSON {"email", "name", "tracking"},
// answered {"status": "pending"|"subscribed"} or {"error": {"code", "message", "field"}} with
// 400 (the field named), 404 (unknown list) or 429 (over the per-client limit). The answer
// does not depend on whether the address was subscribed already (package campaign).

// subscribeForm is the data of the form page.
type subscribeForm struct {
	List        campaign.FormList
	Email, Name string
	Consent     string
	Error       string
}

// consentText is what the form shows and the consent record keeps.
func consentText(list string) string {
	return fmt.Sprintf("By subscribing you agree to receive the mail of the list %q at this address. "+
		"Every message has a link to unsubscribe.", list)
}

const trackingConsent = " I agree that opens and clicks of these mails are recorded."

func (p *publicSite) subscribePage(w http.ResponseWriter, r *http.Request) {
	l, err := p.c.FormList(r.Context(), r.PathValue("list"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, http.StatusOK, "subscribe", subscribeForm{List: l, Consent: consentText(l.Name)})
}

// subscribeJSON is the JSON body of a subscription.
type subscribeJSON struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Tracking bool   `json:"tracking"`
}

func (p *publicSite) subscribe(w http.ResponseWriter, r *http.Request) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	asJSON := ct == "application/json"
	list := r.PathValue("list")
	req := campaign.FormRequest{List: list, IP: clientIP(r)}
	if asJSON {
		var body subscribeJSON
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody))
		if err := dec.Decode(&body); err != nil {
			writeJSONError(w, http.StatusBadRequest, "invalid", "the body is not a JSON object of email and name", "")
			return
		}
		req.Address, req.Name, req.Tracking = body.Email, body.Name, body.Tracking
	} else {
		if !parseForm(w, r) {
			p.render(w, http.StatusBadRequest, "message", page{Title: "Bad request", Text: "The form could not be read."})
			return
		}
		req.Address, req.Name, req.Tracking = r.PostFormValue("email"), r.PostFormValue("name"), r.PostFormValue("tracking") == "yes"
	}
	req.ConsentText = consentText(list)
	if req.Tracking {
		req.ConsentText += trackingConsent
	}
	status, err := p.c.Subscribe(r.Context(), req)
	if asJSON {
		p.subscribeJSONAnswer(w, r, status, err)
		return
	}
	var ce *operr.Error
	switch {
	case err == nil:
	case errors.Is(err, campaign.ErrRateLimited):
		w.Header().Set("Retry-After", "3600")
		p.render(w, http.StatusTooManyRequests, "message", page{Title: "Too many requests", Text: "Please try again later."})
		return
	case errors.As(err, &ce) && ce.Code == operr.Invalid:
		l, lerr := p.c.FormList(r.Context(), list)
		if lerr != nil {
			p.fail(w, r, lerr)
			return
		}
		p.render(w, http.StatusBadRequest, "subscribe", subscribeForm{List: l, Email: req.Address, Name: req.Name,
			Consent: consentText(l.Name), Error: fieldLabel(ce.Field) + ": " + ce.Message})
		return
	default:
		p.fail(w, r, err)
		return
	}
	if status == campaign.FormPending {
		p.render(w, http.StatusOK, "message", page{Title: "Check your mailbox",
			Text: "If this address can be subscribed, a message with a confirmation link is on its way. Follow it to confirm."})
		return
	}
	p.render(w, http.StatusOK, "message", page{Title: "Subscribed", Text: "You are subscribed."})
}

func fieldLabel(field string) string {
	switch field {
	case "email":
		return "Email address"
	case "name":
		return "Name"
	}
	return field
}

func (p *publicSite) subscribeJSONAnswer(w http.ResponseWriter, r *http.Request, status campaign.FormStatus, err error) {
	var ce *operr.Error
	switch {
	case err == nil:
		securityHeaders(w, pageCSP)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"status": string(status)})
	case errors.Is(err, campaign.ErrRateLimited):
		w.Header().Set("Retry-After", "3600")
		writeJSONError(w, http.StatusTooManyRequests, "rate_limited", err.Error(), "")
	case errors.As(err, &ce) && ce.Code == operr.NotFound:
		writeJSONError(w, http.StatusNotFound, string(ce.Code), "unknown list", "list")
	case errors.As(err, &ce):
		writeJSONError(w, http.StatusBadRequest, string(ce.Code), ce.Message, ce.Field)
	default:
		p.logger.Error("subscription form", "err", err)
		writeJSONError(w, http.StatusInternalServerError, "internal", "something went wrong; try again later", "")
	}
}

func writeJSONError(w http.ResponseWriter, status int, code, message, field string) {
	securityHeaders(w, pageCSP)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message, "field": field}})
}

// confirmPage answers GET /s/confirm/{token}: a page with a button; it confirms nothing.
func (p *publicSite) confirmPage(w http.ResponseWriter, r *http.Request) {
	c, err := p.c.PendingConfirmation(r.Context(), r.PathValue("token"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, http.StatusOK, "confirm", page{Text: confirmText(c)})
}

func confirmText(c campaign.Confirmation) string {
	return fmt.Sprintf("Confirm that %s subscribes to the list %q.", c.Address, c.List)
}

// confirm answers POST /s/confirm/{token}: confirms the subscription.
func (p *publicSite) confirm(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		p.render(w, http.StatusBadRequest, "message", page{Title: "Bad request", Text: "The form could not be read."})
		return
	}
	tok := r.PathValue("token")
	c, err := p.c.PendingConfirmation(r.Context(), tok)
	if err == nil {
		_, err = p.c.ConfirmSubscription(r.Context(), tok, clientIP(r), confirmText(c))
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, http.StatusOK, "message", page{Title: "Subscribed", Text: fmt.Sprintf("You are subscribed to %q.", c.List)})
}
