package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"posthorn/internal/filter/spam"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// The outbound queue's pages (/admin/queue: every queued recipient with its state, next
// attempt and the last reply; /admin/queue/{id}: one row, with retry, hold or release, and
// delete) and the spam page (/admin/spam: the training counts, an account's allow and block
// lists, and the explanation of a pasted message's score as the MX would compute it).

type queueData struct {
	Queue []store.QueuedMessage
	// Retried counts the rows the "retry all" form made due.
	Retried int64
	Done    bool
}

func (s *Server) queuePage(w http.ResponseWriter, r *http.Request) {
	list, err := s.ops.ListQueue(r.Context())
	if err != nil {
		s.fail(w, r, "admin-queue", queueData{}, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-queue", queueData{Queue: list})
}

// queueRetryAll makes every row that is not held due now.
func (s *Server) queueRetryAll(w http.ResponseWriter, r *http.Request) {
	n, err := s.ops.RetryAllQueued(r.Context())
	list, lerr := s.ops.ListQueue(r.Context())
	if lerr != nil {
		s.serverError(w, r, lerr)
		return
	}
	if err != nil {
		s.fail(w, r, "admin-queue", queueData{Queue: list}, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-queue", queueData{Queue: list, Retried: n, Done: true})
}

// queueID reads the {id} of the path.
func queueID(r *http.Request) (int64, error) {
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, operr.New(operr.Invalid, "id", s, err, "queue id %q: want a positive number", s)
	}
	return id, nil
}

func (s *Server) queuedPage(w http.ResponseWriter, r *http.Request) {
	id, err := queueID(r)
	if err != nil {
		s.fail(w, r, "admin-queued", nil, err)
		return
	}
	q, err := s.ops.GetQueued(r.Context(), id)
	if err != nil {
		s.fail(w, r, "admin-queued", nil, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-queued", q)
}

// queuedPost runs the action of the row's form: retry, hold, release or delete (confirmed).
func (s *Server) queuedPost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := queueID(r)
	if err != nil {
		s.fail(w, r, "admin-queued", nil, err)
		return
	}
	q, err := s.ops.GetQueued(ctx, id)
	if err != nil {
		s.fail(w, r, "admin-queued", nil, err)
		return
	}
	switch action := r.PostForm.Get("action"); action {
	case "retry":
		err = s.ops.RetryQueued(ctx, id)
	case "hold", "release":
		err = s.ops.HoldQueued(ctx, id, action == "hold")
	case "delete":
		if !s.confirmed(w, r, "admin-queued", q) {
			return
		}
		if err = s.ops.DeleteQueued(ctx, id); err == nil {
			http.Redirect(w, r, "/admin/queue", http.StatusSeeOther)
			return
		}
	default:
		err = operr.New(operr.Invalid, "action", action, nil, "unknown action")
	}
	if err != nil {
		s.fail(w, r, "admin-queued", q, err)
		return
	}
	http.Redirect(w, r, "/admin/queue/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// The spam page.

type spamData struct {
	// Account is the account whose lists are shown, "" for none chosen.
	Account        string
	Global, Counts store.SpamCounts
	Allow, Block   []string
	// Entry and List are what the add form had; Message what the explain form had.
	Entry, List, Message string
	Score                *spam.Score
	Explanation          *spam.Explanation
}

// maxClues is how many of the deciding tokens an explanation shows.
const maxClues = 20

func (s *Server) spamData(r *http.Request, account string) (spamData, error) {
	ctx := r.Context()
	d := spamData{Account: strings.TrimSpace(account), List: "block"}
	var err error
	if d.Global, d.Counts, err = s.ops.SpamTotals(ctx, d.Account); err != nil {
		d.Account = ""
		if g, _, gerr := s.ops.SpamTotals(ctx, ""); gerr == nil {
			d.Global = g
		}
		return d, err
	}
	if d.Account == "" {
		return d, nil
	}
	if d.Allow, err = s.ops.SpamList(ctx, d.Account, false); err != nil {
		return d, err
	}
	d.Block, err = s.ops.SpamList(ctx, d.Account, true)
	return d, err
}

func (s *Server) spamPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.spamData(r, r.URL.Query().Get("account"))
	if err != nil {
		s.fail(w, r, "admin-spam", d, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-spam", d)
}

// spamPost adds an entry to an account's allow or block list, or removes one.
func (s *Server) spamPost(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	d, err := s.spamData(r, f.Get("account"))
	if err != nil {
		s.fail(w, r, "admin-spam", d, err)
		return
	}
	if d.Account == "" {
		s.formError(w, r, http.StatusBadRequest, "admin-spam", d, "account", "Choose the account whose lists to change.")
		return
	}
	entry, list := strings.TrimSpace(f.Get("entry")), f.Get("list")
	if list != "allow" && list != "block" {
		s.formError(w, r, http.StatusBadRequest, "admin-spam", d, "list", "Choose the allow or the block list.")
		return
	}
	switch f.Get("action") {
	case "remove":
		err = s.ops.RemoveSpamListEntry(r.Context(), d.Account, entry, list == "block")
	default:
		err = s.ops.AddSpamListEntry(r.Context(), d.Account, entry, list == "block")
	}
	if err != nil {
		d.Entry, d.List = entry, list
		s.fail(w, r, "admin-spam", d, err)
		return
	}
	http.Redirect(w, r, "/admin/spam?account="+url.QueryEscape(d.Account), http.StatusSeeOther)
}

// spamExplain scores the pasted message for the chosen account (or the global model) and
// shows what the score was made of. The form's size bound (maxForm) bounds the message.
func (s *Server) spamExplain(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	d, err := s.spamData(r, f.Get("account"))
	if err != nil {
		s.fail(w, r, "admin-spam", d, err)
		return
	}
	msg := f.Get("message")
	d.Message = msg
	if strings.TrimSpace(msg) == "" {
		s.formError(w, r, http.StatusBadRequest, "admin-spam", d, "message", "Paste a message (its header and body) to explain.")
		return
	}
	// A pasted message has the browser's line ends; a message on the wire has CRLF.
	raw := strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")
	score, ex, err := s.ops.ExplainSpam(r.Context(), d.Account, strings.NewReader(raw), int64(len(raw)))
	if err != nil {
		s.fail(w, r, "admin-spam", d, err)
		return
	}
	if len(ex.Clues) > maxClues {
		ex.Clues = ex.Clues[:maxClues]
	}
	d.Score, d.Explanation = &score, ex
	s.render(w, r, http.StatusOK, "admin-spam", d)
}
