package render

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// renderState is the recipient a renderer is rendering; its template functions read it.
type renderState struct {
	recipient *Recipient
	links     Links
}

// funcs returns the template functions bound to st (both template packages take the same map).
func (st *renderState) funcs(now func() time.Time) map[string]any {
	return map[string]any{
		"unsubscribe_url": func() string { return st.link(Links.UnsubscribeURL) },
		"view_url":        func() string { return st.link(Links.ViewURL) },
		"preferences_url": func() string { return st.link(Links.PreferencesURL) },
		"attr":            st.attr,
		"attr_or":         st.attrOr,
		"date":            formatDate,
		"now":             now,
	}
}

func (st *renderState) link(f func(Links) string) string {
	if st.links == nil {
		return ""
	}
	return f(st.links)
}

// attr returns the attribute key, an error when the recipient has none of that name.
func (st *renderState) attr(key string) (any, error) {
	if st.recipient != nil {
		if v, ok := st.recipient.Attributes[key]; ok {
			return v, nil
		}
	}
	return nil, fmt.Errorf("no attribute %q", key)
}

// attrOr returns the attribute key, or fallback when the recipient has none of that name.
func (st *renderState) attrOr(key string, fallback any) any {
	if st.recipient != nil {
		if v, ok := st.recipient.Attributes[key]; ok && v != nil {
			return v
		}
	}
	return fallback
}

// formatDate formats v with layout: v is a time.Time, an RFC 3339 or 2006-01-02 string, or Unix
// seconds (a JSON number).
func formatDate(layout string, v any) (string, error) {
	var t time.Time
	switch v := v.(type) {
	case time.Time:
		t = v
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339, v); err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return "", fmt.Errorf("date %q is neither RFC 3339 nor 2006-01-02", v)
			}
		}
	case float64:
		t = time.Unix(int64(v), 0).UTC()
	case int64:
		t = time.Unix(v, 0).UTC()
	case int:
		t = time.Unix(int64(v), 0).UTC()
	default:
		return "", fmt.Errorf("date of a %T", v)
	}
	return t.Format(layout), nil
}

// TemplateError is a template that does not parse or does not execute for a recipient.
type TemplateError struct {
	Template string // PartSubject, PartHTML or PartText
	Line     int    // 0 when unknown
	Field    string // the failing action, e.g. ".Attributes.plan" or `attr "plan"`; empty for syntax errors
	Message  string // what went wrong
	Err      error  // the template package's error
}

func (e *TemplateError) Error() string {
	var b strings.Builder
	b.WriteString(e.Template)
	b.WriteString(" template")
	if e.Line > 0 {
		b.WriteString(" line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(" field ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

func (e *TemplateError) Unwrap() error { return e.Err }

// newTemplateError reads the template packages' messages, which look like
//
//	template: html:3:14: executing "html" at <.Attributes.plan>: map has no entry for key "plan"
//	template: html:2: unclosed action
//	html/template:html:4:9: {{.X}} in attribute name ...
func newTemplateError(part string, err error) *TemplateError {
	te := &TemplateError{Template: part, Err: err, Message: err.Error()}
	var already *TemplateError
	if errors.As(err, &already) {
		return already
	}
	msg := err.Error()
	for _, prefix := range []string{"template: ", "html/template:"} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			msg = rest
			break
		}
	}
	// NAME:LINE[:COL]: rest
	if name, rest, ok := strings.Cut(msg, ":"); ok && name == part {
		lineText, rest, _ := strings.Cut(rest, ":")
		if n, err := strconv.Atoi(lineText); err == nil {
			te.Line = n
			if col, after, ok := strings.Cut(rest, ":"); ok {
				if _, err := strconv.Atoi(col); err == nil {
					rest = after
				}
			}
			msg = strings.TrimSpace(rest)
		}
	}
	if i := strings.Index(msg, " at <"); i >= 0 && strings.HasPrefix(msg, "executing ") {
		if j := strings.Index(msg[i:], ">: "); j >= 0 {
			te.Field = msg[i+len(" at <") : i+j]
			msg = msg[i+j+len(">: "):]
		}
	}
	msg = strings.TrimPrefix(msg, "error calling attr: ")
	te.Message = msg
	return te
}
