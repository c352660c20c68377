package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// The Participants panel's rules over HTTP: who may join, leave and invite,
// each refusal a 422 with its reason beside the field (or a 404 for what the
// agent may not see), the CSRF check, and the invitee's notification.
func TestParticipantsHTTPRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	bo := e.user("Bo", "bo@example.com", models.RoleAgent, true)
	pat := e.user("Pat Plain", "pat@example.com", models.RoleAgent, false)
	gil := e.user("Gil Gone", "gil@example.com", models.RoleAgent, true)
	admin := e.user("Root", "root@example.com", models.RoleAdmin, true)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.DeactivateUser(ctx, tx, admin.ID, gil.ID) }))
	w := e.newVisitor()
	pid := w.start("Help please")
	base := "/conversations/" + pid + "/participants/"
	hx := []string{"HX-Request", "true"}

	ana := e.browser()
	ana.login("ana@example.com")
	page := ana.get("/conversations/" + pid)
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Equal(t, 1, page.doc.Find("#conv-participants .participant-customer").Length(), "the customer is listed")
	require.Equal(t, 1, page.doc.Find("#participants-join").Length())
	require.Equal(t, 1, page.doc.Find("#participants-join-hidden").Length())
	// The Invite menu loads who may be invited when it is used.
	menu := page.doc.Find("#f-invite").AttrOr("data-options", "")
	require.Equal(t, "/conversations/"+pid+"/menus/invite", menu)
	require.Equal(t, 1, page.doc.Find("#f-invite option").Length(), "the page carries the prompt only")
	opts := ana.get(menu, hx...)
	require.Equal(t, http.StatusOK, opts.StatusCode)
	require.Equal(t, 1, opts.doc.Find(`option[value="`+fmt.Sprint(bo.ID)+`"]`).Length(), "Bo may be invited")
	require.Zero(t, opts.doc.Find(`option[value="`+fmt.Sprint(pat.ID)+`"]`).Length(), "Pat may not see customer conversations")
	require.Zero(t, opts.doc.Find(`option[value="`+fmt.Sprint(gil.ID)+`"]`).Length(), "Gil is deactivated")

	// CSRF: a forged post changes nothing.
	for _, action := range []string{"join", "leave", "invite"} {
		res := ana.post(base+action, url.Values{"_csrf": {"forged"}, "user_id": {fmt.Sprint(bo.ID)}}, hx...)
		require.Equal(t, http.StatusForbidden, res.StatusCode, action)
	}

	// Bad invitations: 422, the reason beside the field, nothing stored.
	for _, tc := range []struct{ id, want string }{
		{fmt.Sprint(pat.ID), "Pat Plain may not see this conversation"},
		{fmt.Sprint(gil.ID), "Gil Gone is deactivated"},
		{"999999", "no such agent"},
		{"not-a-number", "no such agent"},
		{"", "no such agent"},
	} {
		res := ana.post(base+"invite", url.Values{"user_id": {tc.id}}, hx...)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.id)
		require.Contains(t, res.text("#e-user_id"), tc.want, tc.id)
		require.Equal(t, "true", res.doc.Find("#f-invite").AttrOr("aria-invalid", ""), tc.id)
	}
	// Without htmx, the refusal is a 422 page saying why.
	res := ana.post(base+"invite", url.Values{"user_id": {fmt.Sprint(pat.ID)}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, res.body, "Pat Plain may not see this conversation")
	var n int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM conversation_participants").Scan(&n).Error)
	require.Zero(t, n)

	// Leaving what one is not in.
	res = ana.post(base+"leave", nil, hx...)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, res.text("#e-participant"), "You are not in this conversation")

	// Ana invites Bo: the panel lists Bo, invited by Ana; Bo is notified.
	res = ana.post(base+"invite", url.Values{"user_id": {fmt.Sprint(bo.ID)}}, hx...)
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	li := res.doc.Find(fmt.Sprintf(`#conv-participants li[data-user-id="%d"]`, bo.ID))
	require.Equal(t, 1, li.Length(), res.body)
	require.Contains(t, li.Text(), "invited by Ana")
	res = ana.post(base+"invite", url.Values{"user_id": {fmt.Sprint(bo.ID)}}, hx...)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, res.text("#e-user_id"), "Bo is already in the conversation")
	e.notifyLatest(models.EventConversation)
	bob := e.browser()
	bob.login("bo@example.com")
	bell := bob.get("/notifications")
	require.Equal(t, http.StatusOK, bell.StatusCode)
	require.Contains(t, bell.body, "Ana invited you into the conversation with")

	// Bo sees Leave, not Join; a plain form leaves and goes back.
	page = bob.get("/conversations/" + pid)
	require.Equal(t, 1, page.doc.Find("#participants-leave").Length())
	require.Zero(t, page.doc.Find("#participants-join").Length())
	res = bob.post(base+"leave", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)

	// Ana joins hidden: the panel marks her so; joining again is refused.
	res = ana.post(base+"join", url.Values{"hidden": {"true"}}, hx...)
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	require.Equal(t, 1, res.doc.Find(".participant-hidden").Length())
	res = ana.post(base+"join", nil, hx...)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, res.text("#e-participant"), "Ana is already in the conversation")

	// Pat may not see the conversation at all: 404, as for any lookup.
	patB := e.browser()
	patB.login("pat@example.com")
	for _, action := range []string{"join", "leave", "invite"} {
		require.Equal(t, http.StatusNotFound, patB.post(base+action, url.Values{"user_id": {fmt.Sprint(bo.ID)}}, hx...).StatusCode, action)
	}
	// Teammate chats have members, not participants.
	ichat, _, err := factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, bo, []int64{pat.ID}, "hi")
	})
	require.NoError(t, err)
	res = bob.post("/conversations/"+ichat.PublicID+"/participants/join", nil, hx...)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
}

