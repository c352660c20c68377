package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// The visitor's current page: checked, kept only while a stream of the
// frame is open, shown escaped in the context panel.
func TestWidgetPageReports(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{DeskName: "Acme", BrandColor: "#2563eb", AllowedOrigins: "https://shop.example"})
	}))
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	pid := w.start("Hello")
	cust := w.visitor().CustomerID
	frame := "0123456789abcdef-frame"

	page := func(v url.Values) int {
		t.Helper()
		return w.post("/widget/page", v).StatusCode
	}
	long := "https://shop.example/" + strings.Repeat("a", 2100)
	for name, v := range map[string]url.Values{
		"no frame":      {"url": {"https://shop.example/"}},
		"bad frame":     {"frame": {"<x>"}, "url": {"https://shop.example/"}},
		"javascript":    {"frame": {frame}, "url": {"javascript:alert(1)"}},
		"data":          {"frame": {frame}, "url": {"data:text/html,hi"}},
		"relative":      {"frame": {frame}, "url": {"/cart"}},
		"other site":    {"frame": {frame}, "url": {"https://evil.example/"}},
		"too long":      {"frame": {frame}, "url": {long}},
		"quote in url":  {"frame": {frame}, "url": {`https://shop.example/"onmouseover=x`}},
		"empty":         {"frame": {frame}, "url": {""}},
		"markup":        {"frame": {frame}, "url": {"https://shop.example/<script>"}},
		"bare userinfo": {"frame": {frame}, "url": {"https://shop.example@evil.example/"}},
	} {
		assert.Equal(t, http.StatusUnprocessableEntity, page(v), name)
	}
	anon := &widgetClient{e: e, b: e.browser()}
	assert.Equal(t, http.StatusUnauthorized, anon.post("/widget/page", url.Values{"frame": {frame}, "url": {"https://shop.example/"}}).StatusCode)
	time.Sleep(200 * time.Millisecond)
	assert.Nil(t, e.app.rt.VisitorPage(cust), "nothing refused was heard")

	// A report without an open stream is not shown.
	require.Equal(t, http.StatusNoContent, page(url.Values{"frame": {frame}, "url": {"https://shop.example/cart?id=1&x=%3Cb%3E"}, "title": {"Cart <b>bold</b>\x07 \n now"}}))
	time.Sleep(200 * time.Millisecond)
	assert.Nil(t, e.app.rt.VisitorPage(cust))

	// The frame's stream opens: shown.
	sctx, stop := context.WithCancel(context.Background())
	defer stop()
	q := url.Values{"visitor": {w.token}, "since": {"0"}, "frame": {frame}}
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, e.srv.URL+"/widget/events?"+q.Encode(), nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Eventually(t, func() bool { return e.app.rt.VisitorPage(cust) != nil }, 5*time.Second, 20*time.Millisecond)
	p := e.app.rt.VisitorPage(cust)
	assert.Equal(t, "https://shop.example/cart?id=1&x=%3Cb%3E", p.URL)
	assert.Equal(t, "Cart <b>bold</b> now", p.Title, "control characters dropped, spaces collapsed")

	sam := e.browser()
	sam.login("sam@example.com")
	conv := sam.get("/conversations/" + pid)
	require.Equal(t, http.StatusOK, conv.StatusCode)
	assert.Equal(t, "Cart <b>bold</b> now", conv.text("#cc-page-link"))
	assert.Equal(t, "https://shop.example/cart?id=1&x=%3Cb%3E", conv.doc.Find("#cc-page-link").AttrOr("href", ""))
	assert.NotContains(t, conv.body, "<b>bold</b>", "escaped")
	assert.Contains(t, conv.doc.Find("#cc-page-link").AttrOr("rel", ""), "noopener")

	// The stream ends (the widget closed): gone at once.
	stop()
	require.Eventually(t, func() bool { return e.app.rt.VisitorPage(cust) == nil }, 5*time.Second, 20*time.Millisecond)
	conv = sam.get("/conversations/" + pid)
	assert.Contains(t, conv.text("#cc-page-none"), "Not on the site now")

	// A page that says it is leaving is gone even with its stream open.
	sctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	req, err = http.NewRequestWithContext(sctx2, http.MethodGet, e.srv.URL+"/widget/events?"+q.Encode(), nil)
	require.NoError(t, err)
	res2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res2.Body.Close()
	time.Sleep(1100 * time.Millisecond) // the per-frame gate
	require.Equal(t, http.StatusNoContent, page(url.Values{"frame": {frame}, "url": {"https://shop.example/"}}))
	require.Eventually(t, func() bool { return e.app.rt.VisitorPage(cust) != nil }, 5*time.Second, 20*time.Millisecond)
	time.Sleep(1100 * time.Millisecond)
	require.Equal(t, http.StatusNoContent, page(url.Values{"frame": {frame}, "state": {"left"}}))
	require.Eventually(t, func() bool { return e.app.rt.VisitorPage(cust) == nil }, 5*time.Second, 20*time.Millisecond)
}
