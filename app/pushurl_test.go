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

func pushCount(t *testing.T, e *testEnv, where string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.db.Model(&models.Message{}).Where(where, args...).Count(&n).Error)
	return n
}

// Pushing a URL: a javascript: or malformed URL is a 422 beside the field
// and stores nothing; a post without the CSRF token is refused; a good one
// reaches the widget as a card with an Open button. The widget's "opened"
// report needs the visitor's header (what a cross-site form cannot send),
// counts once, is the desk's alone, and is 404 for anyone else.
func TestPushURLRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	w := e.newVisitor()
	pid := w.start("Where is the guide?")
	conv, err := models.FindConversationForVisitor(t.Context(), e.db, w.visitor(), pid)
	require.NoError(t, err)

	b := e.browser()
	b.login("sam@example.com")
	page := b.get("/conversations/" + pid)
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Equal(t, 1, page.doc.Find("form#push-url input[name=url]").Length(), "the push form is under the composer")
	push := "/conversations/" + pid + "/push"

	for _, bad := range []string{"javascript:alert(document.cookie)", "https://exa mple.com", "not a url", "", "data:text/html,<b>x</b>"} {
		res := b.post(push, url.Values{"url": {bad}}, "HX-Request", "true")
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, bad)
		assert.NotEmpty(t, res.text("#push-url #e-url"), "the reason beside the field: %q", bad)
		assert.Equal(t, bad, res.doc.Find("#f-push-url").AttrOr("value", "?"), "the form keeps what was typed")
		assert.Equal(t, "true", res.doc.Find("#f-push-url").AttrOr("aria-invalid", ""))
	}
	res := b.post(push, url.Values{"url": {"javascript:alert(1)"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "without htmx: the page, with the reason")
	assert.Contains(t, res.text("#push-url #e-url"), "http:// or https://")
	// No CSRF token, or someone else's: refused before anything happens.
	res = b.post(push, url.Values{"url": {"https://example.com/guide"}, "_csrf": {"forged"}}, "HX-Request", "true")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	// Staff without customer data rights do not find the conversation.
	pat := e.browser()
	pat.login("pat@example.com")
	assert.Equal(t, http.StatusNotFound, pat.post(push, url.Values{"url": {"https://example.com/guide"}}, "HX-Request", "true").StatusCode)
	assert.Zero(t, pushCount(t, e, "conversation_id = ? AND author_type = 'agent'", conv.ID), "nothing stored")

	res = b.post(push, url.Values{"url": {"https://example.com/guide?a=1&b=<2>"}}, "HX-Request", "true")
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "< and > are not in a URL")
	res = b.post(push, url.Values{"url": {"https://example.com/guide?a=1&b=2"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Equal(t, "", res.doc.Find("#f-push-url").AttrOr("value", "?"), "an empty form again")
	var m models.Message
	require.NoError(t, e.db.Where("conversation_id = ? AND link_pushed", conv.ID).Take(&m).Error)
	assert.Equal(t, "https://example.com/guide?a=1&b=2", m.LinkURL)

	// The widget shows a card with an Open button, a plain new-tab link.
	thread := w.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, thread.StatusCode)
	open := thread.doc.Find(`.w-push a[data-push-open]`)
	require.Equal(t, 1, open.Length(), thread.body)
	assert.Equal(t, "https://example.com/guide?a=1&b=2", open.AttrOr("href", ""))
	assert.Equal(t, "_blank", open.AttrOr("target", ""))
	assert.Equal(t, "noopener noreferrer", open.AttrOr("rel", ""))
	assert.Equal(t, "Open", strings.TrimSpace(open.Text()))
	assert.Zero(t, thread.doc.Find(".w-push[data-opened]").Length())

	opened := "/widget/conversations/" + pid + "/links/" + idStr(m.ID) + "/opened"
	// A cross-site form carries no visitor header: nothing to act as.
	forged := e.browser()
	res = forged.post(opened, url.Values{"_csrf": {"x"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	// Another visitor, another message, a bad id: not found.
	stranger := e.newVisitor()
	assert.Equal(t, http.StatusNotFound, stranger.post(opened, nil).StatusCode)
	assert.Equal(t, http.StatusNotFound, w.post("/widget/conversations/"+pid+"/links/nope/opened", nil).StatusCode)
	first := pushCount(t, e, "conversation_id = ? AND author_type = 'customer'", conv.ID)
	require.EqualValues(t, 1, first)
	var firstID int64
	require.NoError(t, e.db.Model(&models.Message{}).Select("id").Where("conversation_id = ? AND author_type = 'customer'", conv.ID).Scan(&firstID).Error)
	assert.Equal(t, http.StatusNotFound, w.post("/widget/conversations/"+pid+"/links/"+idStr(firstID)+"/opened", nil).StatusCode, "not a push")
	assert.Zero(t, pushCount(t, e, "event = ?", models.SysURLOpened))

	assert.Equal(t, http.StatusNoContent, w.post(opened, nil).StatusCode)
	assert.Equal(t, http.StatusNoContent, w.post(opened, nil).StatusCode, "again: nothing new")
	assert.EqualValues(t, 1, pushCount(t, e, "event = ?", models.SysURLOpened), "once per push")

	// The desk reads the status line; the customer never does.
	page = b.get("/conversations/" + pid)
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, page.text("#messages .msg-system:last-child"), "opened the pushed URL https://example.com/guide?a=1&b=2")
	assert.Equal(t, 1, page.doc.Find("#messages .push-card .push-card-opened").Length())
	thread = w.get("/widget/conversations/" + pid)
	assert.NotContains(t, thread.body, "opened the pushed URL")
	assert.Equal(t, 1, thread.doc.Find(".w-push[data-opened]").Length())
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }
