package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// Fuzz tests of every parser of user input that sign-in and the widget
// reach. Under plain `go test` each runs its seed corpus (the hostile cases
// the review found, and valid inputs to mutate from); `go test -fuzz
// FuzzX ./app` explores further. Those that go through the app share one
// instance per target and call its handler in process.

// hostileText are strings that broke, or could break, a parser.
var hostileText = []string{
	"", " ", "a", "caf\xe9", "\xff\xfe", "a\x00b", "\x00", "é", strings.Repeat("é", 300), "<script>alert(1)</script>",
	"'; DROP TABLE users; --", "%00", "%ff", "%", "\r\n", "\t", "9223372036854775807", "18446744073709551615",
	"-1", "0", "1e309", "javascript:alert(1)", "//evil.example", "/\t/evil.example", "\u202e", "\ufeff",
}

// formRequest is a POST of form values, sent in process.
func formRequest(path string, vals url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// FuzzSafeNext: whatever next says, the sign-in page sends the browser to a
// page of this site, as a browser reads the address (tabs and newlines
// dropped, backslashes taken for slashes), also once percent-decoded.
func FuzzSafeNext(f *testing.F) {
	for _, s := range append(hostileNext, "/", "/account", "/inbox?status=closed", "/tickets?q=caf%C3%A9", "/a/../b") {
		f.Add(s)
	}
	for _, s := range hostileText {
		f.Add(s)
	}
	base, _ := url.Parse("https://parley.example/login")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q: neither the input nor /", next, got)
		}
		s := got
		for range 4 {
			browser := strings.NewReplacer("\t", "", "\r", "", "\n", "", "\\", "/").Replace(strings.TrimLeft(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
			u, err := base.Parse(browser)
			if err != nil {
				t.Fatalf("safeNext(%q) = %q, which does not parse: %v", next, got, err)
			}
			if u.Host != "parley.example" || u.Scheme != "https" {
				t.Fatalf("safeNext(%q) = %q leads to %s", next, got, u)
			}
			d, err := url.PathUnescape(s)
			if err != nil || d == s {
				break
			}
			s = d
		}
	})
}

// FuzzCheckInput: the edge lets through only text (valid UTF-8 without
// NUL) in the path, query and form, and answers anything else without a
// server error.
func FuzzCheckInput(f *testing.F) {
	a := &App{}
	e := echo.New()
	a.bodyLimit(e.POST("/big", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }), bodyRule{limit: 1 << 10})
	handler := func(c echo.Context) error {
		if !isText(c.Request().URL.Path) || !valuesAreText(c.QueryParams()) {
			return c.String(http.StatusTeapot, "non-text query reached the handler")
		}
		if form, err := c.FormParams(); err == nil && !valuesAreText(form) {
			return c.String(http.StatusTeapot, "non-text form reached the handler")
		}
		return c.NoContent(http.StatusNoContent)
	}
	e.GET("/*", handler)
	e.POST("/*", handler)
	e.Use(a.limitBody, a.checkInput)
	for _, s := range hostileText {
		f.Add("/x", "q="+url.QueryEscape(s), "f="+url.QueryEscape(s), uint8(0))
		f.Add("/"+url.PathEscape(s), "", "", uint8(1))
		f.Add("/x", "", `{"a":"`+s+`"}`, uint8(2))
	}
	f.Add("/x", "a=%zz&b=%", "f=%zz", uint8(0))
	f.Add("/x", "", `{"a":"\u0000"}`, uint8(2))
	f.Add("/x", "", "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--b--\r\n", uint8(3))
	f.Add("/big", "", strings.Repeat("a=b&", 1000), uint8(0))
	f.Fuzz(func(t *testing.T, path, query, body string, kind uint8) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.URL.Path, req.URL.RawQuery = "/"+strings.TrimPrefix(path, "/"), query
		switch kind % 4 {
		case 0:
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		case 1:
			req.Method = http.MethodGet
		case 2:
			req.Header.Set("Content-Type", "application/json")
		case 3:
			req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code == http.StatusTeapot {
			t.Fatalf("%s %q ?%q body %q: %d %s", req.Method, path, query, body, rec.Code, rec.Body)
		}
	})
}

