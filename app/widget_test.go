package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Starting a conversation records where and with what the visitor writes.
func TestWidgetRecordsSessionDetails(t *testing.T) {
	t.Parallel()
	e := setup(t)
	w := e.newVisitor()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/widget/conversations", strings.NewReader(url.Values{
		"body": {"Hello"}, "name": {"Ana"}, "page_url": {"https://shop.example.com/cart?item=3"},
		"referrer": {"https://www.google.com/"}, "tz": {"America/Sao_Paulo"}, "lang": {"pt-BR"},
	}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(visitorHeader, w.token)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36")
	res := w.b.do(req)
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	pid, _ := res.doc.Find("#w-thread-view").Attr("data-pid")

	conv, err := models.FindConversationForCustomer(context.Background(), e.db, w.visitor().CustomerID, pid)
	require.NoError(t, err)
	assert.Equal(t, "widget", conv.Channel)
	assert.Equal(t, "https://shop.example.com/cart?item=3", conv.PageURL)
	assert.Equal(t, "https://www.google.com/", conv.Referrer)
	assert.Equal(t, "Chrome 126", conv.Browser)
	assert.Equal(t, "Windows 10.0", conv.OS)
	assert.Equal(t, "pt-BR", conv.Language)
	assert.Equal(t, "America/Sao_Paulo", conv.Timezone)
	assert.Contains(t, conv.UserAgent, "Chrome/126")
	assert.Equal(t, "Ana", w.visitor().Customer.Name, "the pre-chat name is kept")

	// Anything that is not a web address or a zone name is dropped.
	res = w.post("/widget/conversations", url.Values{"body": {"again"}, "page_url": {"javascript:alert(1)"}, "referrer": {"data:text/html,x"}, "tz": {"<script>"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	pid, _ = res.doc.Find("#w-thread-view").Attr("data-pid")
	conv, err = models.FindConversationForCustomer(context.Background(), e.db, w.visitor().CustomerID, pid)
	require.NoError(t, err)
	assert.Empty(t, conv.PageURL)
	assert.Empty(t, conv.Referrer)
	assert.Empty(t, conv.Timezone)
}

// While the desk is offline the visitor can still write, is told when to
// expect an answer and is asked for an email (never a verified customer).
func TestWidgetOfflineAsksForEmail(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	admin := e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	w := e.newVisitor()
	// Started while online, without an email (while away, starting needs
	// one: TestWidgetStartNeedsEmailWhileAway); then the desk goes away.
	pid := w.start("Are you there?")
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, admin.ID, false) }))

	home := w.get("/widget/home")
	assert.Contains(t, home.text("#w-status"), "We are away right now")
	thread := w.get("/widget/conversations/" + pid)
	require.Equal(t, 1, thread.doc.Find(`#w-askemail form[hx-post="/widget/contact"]`).Length(), thread.body)
	assert.Contains(t, thread.text("#w-askemail"), "Leave your email")

	res := w.post("/widget/contact", url.Values{"email": {"nope"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Enter a valid email address, like name@example.com.", res.text("#w-contact-error"))
	res = w.post("/widget/contact", url.Values{"email": {"Visitor@Example.com"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Thanks! We will reply to visitor@example.com.", res.text("#w-askemail"))
	c := w.visitor().Customer
	assert.Equal(t, "visitor@example.com", c.Email)
	assert.False(t, c.Verified)
	assert.Zero(t, w.get("/widget/conversations/"+pid).doc.Find("#w-askemail form").Length(), "asked once")

	// The admin's own words replace the default.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{DeskName: "Acme", BrandColor: "#2563eb",
			OfflineMessage: "Back Monday 9:00 (UTC)", DemoEnabled: true})
	}))
	assert.Contains(t, w.get("/widget/home").text("#w-status"), "Back Monday 9:00 (UTC)")

	// A verified customer is never asked, and cannot be edited from here.
	settings, err := models.GetSettings(ctx, e.db)
	require.NoError(t, err)
	v := e.newVisitor()
	require.Equal(t, http.StatusNoContent, v.post("/widget/api/identify", url.Values{"id": {"u1"}, "email": {""}, "signature": {models.IdentitySignature(settings.WidgetSecret, "u1", "")}}).StatusCode)
	vp := v.start("Signed and offline")
	assert.Zero(t, v.get("/widget/conversations/"+vp).doc.Find("#w-askemail form").Length())
	assert.Equal(t, http.StatusNotFound, v.post("/widget/contact", url.Values{"email": {"x@example.com"}}).StatusCode)
	assert.Empty(t, v.visitor().Customer.Email)
}

