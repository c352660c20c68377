package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/jobs"
	"github.com/parleydesk/parley/models"
)

// The HTTP rules of conferences: only the conversation's agents (its
// assignee and visible participants) may join its call (403 for another
// agent, 404 for staff without customer data), at most 4 people (409 with
// a message saying so), CSRF on join and leave; the panel offers Join to
// those who may and shows who is in the call, and the customer's widget
// shows it too.
func TestCallConferenceHTTPRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.user("Kim", "kim@example.com", models.RoleAgent, true)
	e.user("Lee", "lee@example.com", models.RoleAgent, true)
	e.user("Max", "max@example.com", models.RoleAgent, true)
	e.user("Out", "out@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	w := e.newVisitor()
	pid := w.start("Can we all talk?")
	agents := map[string]*browser{}
	for _, n := range []string{"sam", "kim", "lee", "max", "out", "pat"} {
		agents[n] = e.browser()
		agents[n].login(n + "@example.com")
	}
	for _, n := range []string{"kim", "lee", "max"} {
		res := agents[n].post("/conversations/"+pid+"/participants/join", url.Values{})
		require.Less(t, res.StatusCode, 400, res.body)
	}
	base := "/conversations/" + pid + "/rtc"
	res := agents["sam"].post(base, url.Values{"kind": {"audio"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	var st struct{ PID string }
	require.NoError(t, json.Unmarshal([]byte(res.body), &st))
	sid := st.PID
	join := func(n string) *response { return agents[n].post(base+"/"+sid+"/join", url.Values{}) }

	// Not before the customer answers.
	assert.Equal(t, http.StatusUnprocessableEntity, join("kim").StatusCode)
	require.Equal(t, http.StatusOK, w.post("/widget/conversations/"+pid+"/rtc/"+sid+"/answer", url.Values{"accept": {"1"}}).StatusCode)

	// The panel: Join for a participant, not for an agent outside it.
	page := agents["kim"].get("/conversations/" + pid)
	assert.Equal(t, 1, page.doc.Find(`#rtc-panel [data-rtc-join]`).Length())
	assert.Zero(t, agents["out"].get("/conversations/"+pid).doc.Find(`#rtc-panel [data-rtc-join]`).Length())

	// CSRF.
	res = agents["kim"].post(base+"/"+sid+"/join", url.Values{"_csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res = join("kim")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	var joined struct{ Peers []string }
	require.NoError(t, json.Unmarshal([]byte(res.body), &joined))
	assert.ElementsMatch(t, []string{"customer", peerOf(t, e, "sam@example.com")}, joined.Peers, "the joiner offers to everyone in the call")

	res = join("out")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "not one of the conversation's agents")
	assert.Contains(t, res.body, "Only the conversation")
	assert.Equal(t, http.StatusNotFound, join("pat").StatusCode, "no customer data")
	require.Equal(t, http.StatusOK, join("lee").StatusCode)
	res = join("max")
	assert.Equal(t, http.StatusConflict, res.StatusCode, "a fifth person")
	assert.Contains(t, res.body, "4 people at most")
	assert.Contains(t, agents["max"].get("/conversations/"+pid).doc.Find("#rtc-panel").Text(), "This call is full")

	// Who is in the call: the desk's panel and the customer's widget.
	roster := agents["sam"].get("/conversations/" + pid).doc.Find("#rtc-panel .rtc-roster li")
	assert.Equal(t, 4, roster.Length())
	assert.Contains(t, w.get("/widget/conversations/"+pid).doc.Find("#w-rtc [data-rtc-roster]").Text(), "Sam, Kim, Lee")
	// ICE for the agents in the call, not for one outside it.
	assert.Equal(t, http.StatusOK, agents["lee"].get(base+"/ice?session="+sid).StatusCode)
	assert.Equal(t, http.StatusNotFound, agents["max"].get(base+"/ice?session="+sid).StatusCode)

	// Leaving: CSRF, then a line; Max may join now.
	assert.Equal(t, http.StatusForbidden, agents["kim"].post(base+"/"+sid+"/leave", url.Values{"_csrf": {"forged"}}).StatusCode)
	require.Equal(t, http.StatusOK, agents["kim"].post(base+"/"+sid+"/leave", url.Values{}).StatusCode)
	require.Equal(t, http.StatusOK, join("max").StatusCode)
	thread := w.get("/widget/conversations/" + pid).doc.Find("#w-thread .w-sysline").Text()
	assert.Contains(t, thread, "Kim joined the call")
	assert.Contains(t, thread, "Kim left the call")

	// Heartbeats: 204 for those in the call, 404 for another customer, 410
	// once it has ended.
	assert.Equal(t, http.StatusNoContent, agents["lee"].post(base+"/"+sid+"/alive", url.Values{}).StatusCode)
	assert.Equal(t, http.StatusNoContent, w.post("/widget/conversations/"+pid+"/rtc/"+sid+"/alive", url.Values{}).StatusCode)
	other := e.newVisitor()
	other.start("hi")
	assert.Equal(t, http.StatusNotFound, other.post("/widget/conversations/"+pid+"/rtc/"+sid+"/alive", url.Values{}).StatusCode)
	require.Equal(t, http.StatusOK, w.post("/widget/conversations/"+pid+"/rtc/"+sid+"/end", url.Values{"reason": {"hangup"}}).StatusCode)
	assert.Equal(t, http.StatusGone, w.post("/widget/conversations/"+pid+"/rtc/"+sid+"/alive", url.Values{}).StatusCode)
}

func peerOf(t *testing.T, e *testEnv, email string) string {
	t.Helper()
	var id int64
	require.NoError(t, e.db.Raw("SELECT id FROM users WHERE email = ?", email).Scan(&id).Error)
	return models.UserPeer(id)
}

// Calls the customer starts: with the desk setting off (the default) the
// widget has no Call button and the endpoint refuses (403); an admin turns
// it on (CSRF-protected form); then the button shows, the call rings in the
// assignee's panel with Accept and Decline (not in another agent's), and
// the assignee answers it.
func TestCustomerCallHTTPRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	sam := e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.user("Kim", "kim@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	pid := w.start("Can I call you?")
	require.NoError(t, e.db.Exec("UPDATE conversations SET assignee_id = ? WHERE public_id = ?", sam.ID, pid).Error)

	wbase := "/widget/conversations/" + pid + "/rtc"
	assert.Zero(t, w.get("/widget/conversations/"+pid).doc.Find(`#w-rtc [data-rtc-request]`).Length(), "no Call button while off")
	res := w.post(wbase, url.Values{"kind": {"audio"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.body, "cannot be started")

	ada := e.browser()
	ada.login("ada@example.com")
	settings := ada.get("/admin/conversations")
	require.Equal(t, 1, settings.doc.Find(`#customer-calls-form input[name="customer_calls"]:not([checked])`).Length(), "off by default")
	assert.Equal(t, http.StatusForbidden, ada.post("/admin/conversations/customer-calls", url.Values{"customer_calls": {"1"}, "_csrf": {"forged"}}).StatusCode)
	sam2 := e.browser()
	sam2.login("sam@example.com")
	assert.NotEqual(t, http.StatusSeeOther, sam2.post("/admin/conversations/customer-calls", url.Values{"customer_calls": {"1"}}).StatusCode, "admins only")
	res = ada.post("/admin/conversations/customer-calls", url.Values{"customer_calls": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	assert.Equal(t, 1, ada.get("/admin/conversations").doc.Find(`input[name="customer_calls"][checked]`).Length())

	assert.Equal(t, 2, w.get("/widget/conversations/"+pid).doc.Find(`#w-rtc [data-rtc-request]`).Length(), "Call and Video call")
	assert.Equal(t, http.StatusUnprocessableEntity, w.post(wbase, url.Values{"kind": {"screen"}}).StatusCode)
	res = w.post(wbase, url.Values{"kind": {"video"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	var st struct{ PID, State string }
	require.NoError(t, json.Unmarshal([]byte(res.body), &st))
	assert.Equal(t, "requested", st.State)
	assert.Contains(t, w.get("/widget/conversations/"+pid).doc.Find("#w-rtc").Text(), "Calling")

	// It rings for the assignee, not for Kim.
	page := sam2.get("/conversations/" + pid)
	assert.Equal(t, 1, page.doc.Find(`#rtc-panel [data-rtc-accept]`).Length())
	assert.Equal(t, 1, page.doc.Find(`#rtc-panel [data-rtc-decline]`).Length())
	assert.Contains(t, page.doc.Find("#rtc-panel .rtc-status").Text(), "the customer is calling")
	kim := e.browser()
	kim.login("kim@example.com")
	assert.Zero(t, kim.get("/conversations/"+pid).doc.Find(`#rtc-panel [data-rtc-accept]`).Length())
	dbase := "/conversations/" + pid + "/rtc/" + st.PID
	assert.Equal(t, http.StatusNotFound, kim.post(dbase+"/answer", url.Values{"accept": {"1"}}).StatusCode)
	assert.Equal(t, http.StatusForbidden, sam2.post(dbase+"/answer", url.Values{"accept": {"1"}, "_csrf": {"forged"}}).StatusCode)
	res = sam2.post(dbase+"/answer", url.Values{"accept": {"1"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Contains(t, res.body, `"accepted"`)
	assert.Contains(t, w.get("/widget/conversations/"+pid).doc.Find("#w-thread .w-sysline").Text(), "You started: Video call")

	// Turned off again: no button, 403 (after this call ends).
	require.Equal(t, http.StatusOK, w.post(wbase+"/"+st.PID+"/end", url.Values{"reason": {"hangup"}}).StatusCode)
	require.Equal(t, http.StatusSeeOther, ada.post("/admin/conversations/customer-calls", url.Values{}).StatusCode)
	assert.Zero(t, w.get("/widget/conversations/"+pid).doc.Find(`#w-rtc [data-rtc-request]`).Length())
	assert.Equal(t, http.StatusForbidden, w.post(wbase, url.Values{"kind": {"audio"}}).StatusCode)
}

// The reaper job through River: a customer's call nobody answered is a
// "Missed call" both sides see; a call whose browsers went silent ends
// ("nobody was connected any more"), and its desk panel offers new calls.
func TestReapMediaJob(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	require.NoError(t, models.SetCustomerCalls(context.Background(), e.db, true))
	w := e.newVisitor()
	pid := w.start("Hello?")
	res := w.post("/widget/conversations/"+pid+"/rtc", url.Values{"kind": {"audio"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	w2 := e.newVisitor()
	pid2 := w2.start("Still there?")
	sam := e.browser()
	sam.login("sam@example.com")
	res = sam.post("/conversations/"+pid2+"/rtc", url.Values{"kind": {"video"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	var st struct{ PID string }
	require.NoError(t, json.Unmarshal([]byte(res.body), &st))
	require.Equal(t, http.StatusOK, w2.post("/widget/conversations/"+pid2+"/rtc/"+st.PID+"/answer", url.Values{"accept": {"1"}}).StatusCode)
	require.NoError(t, e.db.Exec("UPDATE rtc_sessions SET created_at = now() - interval '5 minutes'").Error)
	require.NoError(t, e.db.Exec("UPDATE rtc_sessions SET alive_at = now() - interval '5 minutes' WHERE public_id = ?", st.PID).Error)

	_, err := e.app.river.Insert(context.Background(), jobs.ReapMediaArgs{}, nil)
	require.NoError(t, err)
	eventually(t, "the reaper", func() bool {
		var n int64
		require.NoError(t, e.db.Raw("SELECT count(*) FROM rtc_sessions WHERE state = 'ended'").Scan(&n).Error)
		return n == 2
	})
	assert.Contains(t, w.get("/widget/conversations/"+pid).doc.Find("#w-thread .w-sysline").Text(), "Missed call")
	assert.Contains(t, sam.get("/conversations/"+pid).doc.Find("#messages .msg-system").Text(), "Missed call")
	page := sam.get("/conversations/" + pid2)
	assert.Contains(t, page.doc.Find("#messages .msg-system").Text(), "Video call ended: nobody was connected any more")
	assert.Equal(t, 1, page.doc.Find(`#rtc-panel [data-rtc-request="video"]`).Length())
}