// FuzzLoginForm: the sign-in form answers whatever its fields hold without
// a server error (a failed sign-in, a rate limit, a redirect).
func FuzzLoginForm(f *testing.F) {
	e := setup(f)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	csrf := strings.Repeat("c", 43)
	f.Add("ada@example.com", "correct horse", "/account")
	f.Add("ada@example.com", "correct horse", "/\t/evil.example")
	f.Add("ADA@example.com ", "wrong", "")
	for _, s := range hostileText {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, email, password, next string) {
		req := formRequest("/login", url.Values{"_csrf": {csrf}, "email": {email}, "password": {password}, "next": {next}})
		req.AddCookie(&http.Cookie{Name: csrfCookie, Value: csrf})
		rec := e.serve(req)
		if rec.Code >= 500 {
			t.Fatalf("email %q password %q next %q: %d", email, password, next, rec.Code)
		}
		if loc := rec.Header().Get("Location"); rec.Code == http.StatusSeeOther && (strings.HasPrefix(loc, "//") || !strings.HasPrefix(loc, "/")) {
			t.Fatalf("next %q redirected to %q", next, loc)
		}
	})
}

// fuzzWidget is one app with a visitor and a conversation for the widget's
// fuzz targets; the rate limits are out of the way.
func fuzzWidget(f *testing.F) (*testEnv, *widgetClient, string) {
	e := setup(f, envOpts{widgetLimits: &WidgetLimits{VisitorPosts: 1 << 30, IPPosts: 1 << 30, IPVisitors: 1 << 30, IPReads: 1 << 30}})
	w := e.newVisitor()
	return e, w, w.start("hello")
}

// widgetRequest signs a request as the widget's frame does.
func widgetRequest(req *http.Request, token, lang string) *http.Request {
	req.Header.Set("HX-Request", "true")
	req.Header.Set(visitorHeader, token)
	req.Header.Set(langHeader, lang)
	return req
}

// FuzzVisitorHeaders: the visitor token and language, from headers or the
// query, never make the widget fail: an unknown token is a 401.
func FuzzVisitorHeaders(f *testing.F) {
	e, w, _ := fuzzWidget(f)
	f.Add(w.token, "fr", "pt-BR,pt;q=0.9")
	f.Add(w.token+"x", "xx", "*")
	for _, s := range hostileText {
		f.Add(s, s, s)
	}
	f.Fuzz(func(t *testing.T, token, lang, accept string) {
		for _, target := range []string{"/widget/home", "/widget/frame?lang=" + url.QueryEscape(lang), "/widget/theme.css"} {
			req := widgetRequest(httptest.NewRequest(http.MethodGet, target, nil), token, lang)
			req.Header.Set("Accept-Language", accept)
			rec := e.serve(req)
			if rec.Code >= 500 {
				t.Fatalf("%s token %q lang %q accept %q: %d", target, token, lang, accept, rec.Code)
			}
			if target == "/widget/home" && token != w.token && rec.Code == http.StatusOK {
				t.Fatalf("token %q was taken for the visitor's", token)
			}
		}
	})
}

