package app

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// postChunk posts a recorded chunk as widget-frame.js does: JSON with the
// visitor header.
func (w *widgetClient) postChunk(path string, body []byte) *response {
	w.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.e.srv.URL+path, bytes.NewReader(body))
	require.NoError(w.e.t, err)
	req.Header.Set("Content-Type", "application/json")
	if w.token != "" {
		req.Header.Set(visitorHeader, w.token)
	}
	return w.b.do(req)
}

// The co-browsing endpoints refuse what they must: desk posts without the
// CSRF token, staff who may not see the conversation, a second request,
// chunks before consent (409), another customer's session (404), bad JSON
// (422), a chunk over the cap (413); and they show the panel, the consent
// prompt and the chunks to those who may see them.
func TestCobrowseHTTP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	w := e.newVisitor()
	pid := w.start("Can you look at my cart?")
	b := e.browser()
	b.login("sam@example.com")

	page := b.get("/conversations/" + pid)
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Equal(t, 1, page.doc.Find("#cobrowse-panel #cobrowse-request").Length())
	assert.NotContains(t, page.body, "rrweb", "no replayer on the conversation page")
	base := "/conversations/" + pid + "/cobrowse"

	// CSRF: a forged token is refused before anything happens.
	res := b.post(base, url.Values{"_csrf": {"forged"}}, "HX-Request", "true")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	// Staff without customer data rights: no such conversation.
	pat := e.browser()
	pat.login("pat@example.com")
	assert.Equal(t, http.StatusNotFound, pat.post(base, nil, "HX-Request", "true").StatusCode)
	var n int64
	require.NoError(t, e.db.Raw(`SELECT count(*) FROM cobrowse_sessions`).Scan(&n).Error)
	require.Zero(t, n)

	require.Equal(t, http.StatusNoContent, b.post(base, nil, "HX-Request", "true").StatusCode)
	assert.Equal(t, http.StatusConflict, b.post(base, nil, "HX-Request", "true").StatusCode, "a second request while one runs")
	var sid string
	require.NoError(t, e.db.Raw(`SELECT public_id::text FROM cobrowse_sessions`).Scan(&sid).Error)
	page = b.get("/conversations/" + pid)
	assert.Equal(t, "requested", page.doc.Find("#cobrowse-panel").AttrOr("data-state", ""))

	// The widget shows the consent prompt.
	thread := w.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, thread.StatusCode)
	assert.Equal(t, 1, thread.doc.Find("#w-cobrowse #w-cobrowse-allow").Length())
	assert.Contains(t, thread.text("#w-thread"), "The agent asked to see the page you are on.")

	wbase := "/widget/conversations/" + pid + "/cobrowse/" + sid
	chunk := []byte(`[{"type":4,"data":{"href":"https://shop.example/","width":800,"height":600},"timestamp":1}]`)
	assert.Equal(t, http.StatusConflict, w.postChunk(wbase+"/chunks", chunk).StatusCode, "not consented")
	stranger := e.newVisitor()
	stranger.start("me too")
	assert.Equal(t, http.StatusNotFound, stranger.post(wbase+"/answer", url.Values{"allow": {"1"}}).StatusCode, "another customer's")
	res = w.post(wbase+"/answer", url.Values{"allow": {"1"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Equal(t, "active", res.doc.Find("#w-cobrowse").AttrOr("data-state", ""))
	assert.Equal(t, 1, res.doc.Find("#w-cobrowse-end").Length())
	assert.Equal(t, http.StatusConflict, w.post(wbase+"/answer", url.Values{"allow": {"0"}}).StatusCode, "answered already")

	// Chunks: the bad ones.
	assert.Equal(t, http.StatusNotFound, stranger.postChunk(wbase+"/chunks", chunk).StatusCode, "another customer's session")
	assert.Equal(t, http.StatusUnauthorized, e.browser().post(wbase+"/chunks", url.Values{}).StatusCode, "no visitor")
	assert.Equal(t, http.StatusUnprocessableEntity, w.postChunk(wbase+"/chunks", []byte(`{not json`)).StatusCode)
	assert.Equal(t, http.StatusUnprocessableEntity, w.postChunk(wbase+"/chunks", []byte(`{"type":4}`)).StatusCode, "not an array")
	big := []byte(`["` + strings.Repeat("x", models.CobrowseChunkLimit) + `"]`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.postChunk(wbase+"/chunks", big).StatusCode)
	assert.Equal(t, http.StatusNotFound, w.postChunk("/widget/conversations/"+pid+"/cobrowse/00000000-0000-0000-0000-000000000000/chunks", chunk).StatusCode)
	res = w.postChunk(wbase+"/chunks", chunk)
	require.Equal(t, http.StatusCreated, res.StatusCode, res.body)

	// The desk reads them; Pat may not; the viewer page has its own CSP.
	res = b.get(base + "/" + sid + "/chunks?after=0")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.body, `"state":"active"`)
	assert.Contains(t, res.body, `"href":"https://shop.example/"`)
	assert.Equal(t, http.StatusNotFound, pat.get(base+"/"+sid+"/chunks?after=0").StatusCode)
	view := b.get(base + "/" + sid + "/view")
	require.Equal(t, http.StatusOK, view.StatusCode)
	assert.Contains(t, view.Header.Get("Content-Security-Policy"), "script-src 'self';")
	assert.Contains(t, view.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'")
	assert.Contains(t, view.body, views.AssetURL("vendor/rrweb-replay-2.1.6.min.js"))

	// Commands: CSRF, bad input, then a highlight.
	cmd := base + "/" + sid + "/command"
	assert.Equal(t, http.StatusForbidden, b.post(cmd, url.Values{"cmd": {"highlight"}, "node": {"3"}, "_csrf": {"forged"}}, "HX-Request", "true").StatusCode)
	assert.Equal(t, http.StatusUnprocessableEntity, b.post(cmd, url.Values{"cmd": {"highlight"}, "node": {"0"}}, "HX-Request", "true").StatusCode)
	assert.Equal(t, http.StatusUnprocessableEntity, b.post(cmd, url.Values{"cmd": {"eval"}}, "HX-Request", "true").StatusCode)
	assert.Equal(t, http.StatusNoContent, b.post(cmd, url.Values{"cmd": {"highlight"}, "node": {"3"}}, "HX-Request", "true").StatusCode)

	// Either side ends it: the agent here (CSRF first); then nothing more.
	end := base + "/" + sid + "/end"
	assert.Equal(t, http.StatusForbidden, b.post(end, url.Values{"_csrf": {"forged"}}, "HX-Request", "true").StatusCode)
	assert.Equal(t, http.StatusNoContent, b.post(end, nil, "HX-Request", "true").StatusCode)
	assert.Equal(t, http.StatusConflict, w.postChunk(wbase+"/chunks", chunk).StatusCode, "ended")
	assert.Equal(t, http.StatusConflict, b.post(cmd, url.Values{"cmd": {"scroll"}, "dy": {"100"}}, "HX-Request", "true").StatusCode)
	page = b.get("/conversations/" + pid)
	assert.Equal(t, 1, page.doc.Find("#cobrowse-panel #cobrowse-request").Length())
	log := page.text("#messages")
	for _, s := range []string{"Sam asked to co-browse", "allowed co-browsing", "Co-browsing started", "Co-browsing ended by Sam"} {
		assert.Contains(t, log, s)
	}
	assert.Equal(t, 0, w.get("/widget/conversations/"+pid).doc.Find("#w-cobrowse *").Length(), "no prompt nor bar")
}
