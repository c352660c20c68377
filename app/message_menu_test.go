package app

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// TestMessageMenuRules: the per-message menu's rules over HTTP. Agents edit
// and delete their own messages and notes, admins any; someone else's
// message is a 403 saying so, a status line a 403 too, a bad body a 422
// beside the field, a missing CSRF token a 403, and nothing is stored on
// any failure. The customer's widget hears of edits and deletions of
// replies live, never of notes, and never sees what a message said before;
// only admins read that history.
func TestMessageMenuRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, true)
	sam, pat, admin := e.browser(), e.browser(), e.browser()
	sam.login("sam@example.com")
	pat.login("pat@example.com")
	admin.login("ada@example.com")

	w := e.newVisitor()
	pid := w.start("Hi, where is my parcel?")
	base := "/conversations/" + pid
	require.Equal(t, http.StatusSeeOther, sam.post(base+"/messages", url.Values{"body": {"Original reply"}}).StatusCode)
	require.Equal(t, http.StatusSeeOther, sam.post(base+"/messages", url.Values{"body": {"Secret note"}, "kind": {"note"}}).StatusCode)
	msgID := func(body string) int64 {
		var m models.Message
		require.NoError(t, e.db.Where("body = ?", body).Take(&m).Error)
		return m.ID
	}
	reply, note, first := msgID("Original reply"), msgID("Secret note"), msgID("Hi, where is my parcel?")
	path := func(id int64) string { return base + "/messages/" + strconv.FormatInt(id, 10) }
	revisions := func() int64 {
		var n int64
		require.NoError(t, e.db.Model(&models.MessageRevision{}).Count(&n).Error)
		return n
	}
	bodyOf := func(id int64) string {
		var m models.Message
		require.NoError(t, e.db.Take(&m, id).Error)
		return m.Body
	}

	// The menu is on every message; edit and delete only where allowed.
	page := pat.get(base)
	require.Equal(t, http.StatusOK, page.StatusCode)
	replyItem := page.doc.Find("#msg-" + strconv.FormatInt(reply, 10))
	assert.Equal(t, 1, replyItem.Find("details.msg-menu [data-copy-link]").Length())
	assert.Equal(t, base+"#msg-"+strconv.FormatInt(reply, 10), replyItem.Find("[data-copy-link]").AttrOr("data-copy-link", ""))
	assert.Zero(t, replyItem.Find("[data-msg-edit]").Length(), "Pat sees no Edit on Sam's reply")
	page = sam.get(base)
	assert.Equal(t, 1, page.doc.Find("#msg-"+strconv.FormatInt(reply, 10)+" [data-msg-edit]").Length())
	assert.Equal(t, 1, page.doc.Find("#msg-"+strconv.FormatInt(reply, 10)+" [data-msg-delete]").Length())
	assert.Zero(t, page.doc.Find("#msg-"+strconv.FormatInt(first, 10)+" [data-msg-edit]").Length(), "nor Sam on the customer's")
	assert.Zero(t, page.doc.Find("[data-msg-history]").Length(), "no history for non-admins")

	thread := w.stream(t, e.horizon(), pid)
	patDesk := pat.streamFor(pat.get(base))

	// Someone else's message: 403 with a clear message, nothing stored.
	res := pat.post(path(reply)+"/edit", url.Values{"body": {"Hijacked"}}, "HX-Request", "true")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.Header.Get("HX-Trigger"), "You can only edit or delete your own messages.")
	res = pat.post(path(reply)+"/delete", nil)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.body, "You can only edit or delete your own messages.")
	assert.Equal(t, http.StatusForbidden, pat.get(path(reply)+"/edit", "HX-Request", "true").StatusCode)
	// CSRF: a post without the session's token is refused.
	res = sam.post(path(reply)+"/edit", url.Values{"body": {"Forged"}, "_csrf": {"nope"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res = sam.post(path(reply)+"/delete", url.Values{"_csrf": {""}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	// Empty or oversized: 422 beside the field, the form kept.
	for _, tc := range []struct{ body, want string }{
		{"   ", "Write a message first."},
		{strings.Repeat("é", models.MaxMessageLen+1), "at most 10000 characters"},
	} {
		res = sam.post(path(reply)+"/edit", url.Values{"body": {tc.body}}, "HX-Request", "true")
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.Contains(t, res.text("#e-edit-"+strconv.FormatInt(reply, 10)), tc.want)
		assert.Equal(t, 1, res.doc.Find("form.msg-edit textarea[name=body]").Length())
	}
	// Unknown message, or one of another conversation: 404.
	assert.Equal(t, http.StatusNotFound, sam.post(base+"/messages/999999/edit", url.Values{"body": {"x"}}).StatusCode)
	assert.Equal(t, http.StatusNotFound, sam.post(base+"/messages/abc/delete", nil).StatusCode)
	assert.Zero(t, revisions(), "nothing stored")
	assert.Equal(t, "Original reply", bodyOf(reply))

	// Sam edits his reply: the message as it now reads, live in the widget
	// and in Pat's desk.
	res = sam.get(path(reply)+"/edit", "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Original reply", res.doc.Find("form.msg-edit textarea").Text())
	res = sam.post(path(reply)+"/edit", url.Values{"body": {"Edited reply"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Equal(t, "Edited reply", strings.TrimSpace(res.doc.Find(".msg-body").Contents().First().Text()))
	assert.Equal(t, 1, res.doc.Find(".msg-edited").Length())
	txt := thread.waitFor("Edited reply")
	assert.Contains(t, txt, "w-msg-edited")
	patDesk.has("[data-replace-only] #msg-" + strconv.FormatInt(reply, 10) + " .msg-edited")

	// A note's edit never reaches the widget.
	res = sam.post(path(note)+"/edit", url.Values{"body": {"Edited secret note"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	patDesk.has("#msg-" + strconv.FormatInt(note, 10) + " .msg-edited")

	// Status lines cannot be edited, not even by admins.
	require.Equal(t, http.StatusSeeOther, sam.post(base+"/status", url.Values{"status": {"closed"}}).StatusCode)
	var sys models.Message
	require.NoError(t, e.db.Where("kind = ?", models.MessageSystem).Last(&sys).Error)
	res = admin.post(path(sys.ID)+"/edit", url.Values{"body": {"nothing happened"}}, "HX-Request", "true")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.Header.Get("HX-Trigger"), "Status lines cannot be edited or deleted.")
	assert.Equal(t, http.StatusForbidden, admin.post(path(sys.ID)+"/delete", nil).StatusCode)

	// An admin may edit anyone's message.
	res = admin.post(path(reply)+"/edit", url.Values{"body": {"Edited reply, by the admin"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	thread.waitFor("Edited reply, by the admin")

	// Sam deletes it (still his message): "message deleted" everywhere,
	// the text gone.
	res = sam.post(path(reply)+"/delete", nil, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Equal(t, "message deleted", res.text(".msg-deleted"))
	assert.Zero(t, res.doc.Find("[data-msg-edit]").Length(), "a deleted message is not changed again")
	thread.waitFor("w-msg-deleted")
	assert.Equal(t, "", bodyOf(reply))
	view := w.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, view.StatusCode)
	assert.Equal(t, "message deleted", view.text("#m-"+strconv.FormatInt(reply, 10)+" .w-msg-deleted"))

	// The customer never sees what was said before, nor any note.
	for _, secret := range []string{"Original reply", "Edited reply", "Secret note", "Edited secret note"} {
		assert.NotContains(t, view.body, secret)
	}
	assert.NotContains(t, thread.text(), "Secret note", "the widget stream")
	assert.NotContains(t, thread.text(), "secret note", "the widget stream")
	assert.NotContains(t, thread.text(), "Original reply", "the widget stream")
	assert.NotEqual(t, http.StatusOK, w.get(path(reply)+"/history").StatusCode, "no history for visitors")

	// The history: admins only.
	res = sam.get(path(reply)+"/history", "HX-Request", "true")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, res.Header.Get("HX-Trigger"), "Only admins")
	page = admin.get(base)
	assert.Equal(t, 1, page.doc.Find("#msg-"+strconv.FormatInt(reply, 10)+" [data-msg-history]").Length())
	res = admin.get(path(reply)+"/history", "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	revs := res.doc.Find(".msg-revision")
	require.Equal(t, 3, revs.Length())
	assert.Equal(t, "Original reply", strings.TrimSpace(revs.Eq(0).Find(".msg-revision-body").Text()))
	assert.Contains(t, revs.Eq(0).Text(), "Before Sam edited it")
	assert.Contains(t, revs.Eq(1).Text(), "Before Ada edited it")
	assert.Contains(t, revs.Eq(2).Text(), "Deleted by Sam")
	assert.Equal(t, "Edited reply, by the admin", strings.TrimSpace(revs.Eq(2).Find(".msg-revision-body").Text()))

	// Author details: a teammate's card, the customer's for support staff.
	res = pat.get(path(note)+"/author", "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Sam", res.text(".msg-card-name"))
	assert.Equal(t, "sam@example.com", res.text(".msg-card-email"))
	require.Equal(t, http.StatusOK, w.post("/widget/contact", url.Values{"email": {"cleo@example.com"}, "name": {"Cleo"}}).StatusCode)
	res = pat.get(path(first)+"/author", "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.text(".msg-card"), "Customer")
	assert.Contains(t, res.text(".msg-card"), "cleo@example.com")
}
