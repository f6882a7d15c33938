package mailtrace

import (
	"strconv"
	"strings"
	"time"

	"posthorn/internal/operr"
)

// ParseQuery reads a Query from its parameters as text, by name: from, to, msgid, since,
// until, limit, after (the command line's flags and the API's query parameters). get returns
// "" for a parameter not given. A time is RFC 3339 or a duration before now ("24h", "90m",
// "7d"). Bad input is an *operr.Error naming the parameter.
func ParseQuery(get func(name string) string, now time.Time) (Query, error) {
	q := Query{From: get("from"), To: get("to"), MsgID: get("msgid")}
	var err error
	if q.Since, err = ParseTime("since", get("since"), now); err != nil {
		return Query{}, err
	}
	if q.Until, err = ParseTime("until", get("until"), now); err != nil {
		return Query{}, err
	}
	if s := get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit <= 0 {
			return Query{}, operr.New(operr.Invalid, "limit", s, nil, "limit %q: want 1 to %d", s, MaxLimit)
		}
	}
	if s := get("after"); s != "" {
		if q.After, err = strconv.ParseInt(s, 10, 64); err != nil || q.After <= 0 {
			return Query{}, operr.New(operr.Invalid, "after", s, nil, "after %q: want the id of an event", s)
		}
	}
	return q, nil
}

// ParseTime reads a time given for field: RFC 3339, or a duration before now (Go's units, and
// "d" for days). "" is the zero time.
func ParseTime(field, s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok && err != nil {
		var n int
		if n, err = strconv.Atoi(days); err == nil {
			d = time.Duration(n) * 24 * time.Hour
		}
	}
	if err != nil || d <= 0 {
		return time.Time{}, operr.New(operr.Invalid, field, s, err,
			"%s %q: want an RFC 3339 time (2026-06-01T09:00:00Z) or a duration before now (24h, 7d)", field, s)
	}
	return now.Add(-d), nil
}
