package web

import (
	"bytes"
	"html/template"
	"net/http"
)

// The pages of the public endpoints: one html/template set, self-contained (inline style, no
// external asset, no script), every value escaped by html/template.

// page is the data of the simple message page.
type page struct {
	Title string
	Text  string
}

var publicPages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><title>{{.}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1em;line-height:1.5;color:#222}
button{font-size:1em;padding:.4em 1em;cursor:pointer}input[type=email],input[type=text]{font-size:1em;padding:.3em;width:100%;box-sizing:border-box}
label{display:block;margin:.8em 0 .2em}.err{color:#a00}table{border-collapse:collapse}td{padding:.3em .8em .3em 0}</style>
</head><body><h1>{{.}}</h1>{{end}}
{{define "foot"}}</body></html>{{end}}

{{define "message"}}{{template "head" .Title}}<p>{{.Text}}</p>{{template "foot"}}{{end}}

{{define "view_text"}}{{template "head" .Subject}}<pre style="white-space:pre-wrap">{{printf "%s" .Text}}</pre>{{template "foot"}}{{end}}

{{define "unsubscribe"}}{{template "head" "Unsubscribe"}}
<p>Press the button to stop receiving the mail of this campaign's lists.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>
{{template "foot"}}{{end}}

{{define "preferences"}}{{template "head" "Your subscriptions"}}
<p>Subscriptions of {{.Address}}:</p>
{{if .Subscriptions}}<table>{{range .Subscriptions}}<tr><td>{{.List}}</td><td>{{.Status}}</td><td>
{{if ne (print .Status) "unsubscribed"}}<form method="post"><input type="hidden" name="action" value="leave">
<input type="hidden" name="list" value="{{.ListID}}"><button type="submit">Leave this list</button></form>{{end}}</td></tr>{{end}}</table>
{{else}}<p>None.</p>{{end}}
<form method="post"><input type="hidden" name="action" value="all"><button type="submit">Leave all lists and receive no more campaigns</button></form>
{{template "foot"}}{{end}}

{{define "subscribe"}}{{template "head" (print "Subscribe to " .List.Name)}}
{{if .List.Description}}<p>{{.List.Description}}</p>{{end}}
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
<form method="post">
<label for="email">Email address</label><input type="email" id="email" name="email" required value="{{.Email}}">
<label for="name">Name (optional)</label><input type="text" id="name" name="name" value="{{.Name}}">
<label><input type="checkbox" name="tracking" value="yes"> I agree that opens and clicks of these mails are recorded.</label>
<p>{{.Consent}}</p>
<button type="submit">Subscribe</button></form>
{{template "foot"}}{{end}}

{{define "confirm"}}{{template "head" "Confirm your subscription"}}
<p>{{.Text}}</p>
<form method="post"><input type="hidden" name="confirm" value="yes"><button type="submit">Confirm</button></form>
{{template "foot"}}{{end}}
`))

// render writes the page name with data and status, with the security headers.
func (p *publicSite) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := publicPages.ExecuteTemplate(&buf, name, data); err != nil {
		p.logger.Error("render page", "page", name, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("internal error\n")
	}
	securityHeaders(w, pageCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
