package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// countingReader yields n bytes of 'a' and counts what was read of them.
type countingReader struct {
	left int64
	read atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	n = min(n, r.left)
	for i := range p[:n] {
		p[i] = 'a'
	}
	r.left -= n
	r.read.Add(n)
	return int(n), nil
}

// serve runs one request through the app's handler in process, so the test
// sees exactly what the handler read of the body (no server drains it).
func (e *testEnv) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.app.Handler().ServeHTTP(rec, req)
	return rec
}

// An unauthenticated 40 MB body is refused at once, without being read:
// declared too large (Content-Length) or found too large while read
// (chunked). A normal sign-in still works.
func TestBodyLimitRefusesLargeBodiesUnread(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	const big = 40 << 20

	body := &countingReader{left: big}
	req := httptest.NewRequest(http.MethodPost, "/login", body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = big
	rec := e.serve(req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.Zero(t, body.read.Load(), "a declared length over the limit is not read at all")

	body = &countingReader{left: big}
	req = httptest.NewRequest(http.MethodPost, "/login", body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = -1 // chunked: the length is unknown up front
	rec = e.serve(req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.LessOrEqual(t, body.read.Load(), int64(formBodyLimit+64<<10), "reading stops at the limit")

	// The 413 page explains, in the browser's language.
	req = httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(strings.Repeat("a", formBodyLimit+1)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "fr")
	rec = e.serve(req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.Contains(t, rec.Body.String(), "Ce qui a été envoyé dépasse ce que Parley accepte ici.")

	// Routes that take long texts declare more: the longest message is read
	// (and answered 422 for want of a teammate to send it to).
	b := e.browser()
	b.login("ada@example.com")
	res := b.post("/mine", url.Values{"body": {strings.Repeat("é", models.MaxMessageLen)}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Choose at least one teammate.", res.text("#e-members"))
}

// A multipart body never leaves a temporary file behind: forms take none
// (415 before anything is parsed), and where a route takes one, whatever
// was spooled to disk is removed when the request ends, even when a
// middleware replaced echo's request with a copy.
func TestMultipartLeavesNoTemporaryFile(t *testing.T) {
	// The database first: dbtest keeps its shared server under os.TempDir(),
	// and a TMPDIR set before would start (and leak) a server of its own.
	e := setup(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	b := e.browser()
	b.get("/login")

	// 40 MB, past net/http's 32 MB in memory: the old code spooled it to a
	// file that nobody removed.
	pr, pw := io.Pipe()
	big := multipart.NewWriter(pw)
	go func(mw *multipart.Writer) { // its own writer: mw is reused below
		mw.WriteField("_csrf", b.csrf)     //nolint:errcheck
		mw.WriteField("email", "x@y.test") //nolint:errcheck
		if f, err := mw.CreateFormFile("file", "big.bin"); err == nil {
			io.Copy(f, &countingReader{left: 40 << 20}) //nolint:errcheck
		}
		mw.Close()
		pw.Close()
	}(big)
	req := httptest.NewRequest(http.MethodPost, "/login", pr)
	req.ContentLength = -1
	req.Header.Set("Content-Type", big.FormDataContentType())
	rec := e.serve(req)
	pr.CloseWithError(io.EOF) // let the writer end
	assert.Equal(t, http.StatusUnsupportedMediaType, rec.Code)
	assertEmptyDir(t, tmp)

	// A route that takes uploads (none does yet; this is its mechanism).
	a := &App{}
	ee := echo.New()
	var spooled string
	copyRequest := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { // as loadSession does
			c.SetRequest(c.Request().WithContext(c.Request().Context()))
			return next(c)
		}
	}
	a.bodyLimit(ee.POST("/upload", func(c echo.Context) error {
		fh, err := c.FormFile("file")
		if err != nil {
			return err
		}
		// Past multipartMemory the part is on disk: Open gives the file.
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		if osf, ok := f.(*os.File); ok {
			spooled = osf.Name()
		}
		return c.String(http.StatusOK, fh.Filename)
	}), bodyRule{limit: 1 << 20, multipart: true})
	ee.Use(a.limitBody, a.checkInput, copyRequest)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	f, _ := mw.CreateFormFile("file", "photo.jpg")
	f.Write(bytes.Repeat([]byte("x"), 300<<10)) //nolint:errcheck
	mw.Close()
	req = httptest.NewRequest(http.MethodPost, "/upload", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec = httptest.NewRecorder()
	ee.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NotEmpty(t, spooled, "the upload was spooled to a temporary file")
	_, err := os.Stat(spooled)
	assert.ErrorIs(t, err, os.ErrNotExist, "the spooled file %s is removed when the request ends", spooled)
	assertEmptyDir(t, tmp)
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Empty(t, names, "temporary files left in %s", dir)
}

// Text that is not text (invalid UTF-8, a NUL) is refused at the edge with
// a 400 and a message saying what is wrong: a page, or a toast for htmx.
func TestBadTextIsRefusedWithAMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.get("/login")

	res := b.post("/login", url.Values{"email": {"ada@example.com\x00"}, "password": {"correct horse"}})
	require.Equal(t, http.StatusBadRequest, res.StatusCode, res.body)
	assert.Contains(t, res.text(".error-page"), "not valid text")

	res = b.post("/login", url.Values{"email": {"\xff"}, "password": {"x"}}, "HX-Request", "true", "Accept-Language", "pt-BR")
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	var trig struct {
		Toast struct{ Level, Message string }
	}
	require.NoError(t, json.Unmarshal([]byte(res.Header.Get("HX-Trigger")), &trig))
	assert.Equal(t, "error", trig.Toast.Level)
	assert.Contains(t, trig.Toast.Message, "não são texto válido")

	res = b.get("/login?next=%2F%C0")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	res = b.get("/conversations/%00")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)

	// The widget's toast is in the visitor's language.
	w := e.newVisitor()
	w.lang = "fr"
	res = w.post("/widget/conversations", url.Values{"body": {"bonjour \x00"}})
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.NoError(t, json.Unmarshal([]byte(res.Header.Get("HX-Trigger")), &trig))
	assert.Contains(t, trig.Toast.Message, "pas du texte valide")

	// JSON bodies (River's UI reads them) are checked too, escapes included.
	b.login("ada@example.com")
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/jobs/api/jobs/cancel", strings.NewReader(`{"ids":["\u0000"]}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	assert.Equal(t, http.StatusBadRequest, b.do(req).StatusCode)

	// Sane text passes.
	res = b.post("/account/language", url.Values{"locale": {"fr"}})
	assert.Less(t, res.StatusCode, 400, res.body)
}

// A User-Agent over 500 bytes, cut inside a character, or not UTF-8 at all,
// still signs in and starts a chat.
func TestLongOrBrokenUserAgent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	for _, ua := range []string{strings.Repeat("a", 499) + "é" + strings.Repeat("b", 50), "Mozilla/5.0 \xff\xfe"} {
		b := e.browser()
		b.get("/login")
		res := b.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}}, "User-Agent", ua)
		assert.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)

		w := e.newVisitor()
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/widget/conversations", strings.NewReader(url.Values{"body": {"hello"}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		req.Header.Set(visitorHeader, w.token)
		req.Header.Set("User-Agent", ua)
		res = w.b.do(req)
		assert.Equal(t, http.StatusOK, res.StatusCode, res.body)
	}
}

// Every route, asked by a signed-out browser, an admin and a widget
// visitor, with invalid UTF-8 or a NUL in the path, a query value or a form
// field, answers without a server error. Then every page with extreme
// numeric cursors.
func TestEveryRouteRefusesBadTextWithoutServerError(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{widgetLimits: &WidgetLimits{VisitorPosts: 1 << 20, IPPosts: 1 << 20, IPVisitors: 1 << 20, IPReads: 1 << 20}})
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	admin := e.browser()
	admin.login("ada@example.com")
	anon := e.browser()
	anon.get("/login")
	w := e.newVisitor()
	pid := w.start("hello")

	// The fields handlers read, so the old code reached the database with them.
	fields := []string{"body", "name", "email", "password", "next", "title", "description", "q", "before", "after",
		"since", "status", "filter", "tz", "lang", "page_url", "referrer", "id", "signature", "locale", "desk_name",
		"greeting", "allowed_origins", "value", "field", "members", "up_to", "sort", "assignee", "team", "conversation"}
	bad := map[string]string{"invalid UTF-8": "caf\xe9", "NUL": "a\x00b"}

	type who struct {
		name string
		do   func(req *http.Request) (status int, body string)
	}
	// The requests go out four at a time (a thousand in a row took half a
	// minute), each as one of three clients whose CSRF token is read once.
	as := func(b *browser, widget bool) func(req *http.Request) (int, string) {
		csrf := b.csrf
		return func(req *http.Request) (int, string) {
			if req.Method != http.MethodGet {
				req.Header.Set("X-CSRF-Token", csrf)
			}
			if widget {
				req.Header.Set(visitorHeader, w.token)
				req.Header.Set("HX-Request", "true")
			}
			res, err := b.client.Do(req)
			if !assert.NoError(t, err) {
				return 0, ""
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(body)
		}
	}
	users := []who{{"anonymous", as(anon, false)}, {"admin", as(admin, false)}, {"visitor", as(w.b, true)}}
	var wg sync.WaitGroup
	slots := make(chan struct{}, 4)
	send := func(u who, req *http.Request, describe func() string) {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			status, body := u.do(req)
			assert.Less(t, status, 500, "%s: %s", describe(), body)
		}()
	}

	paramValue := map[string]string{":pid": pid, ":number": "1", ":id": "1", ":user": "1", ":token": "x.1.2.y", "*": "x"}
	routePath := func(p string, badParam string) string {
		parts := strings.Split(p, "/")
		for i, s := range parts {
			if v, ok := paramValue[s]; ok {
				parts[i] = v
				if badParam != "" {
					parts[i] = url.PathEscape(badParam)
				}
			}
		}
		return strings.Join(parts, "/")
	}

	seen := map[string]bool{}
	n := 0
	for _, r := range e.app.echo.Routes() {
		switch r.Method {
		case http.MethodGet, http.MethodPost:
		default:
			continue
		}
		if seen[r.Method+r.Path] {
			continue
		}
		seen[r.Method+r.Path] = true
		for what, v := range bad {
			vals := url.Values{}
			for _, f := range fields {
				vals.Set(f, v)
			}
			var reqs []*http.Request
			// In the query.
			req, _ := http.NewRequest(r.Method, e.srv.URL+routePath(r.Path, "")+"?"+vals.Encode(), nil)
			reqs = append(reqs, req)
			// In a path parameter.
			if strings.ContainsAny(r.Path, ":*") {
				req, _ = http.NewRequest(r.Method, e.srv.URL+routePath(r.Path, v), nil)
				reqs = append(reqs, req)
			}
			// In the form.
			if r.Method == http.MethodPost {
				req, _ = http.NewRequest(r.Method, e.srv.URL+routePath(r.Path, ""), strings.NewReader(vals.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				reqs = append(reqs, req)
			}
			for _, u := range users {
				for _, req := range reqs {
					req := req.Clone(req.Context())
					if req.Method == http.MethodPost && req.Header.Get("Content-Type") != "" {
						req.Body = io.NopCloser(strings.NewReader(vals.Encode()))
					}
					n++
					send(u, req, func() string { return fmt.Sprintf("%s %s as %s, %s in %s", r.Method, r.Path, u.name, what, req.URL) })
				}
			}
		}
	}
	wg.Wait()
	t.Logf("%d routes, %d requests", len(seen), n)
	require.Greater(t, len(seen), 60, "the walk covers the routes")

	// Extreme numbers in every numeric parameter a page or form reads
	// (streams excepted: a valid cursor opens them; and the admin stays
	// signed in and active).
	for _, r := range e.app.echo.Routes() {
		if (r.Method != http.MethodGet && r.Method != http.MethodPost) || strings.HasSuffix(r.Path, "/events") ||
			r.Path == "/logout" || strings.HasSuffix(r.Path, "/deactivate") || strings.HasPrefix(r.Path, "/admin/jobs") {
			continue
		}
		for _, v := range []string{"9223372036854775807", "18446744073709551615", "-1", "0", "9223372036854775807-9223372036854775807"} {
			q := url.Values{}
			for _, f := range []string{"before", "after", "since", "up_to", "assignee", "team", "item", "conversation",
				"user_id", "members", "number", "digest_minutes", "auto_close_amount", "id"} {
				q.Set(f, v)
			}
			for _, u := range users {
				var req *http.Request
				if r.Method == http.MethodGet {
					req, _ = http.NewRequest(http.MethodGet, e.srv.URL+routePath(r.Path, "")+"?"+q.Encode(), nil)
				} else {
					req, _ = http.NewRequest(http.MethodPost, e.srv.URL+routePath(r.Path, ""), strings.NewReader(q.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				send(u, req, func() string { return fmt.Sprintf("%s %s as %s with %s", r.Method, r.Path, u.name, v) })
			}
		}
	}
	wg.Wait()
}
