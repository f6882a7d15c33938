package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"posthorn/internal/operr"
)

// The API's own error codes, besides those of operr.
const (
	codeUnauthorized     = string(operr.Unauthorized)
	codeForbidden        = string(operr.Forbidden)
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "too_large"
	codeMediaType        = "unsupported_media_type"
	codeTooManyRequests  = "too_many_requests"
	codeInternal         = "internal"
)

// errorBody is the one shape of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// apiError is an answer the API decides itself (not an operation's refusal).
type apiError struct {
	status       int
	code         string
	message      string
	field        string
	authenticate string        // WWW-Authenticate, for a 401
	retryAfter   time.Duration // Retry-After, for a 429
}

func (e *apiError) Error() string { return e.message }

// statusOf is the HTTP status of an operation's error code.
func statusOf(code operr.Code) int {
	switch code {
	case operr.Invalid:
		return http.StatusBadRequest
	case operr.NotFound:
		return http.StatusNotFound
	case operr.Exists, operr.InUse:
		return http.StatusConflict
	case operr.Unsupported:
		return http.StatusNotImplemented
	case operr.Unauthorized:
		return http.StatusUnauthorized
	case operr.Forbidden:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

func asOperr(err error) (*operr.Error, bool) {
	var e *operr.Error
	return e, errors.As(err, &e)
}

// writeError answers err in the error shape.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var tooLarge *http.MaxBytesError
	switch oe, isOp := asOperr(err); {
	case errors.As(err, &ae):
	case errors.As(err, &tooLarge):
		ae = &apiError{status: http.StatusRequestEntityTooLarge, code: codeTooLarge,
			message: fmt.Sprintf("the request body is larger than %d bytes", tooLarge.Limit)}
	case isOp && statusOf(oe.Code) != http.StatusInternalServerError:
		ae = &apiError{status: statusOf(oe.Code), code: string(oe.Code), message: oe.Message, field: oe.Field}
		if oe.Code == operr.Unauthorized {
			ae.authenticate = `Bearer realm="posthorn", error="invalid_token"`
		}
	default:
		a.logger.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{status: http.StatusInternalServerError, code: codeInternal, message: "internal server error"}
	}
	if ae.authenticate != "" {
		w.Header().Set("WWW-Authenticate", ae.authenticate)
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((ae.retryAfter+time.Second-1)/time.Second)))
	}
	a.writeJSON(w, r, ae.status, errorBody{Error: errorDetail{Code: ae.code, Message: ae.message, Field: ae.field}})
}

// writeJSON answers v as JSON with status.
func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		a.logger.Debug("api response not written", "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

// invalid is a 400 for field.
func invalid(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: string(operr.Invalid), field: field, message: fmt.Sprintf(format, args...)}
}

// requireType refuses a body whose Content-Type is not one of types (415).
func requireType(r *http.Request, types ...string) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	for _, t := range types {
		if err == nil && mt == t {
			return nil
		}
	}
	return &apiError{status: http.StatusUnsupportedMediaType, code: codeMediaType,
		message: "the request body must be " + strings.Join(types, " or ")}
}

// decodeJSON reads r's body (application/json, at most MaxBody bytes, one value, no field
// that v lacks) into v. A malformed body is invalid with field "" or the JSON field at fault.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := requireType(r, "application/json"); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			return invalid("", "the request body holds more than one JSON value")
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.Is(err, io.EOF):
		return invalid("", "the request body is empty: want a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "malformed JSON: %v", err)
	case errors.As(err, &typ):
		return invalid(typ.Field, "%s: want a JSON %s", fieldName(typ.Field), typ.Type.Kind())
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return invalid(name, "unknown field %q", name)
	}
	return invalid("", "malformed JSON: %v", err)
}

func fieldName(f string) string {
	if f == "" {
		return "the body"
	}
	return "field " + f
}

// noContent answers 204 when err, the outcome of a change, is nil, and returns err.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
