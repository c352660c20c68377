package app

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// postJSON sends a JSON body as the desk (with its CSRF header unless csrf
// is "none") or the widget (visitor header).
func postJSON(t *testing.T, e *testEnv, b *browser, w *widgetClient, path, body, csrf string) *response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if w != nil {
		req.Header.Set(visitorHeader, w.token)
		return w.b.do(req)
	}
	if csrf == "" {
		csrf = b.csrf
	}
	if csrf != "none" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	return b.do(req)
}

// The HTTP rules of media sessions: CSRF on the desk, the visitor's
// conversation only (another customer gets 404), a second request while
// one runs is a 422 with the reason, signals are capped (64 KB: 422 inside
// the route's limit, 413 above it) and must be JSON (422), a signal is read
// by its addressee only; the panels link rtc.js without loading it.
func TestMediaHTTPRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	e.user("Kim", "kim@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	pid := w.start("Can you see my screen?")
	other := e.newVisitor()
	otherPid := other.start("Me too")

	sam := e.browser()
	sam.login("sam@example.com")
	page := sam.get("/conversations/" + pid)
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Equal(t, 4, page.doc.Find(`#rtc-panel [data-rtc-request]`).Length(), "the panel offers the four kinds")
	assert.Equal(t, 1, page.doc.Find(`#rtc-stage`).Length())
	assert.Equal(t, views.AssetURL("rtc.js"), page.doc.Find(`#rtc-panel`).AttrOr("data-rtc-src", ""), "rtc.js is linked, not loaded")
	assert.Zero(t, page.doc.Find(`script[src*="rtc.js"]`).Length(), "and not loaded before use")

	base := "/conversations/" + pid + "/rtc"
	// CSRF: without the token, refused.
	res := sam.post(base, url.Values{"kind": {"screen"}, "_csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	// Staff without customer data rights do not find it.
	pat := e.browser()
	pat.login("pat@example.com")
	assert.Equal(t, http.StatusNotFound, pat.post(base, url.Values{"kind": {"screen"}}).StatusCode)
	// A kind that does not exist.
	res = sam.post(base, url.Values{"kind": {"smoke"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)

	res = sam.post(base, url.Values{"kind": {"screen"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	var state struct{ PID, Media, State string }
	require.NoError(t, json.Unmarshal([]byte(res.body), &state))
	assert.Equal(t, "requested", state.State)
	sid := state.PID
	// A second request, of any kind, while one runs: a clear line.
	res = sam.post(base, url.Values{"kind": {"audio"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.body, "already running")

	// The customer sees the request in the thread and answers it.
	thread := w.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, thread.StatusCode)
	assert.Contains(t, thread.doc.Find("#w-rtc").Text(), "Sam would like to see your screen")
	assert.Equal(t, sid, thread.doc.Find("#w-rtc").AttrOr("data-session", ""))
	assert.Contains(t, thread.doc.Find("#w-thread .w-sysline").Text(), "Sam asked for: Screen sharing")
	wbase := "/widget/conversations/" + pid + "/rtc/" + sid
	// Another customer's visitor: 404 on every route, even with the right ids.
	for _, p := range []string{"/answer", "/start", "/end"} {
		assert.Equal(t, http.StatusNotFound, other.post("/widget/conversations/"+pid+"/rtc/"+sid+p, url.Values{"accept": {"1"}}).StatusCode, p)
	}
	assert.Equal(t, http.StatusNotFound, other.post("/widget/conversations/"+otherPid+"/rtc/"+sid+"/answer", url.Values{"accept": {"1"}}).StatusCode, "the session is not in their conversation")
	assert.Equal(t, http.StatusNotFound, other.get("/widget/conversations/"+pid+"/rtc/ice?session="+sid).StatusCode)
	res = w.post(wbase+"/answer", url.Values{"accept": {"1"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Contains(t, res.body, `"accepted"`)

	// ICE servers for this session: the embedded TURN is off here, so none.
	ice := w.get("/widget/conversations/" + pid + "/rtc/ice?session=" + sid)
	require.Equal(t, http.StatusOK, ice.StatusCode)
	assert.JSONEq(t, `{"iceServers":[],"iceTransportPolicy":"all"}`, ice.body)
	assert.Equal(t, "no-store", ice.Header.Get("Cache-Control"))

	// Signals: bad JSON, a bad kind, a payload over 64 KB: 422; a body over
	// the route's limit: 413; other customers: 404.
	sig := wbase + "/signals"
	res = postJSON(t, e, nil, w, sig, `{"kind":"offer","payload":`, "")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, res.body)
	res = postJSON(t, e, nil, w, sig, `{"kind":"offer","payload":"v=0"}`, "")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, res.body)
	res = postJSON(t, e, nil, w, sig, `{"kind":"smoke","payload":{}}`, "")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, res.body)
	big := `{"kind":"offer","payload":{"sdp":"` + strings.Repeat("a", models.MaxSignalBytes) + `"}}`
	res = postJSON(t, e, nil, w, sig, big, "")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "over the payload cap")
	assert.Contains(t, res.body, "64 KB")
	huge := `{"kind":"offer","payload":{"sdp":"` + strings.Repeat("a", 2*models.MaxSignalBytes) + `"}}`
	res = postJSON(t, e, nil, w, sig, huge, "")
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, "over the route's body limit")
	assert.Equal(t, http.StatusNotFound, postJSON(t, e, nil, other, sig, `{"kind":"offer","payload":{}}`, "").StatusCode)

	res = postJSON(t, e, nil, w, sig, `{"kind":"offer","payload":{"type":"offer","sdp":"v=0 customer"}}`, "")
	require.Equal(t, http.StatusCreated, res.StatusCode, res.body)
	var created struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(res.body), &created))

	// The desk: CSRF on signals too; the agent reads the offer; a colleague
	// who may see the conversation may not, nor may the customer who sent it.
	dsig := base + "/" + sid + "/signals"
	assert.Equal(t, http.StatusForbidden, postJSON(t, e, sam, nil, dsig, `{"kind":"answer","payload":{}}`, "none").StatusCode)
	got := sam.get(base + "/signals/" + jsonID(created.ID))
	require.Equal(t, http.StatusOK, got.StatusCode, got.body)
	assert.Contains(t, got.body, "v=0 customer")
	assert.Contains(t, got.body, `"session":"`+sid+`"`)
	kim := e.browser()
	kim.login("kim@example.com")
	assert.Equal(t, http.StatusNotFound, kim.get(base+"/signals/"+jsonID(created.ID)).StatusCode)
	assert.Equal(t, http.StatusNotFound, w.get("/widget/conversations/"+pid+"/rtc/signals/"+jsonID(created.ID)).StatusCode)
	assert.Equal(t, http.StatusNotFound, other.get("/widget/conversations/"+otherPid+"/rtc/signals/"+jsonID(created.ID)).StatusCode)
	assert.Equal(t, http.StatusNotFound, kim.get(base+"/ice?session="+sid).StatusCode, "not their session")
	// The catch-up list (a stream that resumed past a signal's id): the
	// addressee gets it, nobody else does.
	list := sam.get(base + "/" + sid + "/signals")
	require.Equal(t, http.StatusOK, list.StatusCode, list.body)
	assert.Contains(t, list.body, "v=0 customer")
	assert.Equal(t, "no-store", list.Header.Get("Cache-Control"))
	assert.JSONEq(t, `[]`, sam.get(base+"/"+sid+"/signals?after="+jsonID(created.ID)).body, "nothing after it")
	assert.Equal(t, http.StatusBadRequest, sam.get(base+"/"+sid+"/signals?after=x").StatusCode)
	assert.JSONEq(t, `[]`, kim.get(base+"/"+sid+"/signals").body, "not addressed to a colleague")
	assert.JSONEq(t, `[]`, w.get(wbase+"/signals").body, "nor to its sender")
	assert.JSONEq(t, `[]`, other.get("/widget/conversations/"+otherPid+"/rtc/"+sid+"/signals").body, "another customer's conversation holds none of them")
	assert.Equal(t, http.StatusNotFound, pat.post(base+"/"+sid+"/end", url.Values{"reason": {"hangup"}}).StatusCode)

	// The customer hangs up; the agent's second end, and a colleague's (who
	// may end a session left running), change nothing.
	res = w.post(wbase+"/end", url.Values{"reason": {"hangup"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	res = sam.post(base+"/"+sid+"/end", url.Values{"reason": {"hangup"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	res = kim.post(base+"/"+sid+"/end", url.Values{"reason": {"hangup"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Equal(t, http.StatusNotFound, sam.get(base+"/signals/"+jsonID(created.ID)).StatusCode, "signals are gone with the session")
	var n int64
	require.NoError(t, e.db.Model(&models.Message{}).Where("event = ?", models.SysRTCEnded).Count(&n).Error)
	assert.EqualValues(t, 1, n)
	page = sam.get("/conversations/" + pid)
	assert.Contains(t, page.doc.Find("#rtc-panel .rtc-history").Text(), "Ended")
	assert.Contains(t, page.doc.Find("#messages").Text(), "Screen sharing ended by")
}

func jsonID(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}
