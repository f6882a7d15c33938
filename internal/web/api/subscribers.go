package api

import (
	"io"
	"net/http"
	"strconv"

	"posthorn/internal/campaign"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// listOfPath is the list {id}.
func (a *API) listOfPath(r *http.Request) (store.List, error) {
	id, err := pathID(r)
	if err != nil {
		return store.List{}, err
	}
	return a.cfg.Campaigns.ListByID(r.Context(), id)
}

// getList answers one list with its subscriptions by status (those of `posthorn list list`).
func getList(a *API, w http.ResponseWriter, r *http.Request) error {
	l, err := a.listOfPath(r)
	if err != nil {
		return err
	}
	lists, err := a.cfg.Campaigns.Lists(r.Context())
	if err != nil {
		return err
	}
	for _, s := range lists {
		if s.ID == l.ID {
			a.writeJSON(w, r, http.StatusOK, viewList(s.List, s.Counts))
			return nil
		}
	}
	return operr.New(operr.NotFound, "id", strconv.FormatInt(l.ID, 10), nil, "unknown list %d", l.ID)
}

// removeList is `posthorn list delete`: the list and its subscriptions go, the subscribers
// stay.
func removeList(a *API, w http.ResponseWriter, r *http.Request) error {
	l, err := a.listOfPath(r)
	if err != nil {
		return err
	}
	return noContent(w, a.cfg.Campaigns.DeleteList(r.Context(), l.Name))
}

// unsubscribe is `posthorn subscriber remove ADDRESS --list LIST`: the subscription ends
// (source api, the request's address), the subscriber stays; again is not an error.
func unsubscribe(a *API, w http.ResponseWriter, r *http.Request) error {
	l, err := a.listOfPath(r)
	if err != nil {
		return err
	}
	return noContent(w, a.cfg.Campaigns.Unsubscribe(r.Context(), campaign.SubscriberInput{Address: r.PathValue("address"),
		List: l.Name, Source: store.SourceAPI, IP: clientIP(r)}))
}

// importSubscribers is `posthorn subscriber import FILE --list LIST`: the body is the CSV
// (header: email, name, attributes...), ?consent_text=, ?tracking=true and ?confirmed=true
// apply to every row.
func importSubscribers(a *API, w http.ResponseWriter, r *http.Request) error {
	if err := requireType(r, "text/csv"); err != nil {
		return err
	}
	l, err := a.listOfPath(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	in := campaign.CSVInput{List: l.Name, ConsentText: q.Get("consent_text")}
	if in.Tracking, err = queryBool(r, "tracking"); err != nil {
		return err
	}
	if in.Confirmed, err = queryBool(r, "confirmed"); err != nil {
		return err
	}
	return a.runImport(w, r, func(body io.Reader, opts campaign.ImportOptions) (campaign.ImportReport, error) {
		return a.cfg.Campaigns.ImportCSV(r.Context(), body, in, opts)
	})
}

// queryBool reads ?name=true|false; absent is false.
func queryBool(r *http.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, invalid(name, "%s %q: want true or false", name, s)
	}
	return b, nil
}

// exportSubscribers is `posthorn subscriber export --list LIST`: the list's subscribers (not
// those who left) as CSV.
func exportSubscribers(a *API, w http.ResponseWriter, r *http.Request) error {
	l, err := a.listOfPath(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = a.cfg.Campaigns.ExportCSV(r.Context(), l.Name, w)
	return err
}

// subscriberDetailView is a subscriber with all its subscriptions.
type subscriberDetailView struct {
	subscriberView
	Subscriptions []subscriptionView `json:"subscriptions"`
}

func viewSubscriberDetail(s store.Subscriber, subs []store.Subscription) subscriberDetailView {
	v := subscriberDetailView{subscriberView: viewSubscriber(s, nil), Subscriptions: make([]subscriptionView, 0, len(subs))}
	for i := range subs {
		v.Subscriptions = append(v.Subscriptions, *viewSubscriber(s, &subs[i]).Subscription)
	}
	return v
}

func getSubscriber(a *API, w http.ResponseWriter, r *http.Request) error {
	return a.writeSubscriber(w, r, r.PathValue("address"), http.StatusOK)
}

func (a *API) writeSubscriber(w http.ResponseWriter, r *http.Request, addr string, status int) error {
	sub, subs, err := a.cfg.Campaigns.Subscriber(r.Context(), addr)
	if err != nil {
		return err
	}
	a.writeJSON(w, r, status, viewSubscriberDetail(sub, subs))
	return nil
}

// subscriberUpdate is the body of PUT /api/v1/subscribers/{address}.
type subscriberUpdate struct {
	Name       string         `json:"name"`
	Attributes map[string]any `json:"attributes"`
}

// putSubscriber is `posthorn subscriber add ADDRESS` without --list: it creates the
// subscriber (201) or replaces its name and attributes (200); subscriptions are unchanged.
func putSubscriber(a *API, w http.ResponseWriter, r *http.Request) error {
	var in subscriberUpdate
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	addr := r.PathValue("address")
	status := http.StatusOK
	if _, _, err := a.cfg.Campaigns.Subscriber(r.Context(), addr); err != nil {
		if _, unknown := operr.As(err, operr.NotFound, ""); !unknown {
			return err
		}
		status = http.StatusCreated
	}
	saved, err := a.cfg.Campaigns.SaveSubscriber(r.Context(), campaign.SubscriberInput{Address: addr, Name: in.Name,
		Attributes: in.Attributes})
	if err != nil {
		return err
	}
	return a.writeSubscriber(w, r, saved.Address, status)
}

// removeSubscriber is `posthorn subscriber remove ADDRESS`: the subscriber and its
// subscriptions go (its address is not suppressed).
func removeSubscriber(a *API, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, a.cfg.Campaigns.DeleteSubscriber(r.Context(), r.PathValue("address")))
}
