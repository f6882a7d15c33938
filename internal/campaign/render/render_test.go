package render

import (
	"errors"
	"strings"
	"testing"
)

func TestRenderWithAttributes(t *testing.T) {
	c := testContent(t)
	c.Subject = "{{.Name}}, your {{.Attributes.plan}} plan"
	c.HTML = `<p>Hello {{.Name}} ({{.Email}}) from {{attr "city"}}, member since {{date "2 January 2006" (attr "since")}}.</p>
<p>{{.Campaign}} on {{.List}}, {{attr_or "nickname" "friend"}}, {{.Attributes.visits}} visits.</p>
<p><a href="{{unsubscribe_url}}">Unsubscribe</a> <a href="{{view_url}}">View</a> <a href="{{preferences_url}}">Preferences</a></p>`
	c.Text = "Hi {{.Name}} <{{.Email}}>, {{attr \"city\"}} {{unsubscribe_url}}"
	camp := compile(t, c)
	r := recipient(t, "Ann@Example.NET", "Ann <b>", map[string]any{"plan": "gold", "city": "Köln", "since": "2024-03-05", "visits": float64(12)})
	p, err := camp.RenderParts(r, newTestLinks("r1"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "Ann <b>, your gold plan" {
		t.Errorf("subject %q", p.Subject)
	}
	html := string(p.HTML)
	for _, want := range []string{
		"Hello Ann &lt;b&gt; (ann@example.net) from Köln, member since 5 March 2024.",
		"November news on Monthly News, friend, 12 visits.",
		`<a href="https://news.example.org/u/r1">Unsubscribe</a>`,
		`<a href="https://news.example.org/t/v/r1">View</a>`,
		`<a href="https://news.example.org/p/r1">Preferences</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %q:\n%s", want, html)
		}
	}
	if got := string(p.Text); got != "Hi Ann <b> <ann@example.net>, Köln https://news.example.org/u/r1" {
		t.Errorf("text %q", got)
	}
}

func TestStrictMissingKeyNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name, html, field string
		line              int
	}{
		{"map key", "<p>Hi</p>\n<p>{{.Attributes.plan}}</p>", ".Attributes.plan", 2},
		{"attr", "<p>Hi</p>\n\n<p>{{attr \"plan\"}}</p>", `attr "plan"`, 3},
		{"map key of a subscriber without attributes", "<p>{{.Attributes.plan}}</p>", ".Attributes.plan", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testContent(t)
			c.HTML = tc.html
			camp := compile(t, c)
			attrs := map[string]any{"city": "Oslo"}
			if tc.line == 1 {
				attrs = nil
			}
			_, err := camp.RenderParts(recipient(t, "bob@example.net", "Bob", attrs), newTestLinks("r"))
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("error %v is not a TemplateError", err)
			}
			if te.Template != PartHTML || te.Line != tc.line || te.Field != tc.field {
				t.Fatalf("template %q line %d field %q, want html %d %q (%v)", te.Template, te.Line, te.Field, tc.line, tc.field, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "html template") || !strings.Contains(msg, tc.field) || !strings.Contains(msg, `"plan"`) {
				t.Errorf("message %q names not the template, line and field", msg)
			}
		})
	}
}

func TestCompileSyntaxErrorNamesTemplateAndLine(t *testing.T) {
	for _, tc := range []struct {
		part string
		line int
		set  func(*Content)
	}{
		{PartSubject, 1, func(c *Content) { c.Subject = "Hi {{.Name" }},
		{PartHTML, 3, func(c *Content) { c.HTML = "<p>\n</p>\n{{if .Name}}" }},
		{PartText, 2, func(c *Content) { c.Text = "Hi\n{{nosuchfunc}}" }},
	} {
		c := testContent(t)
		c.HTML = "<p>x</p>"
		tc.set(&c)
		_, err := Compile(c)
		var te *TemplateError
		if !errors.As(err, &te) || te.Template != tc.part || te.Line != tc.line {
			t.Errorf("%s: error %v, want a TemplateError at line %d", tc.part, err, tc.line)
		}
	}
	if _, err := Compile(Content{Subject: "x", From: mustAddress(t, "a@example.org")}); err == nil {
		t.Error("a campaign without a body compiled")
	}
}

func TestCheckFindsTheBadShape(t *testing.T) {
	c := testContent(t)
	c.HTML = `<p>Hi {{.Name}}</p>{{if attr_or "vip" false}}<p>Your code: {{attr "vip_code"}}</p>{{end}}`
	camp := compile(t, c)
	audience := []Recipient{
		recipient(t, "a@example.net", "A", nil),
		recipient(t, "b@example.net", "B", map[string]any{"vip": false}),
		recipient(t, "c@example.net", "C", map[string]any{"vip": true, "vip_code": "X1"}),
		recipient(t, "d@example.net", "D", map[string]any{"vip": false}), // a shape seen already
		recipient(t, "e@example.net", "E", map[string]any{"vip": true, "note": map[string]any{"x": 1.0}}),
		recipient(t, "f@example.net", "F", map[string]any{"vip": true}),
	}
	seq := func(yield func(Recipient) bool) {
		for _, r := range audience {
			if !yield(r) {
				return
			}
		}
	}
	err := Check(camp, seq)
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("Check = %v, want a CheckError", err)
	}
	if ce.Address != "e@example.net" || ce.Field != `attr "vip_code"` || ce.Shape != "note.x:number,note:object,vip:bool" {
		t.Fatalf("CheckError %+v", ce)
	}
	if !strings.Contains(err.Error(), "e@example.net") || !strings.Contains(err.Error(), "vip_code") {
		t.Errorf("message %q", err)
	}
	if err := Check(camp, func(yield func(Recipient) bool) { yield(audience[2]) }); err != nil {
		t.Errorf("Check of a good shape: %v", err)
	}
}

func TestShapeOf(t *testing.T) {
	got := ShapeOf(map[string]any{"b": "x", "a": 1.0, "c": nil, "d": []any{1.0}, "e": true, "f": map[string]any{"g": "h"}})
	if want := "a:number,b:string,c:null,d:array,e:bool,f.g:string,f:object"; got != want {
		t.Errorf("ShapeOf = %q, want %q", got, want)
	}
	if ShapeOf(map[string]any{"a": "x"}) == ShapeOf(map[string]any{"a": 2.0}) {
		t.Error("a string and a number attribute have one shape")
	}
}

func TestRenderConcurrently(t *testing.T) {
	c := testContent(t)
	c.HTML = trackedHTML
	camp := compile(t, c)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			for j := range 20 {
				r := recipient(t, "ann@example.net", "Ann", nil)
				r.Name = strings.Repeat("x", i+j)
				p, err := camp.RenderParts(r, newTestLinks("c"))
				if err == nil && !strings.Contains(string(p.Text), r.Name) && r.Name != "" {
					err = errors.New("text of another recipient")
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