// A hidden agent never reaches the customer: not their name on the widget's
// thread page, in its live stream, in a replay from a resume point (since
// or Last-Event-ID), in the customer's email, nor their joining, leaving or
// typing. Their reply reaches the customer under the desk's name.
func TestHiddenAgentNeverReachesCustomer(t *testing.T) {
	t.Parallel()
	e, smtp := mailEnv(t)
	require.NoError(t, e.db.Exec("UPDATE desk_settings SET desk_name = 'Acme Help' WHERE id = 1").Error)
	e.user("Cyrus Hidden", "cy@example.com", models.RoleAgent, true)
	e.user("Bo Visible", "bo@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	res := w.post("/widget/conversations", url.Values{"body": {"Where is my order?"}, "email": {"zoe@client.test"}, "name": {"Zoe"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	pid, _ := res.doc.Find("#w-thread-view").Attr("data-pid")
	from := e.app.rt.Cursor()
	live := w.stream(t, 0, pid)
	time.Sleep(100 * time.Millisecond) // subscribed before the changes

	cy, bo := e.browser(), e.browser()
	cy.login("cy@example.com")
	bo.login("bo@example.com")
	hx := []string{"HX-Request", "true"}
	base := "/conversations/" + pid
	require.Equal(t, http.StatusOK, cy.post(base+"/participants/join", url.Values{"hidden": {"true"}}, hx...).StatusCode)
	require.Equal(t, http.StatusNoContent, cy.post(base+"/typing", url.Values{"state": {"typing"}}).StatusCode)
	require.Equal(t, http.StatusOK, cy.post(base+"/messages", url.Values{"body": {"Hidden reply: it ships today"}}, hx...).StatusCode)
	// A status line the customer sees, caused by the hidden agent, names the desk.
	require.Equal(t, http.StatusNoContent, cy.post(base+"/status", url.Values{"status": {"closed"}}, hx...).StatusCode)
	require.Equal(t, http.StatusOK, bo.post(base+"/participants/join", nil, hx...).StatusCode)
	require.Equal(t, http.StatusOK, cy.post(base+"/participants/leave", nil, hx...).StatusCode)
	require.Equal(t, http.StatusOK, bo.post(base+"/messages", url.Values{"body": {"Visible reply: anything else?"}}, hx...).StatusCode)

	check := func(where, text string) {
		t.Helper()
		require.Contains(t, text, "Hidden reply: it ships today", where)
		require.Contains(t, text, "Visible reply: anything else?", where)
		require.Contains(t, text, "Bo Visible joined the conversation", where)
		require.Contains(t, text, "Acme Help", where)
		require.Contains(t, text, "Acme Help closed this conversation.", where)
		require.NotContains(t, text, "Cyrus", where)
		require.NotContains(t, text, "joined hidden", where)
		require.NotContains(t, text, "was hidden", where)
	}
	check("live stream", live.waitFor("Visible reply: anything else?"))

	// The thread page: the hidden reply's author is the desk.
	thread := w.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, thread.StatusCode)
	check("thread", thread.body)
	var authors []string
	thread.doc.Find(".w-msg").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "Hidden reply") {
			authors = append(authors, strings.TrimSpace(s.Find(".w-msg-author").Text()))
		}
	})
	require.Equal(t, []string{"Acme Help"}, authors)

	// The customer's transcript (the link under the thread).
	link, ok := thread.doc.Find("#w-transcript-link").Attr("href")
	require.True(t, ok, "the thread offers the transcript")
	tr := e.browser().get(link)
	require.Equal(t, http.StatusOK, tr.StatusCode, tr.body)
	check("transcript", tr.body)
	// Staff transcripts say who it was, marked hidden.
	staffTr := bo.get(base + "/transcript.txt")
	require.Equal(t, http.StatusOK, staffTr.StatusCode)
	require.Contains(t, staffTr.body, "Cyrus Hidden (Hidden)")

	// Replays: from the page's cursor, and from a Last-Event-ID.
	check("replay since", w.stream(t, from, pid).waitFor("Visible reply: anything else?"))
	check("replay Last-Event-ID", streamWithLastEventID(t, w, pid, from).waitFor("Visible reply: anything else?"))

	// The desk, meanwhile, shows who it was.
	desk := bo.get(base)
	require.Contains(t, desk.body, "Cyrus Hidden joined hidden")
	require.Contains(t, desk.body, "Cyrus Hidden closed the conversation")
	require.Equal(t, 1, desk.doc.Find(".msg-hidden").Length())

	// The customer's email.
	e.allMail()
	e.makeDue("customer_email")
	msgs := smtp.Messages()
	require.Len(t, msgs, 1)
	for where, text := range map[string]string{"email text": msgs[0].Text, "email html": msgs[0].HTML} {
		require.Contains(t, text, "Hidden reply: it ships today", where)
		require.Contains(t, text, "Acme Help", where)
		require.Contains(t, text, "Bo Visible", where)
		require.NotContains(t, text, "Cyrus", where)
	}
}

// streamWithLastEventID opens the widget's stream of conversation pid as a
// reconnecting EventSource does: with a Last-Event-ID header.
func streamWithLastEventID(t *testing.T, w *widgetClient, pid string, id uint64) *testStream {
	t.Helper()
	q := url.Values{"visitor": {w.token}, "conv": {pid}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.e.srv.URL+"/widget/events?"+q.Encode(), nil)
	require.NoError(t, err)
	req.Header.Set("Last-Event-ID", uintStr(id))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	s := &testStream{t: t, status: res.StatusCode, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer res.Body.Close()
		buf := make([]byte, 4096)
		for {
			n, err := res.Body.Read(buf)
			s.mu.Lock()
			s.buf.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}