// The desk's online switch and settings reach an open widget at once; an
// agent closing the conversation shows there too, and writing reopens it.
func TestWidgetStreamFollowsDesk(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	admin := e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	w := e.newVisitor()
	pid := w.start("Hi")
	conv, err := models.FindConversationForCustomer(ctx, e.db, w.visitor().CustomerID, pid)
	require.NoError(t, err)

	thread := w.stream(t, e.app.rt.Cursor(), pid)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, admin.ID, false) }))
	e.app.rt.Ring()
	thread.waitFor("w-status-offline")
	thread.waitFor("We are away right now")
	thread.waitFor(`hx-post="/widget/contact"`) // the email prompt appears with it

	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{DeskName: "Acme Help", BrandColor: "#be123c", Greeting: "Olá from Acme", DemoEnabled: true})
	}))
	e.app.rt.Ring()
	got := thread.waitFor("Olá from Acme")
	assert.Contains(t, got, `id="w-title" class="w-title" hx-swap-oob="outerHTML">Acme Help`)
	assert.Contains(t, got, "/widget/theme.css?v="+themeVersion("#be123c"))
	assert.Contains(t, got, `data-color="#be123c"`)

	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, admin, conv, models.StatusClosed) }))
	e.app.rt.Ring()
	got = thread.waitFor("Write a message to reopen it.")
	assert.Contains(t, got, "Ada closed this conversation.")

	require.Equal(t, http.StatusOK, w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"One more thing"}}).StatusCode)
	thread.waitFor("One more thing")
	assert.Contains(t, thread.text(), "You reopened this conversation.")
	conv, err = models.FindConversationForCustomer(ctx, e.db, w.visitor().CustomerID, pid)
	require.NoError(t, err)
	assert.Equal(t, models.StatusOpen, conv.Status)
}

// The loader is small, cached briefly with an ETag, and points at its
// content-hashed stylesheet.
func TestWidgetLoaderScript(t *testing.T) {
	t.Parallel()
	e := setup(t)
	get := func(h ...string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/widget.js", nil)
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
		// A transport that does not add or undo gzip by itself.
		res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		require.NoError(t, err)
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	res := get()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, "public, max-age=300", res.Header.Get("Cache-Control"))
	etag := res.Header.Get("ETag")
	require.NotEmpty(t, etag)
	plain, _ := io.ReadAll(res.Body)
	assert.Contains(t, string(plain), views.AssetURL("widget-loader.css"))
	assert.Regexp(t, `/static/widget-loader\.[0-9a-f]{12}\.css`, string(plain))
	assert.NotContains(t, string(plain), loaderCSSPlaceholder)

	assert.Equal(t, http.StatusNotModified, get("If-None-Match", etag).StatusCode)

	res = get("Accept-Encoding", "gzip, br;q=0.5")
	require.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	gz, _ := io.ReadAll(res.Body)
	t.Logf("loader: %d bytes, %d gzipped", len(plain), len(gz))
	assert.Less(t, len(gz), 5*1024, "the loader stays under 5 KB gzipped")
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	unzipped, _ := io.ReadAll(zr)
	assert.Equal(t, plain, unzipped)
}

