package ui

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"strings"
	"time"

	"posthorn/internal/operr"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// templates are the parsed pages, each with the layout, and the assets' content hashes.
type templates struct {
	pages  map[string]*template.Template
	hashes map[string]string // asset name → short content hash
}

// page is what every template sees: the principal (nil when not logged in), the CSRF token,
// the form error if any, and the page's own data.
type page struct {
	Principal *Principal
	CSRF      string
	// Error is the message of a refused form, and ErrorField the form field it names.
	Error      string
	ErrorField string
	Data       any
}

func parseTemplates() (*templates, error) {
	t := &templates{pages: map[string]*template.Template{}, hashes: map[string]string{}}
	err := fs.WalkDir(assetFiles, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		t.hashes[strings.TrimPrefix(p, "assets/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui assets: %w", err)
	}
	funcs := template.FuncMap{
		"csrfField": func(p page) template.HTML {
			return template.HTML(`<input type="hidden" name="csrf" value="` + template.HTMLEscapeString(p.CSRF) + `">`)
		},
		"asset": func(name string) (string, error) {
			h, ok := t.hashes[name]
			if !ok {
				return "", fmt.Errorf("no asset %s", name)
			}
			return "/ui/assets/" + name + "?v=" + h, nil
		},
		"when": func(at time.Time) string { return at.UTC().Format("2006-01-02 15:04 MST") },
	}
	maps.Copy(funcs, adminOpsFuncs())
	maps.Copy(funcs, adminTraceFuncs())
	maps.Copy(funcs, dashFuncs())
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		p, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("ui template %s: %w", name, err)
		}
		t.pages[name] = p
	}
	return t, nil
}

// render writes the page name with status and data, inside the layout.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.renderPage(w, r, status, name, page{Data: data})
}

func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := s.tmpl.pages[name]
	if !ok {
		s.serverError(w, r, fmt.Errorf("no template %s", name))
		return
	}
	p.Principal = principal(r)
	p.CSRF, _ = r.Context().Value(csrfKey).(string)
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		s.serverError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// fail shows err on the form of page name: an *operr.Error with 400 (404 for not_found, 409
// for exists) and its field named; a throttling refusal as the 429 page; anything else as 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, name string, data any, err error) {
	var oe *operr.Error
	switch {
	case throttled(err):
		s.render(w, r, http.StatusTooManyRequests, "throttled", nil)
	case errors.As(err, &oe):
		status := http.StatusBadRequest
		switch oe.Code {
		case operr.NotFound:
			status = http.StatusNotFound
		case operr.Exists, operr.InUse:
			status = http.StatusConflict
		}
		s.renderPage(w, r, status, name, page{Data: data, Error: oe.Message, ErrorField: oe.Field})
	default:
		s.serverError(w, r, err)
	}
}

// formError shows message on the form of page name with status, naming field.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, status int, name string, data any, field, message string) {
	s.renderPage(w, r, status, name, page{Data: data, Error: message, ErrorField: field})
}

// serverError logs err and answers a generic 500.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.logger.Error("web UI request failed", "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("Something went wrong on the server; it has been logged.\n"))
}

// assets serves the embedded assets, cached for a year: their URLs carry a content hash.
func (s *Server) assets() http.Handler {
	sub, _ := fs.Sub(assetFiles, "assets")
	files := http.StripPrefix("/ui/assets/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