// FuzzWidgetStartForm: the pre-chat form (message, name, email) and the
// session details the frame adds (page, referrer, time zone, language,
// browser) start a conversation or answer 4xx, never 5xx.
func FuzzWidgetStartForm(f *testing.F) {
	e, w, _ := fuzzWidget(f)
	f.Add("Hello, I need help", "Ana", "ana@example.com", "https://shop.example/cart?x=1", "https://google.example/", "Europe/Paris", "fr-FR", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0")
	f.Add("hi", "", "", "javascript:alert(1)", "ftp://x", "../../etc/passwd", "en\"><script>", strings.Repeat("a", 499)+"é")
	for _, s := range hostileText {
		f.Add(s, s, s, s, s, s, s, s)
	}
	f.Fuzz(func(t *testing.T, body, name, email, page, referrer, tz, lang, ua string) {
		req := formRequest("/widget/conversations", url.Values{"body": {body}, "name": {name}, "email": {email},
			"page_url": {page}, "referrer": {referrer}, "tz": {tz}, "lang": {lang}})
		req.Header.Set("User-Agent", ua)
		rec := e.serve(widgetRequest(req, w.token, "en"))
		if rec.Code >= 500 {
			t.Fatalf("body %q name %q email %q page %q referrer %q tz %q lang %q ua %q: %d", body, name, email, page, referrer, tz, lang, ua, rec.Code)
		}
	})
}

// FuzzSessionInfo: what the desk shows of a visitor's session is text of
// bounded size, a web address or nothing, a zone name or nothing —
// whatever the frame and the browser sent (past the edge's text check).
func FuzzSessionInfo(f *testing.F) {
	e := echo.New()
	f.Add("https://shop.example/cart", "https://ref.example/", "America/Argentina/Salta", "pt-BR", "Mozilla/5.0 Firefox/121.0")
	f.Add("javascript:alert(1)", "data:text/html,x", "Europe/../../x", "en;q=1", strings.Repeat("a", 499)+"é"+strings.Repeat("b", 9))
	for _, s := range hostileText {
		f.Add(s, s, s, s, s)
	}
	f.Fuzz(func(t *testing.T, page, referrer, tz, lang, ua string) {
		vals := url.Values{"page_url": {page}, "referrer": {referrer}, "tz": {tz}, "lang": {lang}}
		if !valuesAreText(vals) {
			t.Skip("the edge refuses it before sessionInfo") // (FuzzCheckInput)
		}
		req := formRequest("/widget/conversations", vals)
		req.Header.Set("User-Agent", ua)
		got := sessionInfo(e.NewContext(req, httptest.NewRecorder()))
		for field, v := range map[string]string{"page": got.PageURL, "referrer": got.Referrer, "tz": got.Timezone,
			"lang": got.Language, "ua": got.UserAgent, "browser": got.Browser, "os": got.OS} {
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				t.Fatalf("%s %q is not text", field, v)
			}
		}
		if len(got.UserAgent) > maxUserAgent {
			t.Fatalf("user agent of %d bytes kept", len(got.UserAgent))
		}
		for _, u := range []string{got.PageURL, got.Referrer} {
			if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Fatalf("page %q is not a web address", u)
			}
		}
		if got.Timezone != "" && (len(got.Timezone) > 64 || !ianaZone.MatchString(got.Timezone)) {
			t.Fatalf("time zone %q kept", got.Timezone)
		}
	})
}