// Widget strings follow the visitor's language, never a staff session's,
// and widget writes need no CSRF token (they carry no cookie to ride on).
func TestWidgetLanguageAndNoStaffSession(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	staff := e.browser()
	staff.login("ada@example.com")
	staff.post("/account/language", url.Values{"locale": {"pt-BR"}})

	res := staff.get("/widget/frame?lang=fr-CA")
	require.Equal(t, http.StatusOK, res.StatusCode)
	lang, _ := res.doc.Find("html").Attr("lang")
	assert.Equal(t, "fr", lang)
	assert.Equal(t, "Bonjour ! Comment pouvons-nous vous aider ?", res.text("#w-greeting"))
	assert.Empty(t, res.Header.Values("Set-Cookie"), "the widget sets no cookie")

	res = staff.get("/widget/frame", "Accept-Language", "en-GB,en;q=0.9")
	assert.Equal(t, "Hi there! How can we help?", res.text("#w-greeting"), "not the staff user's Portuguese")

	w := e.newVisitor()
	w.lang = "pt-BR"
	home := w.get("/widget/home")
	assert.Equal(t, "Envie uma mensagem", home.text("#w-start h2"))
	// Posted without any CSRF token or cookie.
	res = w.post("/widget/conversations", url.Values{"body": {"Olá"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.text(".w-msg-author"), "Você")
}

// The visitor token rides in the stream's query string only; the request
// log records paths, so it is never written down.
func TestWidgetTokenNeverLogged(t *testing.T) {
	t.Parallel()
	e := setup(t)
	w := e.newVisitor()
	w.start("hello")
	s := w.stream(t, e.app.rt.Cursor(), "")
	require.Equal(t, http.StatusOK, s.status)
	s.waitFor("retry:")
	w.get("/widget/home")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(e.logs.String(), "path=/widget/home") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.Contains(t, e.logs.String(), "path=/widget/home")
	assert.NotContains(t, e.logs.String(), w.token)
}

func TestAdminWidgetSettings(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	e.user("Bob", "bob@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("ada@example.com")

	page := b.get("/admin/widget")
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Equal(t, `<script async src="`+e.srv.URL+`/widget.js"></script>`, page.doc.Find("#widget-snippet").Text())
	settings, err := models.GetSettings(ctx, e.db)
	require.NoError(t, err)
	secret, _ := page.doc.Find("#widget-secret").Attr("value")
	assert.Equal(t, settings.WidgetSecret, secret)
	assert.Equal(t, 4, page.doc.Find("details.code-example").Length(), "Go, Node.js, PHP and Python")
	assert.Equal(t, 1, page.doc.Find(`nav a[href="/admin/widget"][aria-current="page"]`).Length())

	res := b.post("/admin/widget", url.Values{"desk_name": {""}, "brand_color": {"blue"}, "allowed_origins": {"https://ok.example\nftp://nope"}, "greeting": {"Hey"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Enter a name.", res.text("#e-desk_name"))
	assert.Equal(t, "Use a colour like #2563eb.", res.text("#e-brand_color"))
	assert.Contains(t, res.text("#e-allowed_origins"), `"ftp://nope" is not a site address`)
	assert.Equal(t, "Hey", res.doc.Find("#f-greeting").Text(), "the form keeps what was typed")

	res = b.post("/admin/widget", url.Values{"desk_name": {"Acme Help"}, "brand_color": {"#BE123C"}, "greeting": {"Welcome!"},
		"online_message": {"Replies in 5 minutes"}, "offline_message": {"Back at 9"}, "allowed_origins": {"https://shop.example.com\r\nhttps://blog.example.com"},
		"require_signed_identity": {"on"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	settings, err = models.GetSettings(ctx, e.db)
	require.NoError(t, err)
	assert.Equal(t, "Acme Help", settings.DeskName)
	assert.Equal(t, "#be123c", settings.BrandColor)
	assert.Equal(t, []string{"https://shop.example.com", "https://blog.example.com"}, []string(settings.AllowedOrigins))
	assert.True(t, settings.RequireSignedIdentity)
	assert.False(t, settings.DemoEnabled, "an unticked box turns the demo page off")
	page = b.get("/admin/widget")
	assert.Equal(t, "https://shop.example.com\nhttps://blog.example.com", page.doc.Find("#f-allowed_origins").Text())
	assert.Contains(t, page.text(".toast"), "Widget settings saved")

	// The admin side keeps its CSRF protection (only /widget/ is exempt).
	res = b.post("/admin/widget", url.Values{"_csrf": {"forged"}, "desk_name": {"Evil"}, "brand_color": {"#000000"}})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	res = b.post("/admin/widget/rotate-secret", url.Values{"_csrf": {"forged"}})
	require.Equal(t, http.StatusForbidden, res.StatusCode)

	res = b.post("/admin/widget/rotate-secret", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	rotated, err := models.GetSettings(ctx, e.db)
	require.NoError(t, err)
	assert.NotEqual(t, settings.WidgetSecret, rotated.WidgetSecret)

	agent := e.browser()
	agent.login("bob@example.com")
	assert.Equal(t, http.StatusForbidden, agent.get("/admin/widget").StatusCode)
	assert.Equal(t, http.StatusForbidden, agent.post("/admin/widget/rotate-secret", nil).StatusCode)
	assert.Zero(t, agent.get("/account").doc.Find(`a[href="/admin/widget"]`).Length())
}
