package render

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
)

// CheckError is the first recipient whose message does not render.
type CheckError struct {
	Address string // the subscriber's address
	Shape   string // ShapeOf their attributes
	Field   string // the failing field, as TemplateError.Field
	Err     error  // a *TemplateError, or what else failed
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("subscriber %s: %v", e.Address, e.Err)
}

func (e *CheckError) Unwrap() error { return e.Err }

// checkLinks are the links Check renders with: fixed, well-formed URLs.
type checkLinks struct{}

func (checkLinks) UnsubscribeURL() string      { return "https://check.invalid/u/x" }
func (checkLinks) ViewURL() string             { return "https://check.invalid/t/v/x" }
func (checkLinks) PreferencesURL() string      { return "https://check.invalid/p/x" }
func (checkLinks) ClickURL(int, string) string { return "https://check.invalid/t/c/x" }
func (checkLinks) OpenURL() string             { return "https://check.invalid/t/o/x.gif" }
func (checkLinks) UnsubscribeMailto() string   { return "unsubscribe+x@check.invalid" }

// Check renders c for one recipient of each distinct shape of recipients (ShapeOf; a shape seen
// before is skipped) and returns the first failure as a *CheckError, or nil when every shape
// renders. It renders with tracking off and writes nothing: link rewriting cannot fail on a
// recipient, templates can. The caller streams one sample recipient per shape of the audience.
func Check(c *Campaign, shapes iter.Seq[Recipient]) error {
	rd, err := c.get()
	if err != nil {
		return err
	}
	defer c.put(rd)
	seen := map[string]bool{}
	for r := range shapes {
		shape := ShapeOf(r.Attributes)
		if seen[shape] {
			continue
		}
		seen[shape] = true
		if err := rd.render(r, checkLinks{}, false, false); err != nil {
			ce := &CheckError{Address: r.Address.String(), Shape: shape, Err: err}
			var te *TemplateError
			if errors.As(err, &te) {
				ce.Field = te.Field
			}
			return ce
		}
	}
	return nil
}

// ShapeOf returns the shape of a subscriber's attributes: the sorted attribute paths, each with
// the JSON kind of its value, as "path:kind" joined by commas ("age:number,plan:string"). Objects
// are walked (path "a.b" for {"a":{"b":…}}, beside "a:object"); arrays are one kind, not walked.
// Kinds: null, bool, number, string, array, object (and the Go type name for values that did not
// come from JSON).
func ShapeOf(attrs map[string]any) string {
	var paths []string
	collectShape(&paths, "", attrs)
	slices.Sort(paths)
	return strings.Join(paths, ",")
}

func collectShape(paths *[]string, prefix string, m map[string]any) {
	for k, v := range m {
		path := prefix + k
		*paths = append(*paths, path+":"+kindOf(v))
		if sub, ok := v.(map[string]any); ok {
			collectShape(paths, path+".", sub)
		}
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64, float32, int, int64, int32, uint, uint64, uint32:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