// ianaZone is what a kept time zone looks like (models.SessionInfo.Clean).
var ianaZone = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$`)

// FuzzWidgetConversationForms: a message, the email left while the desk is
// away and a read receipt, in an open conversation.
func FuzzWidgetConversationForms(f *testing.F) {
	e, w, pid := fuzzWidget(f)
	f.Add("Thanks!", "me@example.com", "1", pid)
	f.Add(strings.Repeat("x", models.MaxMessageLen+1), "not an email", "9223372036854775807", pid+"x")
	for _, s := range hostileText {
		f.Add(s, s, s, s)
	}
	f.Fuzz(func(t *testing.T, body, email, upTo, conv string) {
		for _, req := range []*http.Request{
			formRequest("/widget/conversations/"+url.PathEscape(conv)+"/messages", url.Values{"body": {body}}),
			formRequest("/widget/contact", url.Values{"email": {email}}),
			formRequest("/widget/conversations/"+url.PathEscape(conv)+"/read", url.Values{"up_to": {upTo}}),
			httptest.NewRequest(http.MethodGet, "/widget/conversations/"+url.PathEscape(conv), nil),
		} {
			path := req.URL.Path
			if rec := e.serve(widgetRequest(req, w.token, "en")); rec.Code >= 500 {
				t.Fatalf("%s body %q email %q up_to %q: %d", path, body, email, upTo, rec.Code)
			}
		}
	})
}

// FuzzIdentify: what a host page says about its signed-in user, signed or
// not, links the visitor, is kept unverified or is refused — never a 5xx.
func FuzzIdentify(f *testing.F) {
	e, _, _ := fuzzWidget(f)
	s, err := models.GetSettings(context.Background(), e.db)
	require.NoError(f, err)
	f.Add("user-42", "ana@example.com", "Ana", models.IdentitySignature(s.WidgetSecret, "user-42", "ana@example.com"))
	f.Add("user-42", "ANA@example.com ", "Ana", models.IdentitySignature(s.WidgetSecret, "user-42", "ana@example.com"))
	f.Add("user-42", "eve@example.com", "Eve", models.IdentitySignature(s.WidgetSecret, "user-42", "ana@example.com"))
	f.Add("", "", "", "")
	for _, v := range hostileText {
		f.Add(v, v, v, v)
	}
	f.Fuzz(func(t *testing.T, id, email, name, signature string) {
		w := e.newVisitorIn(t)
		req := formRequest("/widget/api/identify", url.Values{"id": {id}, "email": {email}, "name": {name}, "signature": {signature}})
		rec := e.serve(widgetRequest(req, w, "en"))
		if rec.Code >= 500 {
			t.Fatalf("id %q email %q name %q signature %q: %d", id, email, name, signature, rec.Code)
		}
	})
}

// newVisitorIn creates a visitor through the API inside a fuzz target (whose
// *testing.T is not the one the environment was set up with).
func (e *testEnv) newVisitorIn(t *testing.T) string {
	rec := e.serve(httptest.NewRequest(http.MethodPost, "/widget/api/visitors", nil))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	tok := rec.Body.String()
	i := strings.Index(tok, `"token":"`)
	require.GreaterOrEqual(t, i, 0, tok)
	tok = tok[i+len(`"token":"`):]
	return tok[:strings.IndexByte(tok, '"')]
}

// FuzzChatLink: an emailed chat link opens its conversation; anything
// forged, altered, expired or malformed is a 404, never a 5xx.
func FuzzChatLink(f *testing.F) {
	e, w, pid := fuzzWidget(f)
	ctx := context.Background()
	conv, err := models.FindConversationForCustomer(ctx, e.db, w.visitor().CustomerID, pid)
	require.NoError(f, err)
	valid, err := models.ChatLinkToken(ctx, e.db, conv, time.Now().Add(time.Hour))
	require.NoError(f, err)
	expired, err := models.ChatLinkToken(ctx, e.db, conv, time.Now().Add(-time.Hour))
	require.NoError(f, err)
	f.Add(valid)
	f.Add(expired)
	f.Add(valid[:len(valid)-1] + "A")
	f.Add(strings.Replace(valid, ".", "..", 1))
	f.Add(pid + ".1.99999999999999999999.sig")
	f.Add(pid + ".-1.-1.x")
	f.Add(strings.Repeat(".", 199))
	for _, s := range hostileText {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		rec := e.serve(httptest.NewRequest(http.MethodGet, "/chat/"+url.PathEscape(token), nil))
		if rec.Code >= 500 {
			t.Fatalf("token %q: %d", token, rec.Code)
		}
		if token == valid && rec.Code != http.StatusSeeOther {
			t.Fatalf("the valid link answered %d", rec.Code)
		}
		if rec.Code == http.StatusSeeOther && token != valid {
			t.Fatalf("token %q opened a conversation", token)
		}
	})
}
