package api

import (
	"net/http"
	"time"

	"posthorn/internal/campaign"
	"posthorn/internal/store"
)

// templateView is a campaign template: its subject and bodies are Go templates (package
// render), as `posthorn template show` prints them.
type templateView struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Subject   string    `json:"subject"`
	HTML      string    `json:"html"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewTemplate(t store.Template) templateView {
	return templateView{ID: t.ID, Name: t.Name, Subject: t.Subject, HTML: t.HTML, Text: t.Text,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

func listTemplates(a *API, w http.ResponseWriter, r *http.Request) error {
	ts, err := a.cfg.Campaigns.Templates(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Templates []templateView `json:"templates"`
	}{Templates: make([]templateView, 0, len(ts))}
	for _, t := range ts {
		out.Templates = append(out.Templates, viewTemplate(t))
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// templateInput is the body of POST /api/v1/templates (with name) and PUT
// /api/v1/templates/{name} (without: the path names it).
type templateInput struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
}

// createTemplate is `posthorn template add`.
func createTemplate(a *API, w http.ResponseWriter, r *http.Request) error {
	var in templateInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := a.cfg.Campaigns.CreateTemplate(r.Context(), campaign.TemplateInput{Name: in.Name, Subject: in.Subject,
		HTML: in.HTML, Text: in.Text})
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusCreated, viewTemplate(t))
	return nil
}

func getTemplate(a *API, w http.ResponseWriter, r *http.Request) error {
	t, err := a.cfg.Campaigns.Template(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, viewTemplate(t))
	return nil
}

// updateTemplate is `posthorn template add --replace`: the subject and bodies are replaced
// whole; campaigns made from the template keep their copy.
func updateTemplate(a *API, w http.ResponseWriter, r *http.Request) error {
	var in templateInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	name := r.PathValue("name")
	if in.Name != "" && in.Name != name {
		return invalid("name", "name %q differs from the template of the path, %s: a template cannot be renamed", in.Name, name)
	}
	t, err := a.cfg.Campaigns.UpdateTemplate(r.Context(), campaign.TemplateInput{Name: name, Subject: in.Subject,
		HTML: in.HTML, Text: in.Text})
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, viewTemplate(t))
	return nil
}

func removeTemplate(a *API, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, a.cfg.Campaigns.DeleteTemplate(r.Context(), r.PathValue("name")))
}
