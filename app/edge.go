package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// The request edge: every request body is limited before anything reads it,
// and every piece of text a handler may read (path, query, form, JSON) is
// checked once here, so handlers and the database only ever see valid UTF-8
// without NUL bytes.

// Body limits. Every route gets formBodyLimit unless routes.go declares
// another (bodyLimit): enough for any form of short fields, small enough
// that nobody can make an unauthenticated request cost real memory.
const (
	formBodyLimit = 64 << 10
	// messageBodyLimit fits the longest message (models.MaxMessageLen,
	// 10,000 characters) URL-encoded: up to 12 bytes a character.
	messageBodyLimit = 256 << 10
	// itemBodyLimit fits an item's description (models.MaxItemDescription,
	// 20,000 characters) URL-encoded, with its other fields.
	itemBodyLimit = 512 << 10
	// multipartMemory is how much of a multipart body (only on routes that
	// declare they take one) is kept in memory; the rest goes to temporary
	// files, which limitBody removes when the request ends.
	multipartMemory = 64 << 10
)

// bodyRule is what a route accepts as a request body.
type bodyRule struct {
	limit int64 // bytes; a larger body is 413
	// multipart allows multipart/form-data (uploads); forms never need it,
	// so elsewhere it is 415.
	multipart bool
}

// bodyLimit declares route's body rule (routes.go): its limit and whether it
// takes multipart uploads.
func (a *App) bodyLimit(r *echo.Route, rule bodyRule) {
	if a.bodyRules == nil {
		a.bodyRules = map[string]bodyRule{}
	}
	a.bodyRules[r.Method+" "+r.Path] = rule
}

// bodyRuleOf is the rule of the route the request matched (echo has routed
// it before the middleware runs); unknown paths get the default.
func (a *App) bodyRuleOf(c echo.Context) bodyRule {
	if r, ok := a.bodyRules[c.Request().Method+" "+c.Path()]; ok {
		return r
	}
	return bodyRule{limit: formBodyLimit}
}

var (
	// errBodyTooLarge is a body over its route's limit.
	errBodyTooLarge = echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	// errMultipart is a multipart body on a route that takes none.
	errMultipart = echo.NewHTTPError(http.StatusUnsupportedMediaType)
	// errBadText is input that is not text: invalid UTF-8 or a NUL byte
	// (handleError gives it its own message).
	errBadText = echo.NewHTTPError(http.StatusBadRequest, "request input is not valid UTF-8 text or contains a NUL byte")
)

// limitBody runs before anything may read the body (the session, the CSRF
// check): a declared Content-Length over the route's limit is refused at
// once, unread; any other body is cut at the limit while read, so a chunked
// one fails too. Whatever multipart form the request parsed is removed when
// it ends — on echo's current request, which may be a copy of the one
// net/http cleans up.
func (a *App) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		rule := a.bodyRuleOf(c)
		defer func() {
			for _, r := range []*http.Request{req, c.Request()} {
				if r.MultipartForm != nil {
					r.MultipartForm.RemoveAll() //nolint:errcheck // best effort; the files are ours
				}
			}
		}()
		if req.ContentLength > rule.limit {
			return errBodyTooLarge
		}
		if req.Body != nil && req.Body != http.NoBody {
			// The underlying writer, so net/http closes the connection
			// instead of draining the rest of an oversized body.
			req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, rule.limit)
		}
		return next(c)
	}
}

// checkInput validates, once for every handler, the text a request carries:
// the path, every query value, and the body's form values or JSON strings
// must be valid UTF-8 without NUL bytes (PostgreSQL stores neither). The
// form is parsed here, on the request echo holds, so a body over its limit
// is a 413 rather than a silently empty form.
func (a *App) checkInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if !isText(req.URL.Path) {
			return errBadText
		}
		if !valuesAreText(c.QueryParams()) {
			return errBadText
		}
		switch req.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		ct, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
		switch ct {
		case echo.MIMEApplicationForm:
			if err := req.ParseForm(); err != nil {
				return bodyError(err)
			}
			if !valuesAreText(req.PostForm) {
				return errBadText
			}
		case echo.MIMEMultipartForm:
			if !a.bodyRuleOf(c).multipart {
				return errMultipart
			}
			if err := req.ParseMultipartForm(multipartMemory); err != nil {
				return bodyError(err)
			}
			if !valuesAreText(req.MultipartForm.Value) {
				return errBadText
			}
			for _, fhs := range req.MultipartForm.File {
				for _, fh := range fhs {
					if !isText(fh.Filename) {
						return errBadText
					}
				}
			}
		case echo.MIMEApplicationJSON:
			b, err := io.ReadAll(req.Body)
			if err != nil {
				return bodyError(err)
			}
			req.Body = io.NopCloser(bytes.NewReader(b))
			if !jsonIsText(b) {
				return errBadText
			}
		}
		return next(c)
	}
}

// bodyError maps a failure to read the body: over the limit is 413,
// anything else (a malformed form, a connection cut) 400.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooLarge
	}
	return echo.NewHTTPError(http.StatusBadRequest).SetInternal(err)
}

// isText reports whether s is valid UTF-8 without NUL bytes.
func isText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

func valuesAreText(vs map[string][]string) bool {
	for k, v := range vs {
		if !isText(k) {
			return false
		}
		for _, s := range v {
			if !isText(s) {
				return false
			}
		}
	}
	return true
}

// jsonIsText reports whether a JSON body holds only text: valid UTF-8 and
// no NUL, also not as a \u0000 escape. A body that is not JSON at all is
// left to its handler.
func jsonIsText(b []byte) bool {
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return true
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return true
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return isText(v)
		case []any:
			for _, x := range v {
				if !walk(x) {
					return false
				}
			}
		case map[string]any:
			for k, x := range v {
				if !isText(k) || !walk(x) {
					return false
				}
			}
		}
		return true
	}
	return walk(v)
}

// maxUserAgent is how much of a User-Agent header is kept.
const maxUserAgent = 500

// userAgent is the request's User-Agent as text that can be stored: invalid
// bytes replaced, cut at maxUserAgent bytes on a character boundary.
func userAgent(c echo.Context) string {
	return clipText(strings.ToValidUTF8(c.Request().UserAgent(), "\uFFFD"), maxUserAgent)
}

// clipText cuts valid UTF-8 s to at most n bytes without splitting a
// character.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
