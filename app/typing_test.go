package app

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// TestTypingPresenceAndSeen: who may signal what, who sees it, the draft
// preview only when an admin turned it on, and nothing stored.
func TestTypingPresenceAndSeen(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	e.user("Nora", "nora@example.com", models.RoleAgent, false) // no customer support: sees no customer conversation

	w := e.newVisitor()
	pid := w.start("Hello")
	other := e.newVisitor()
	otherPid := other.start("Hi")

	ana := e.browser()
	ana.login("ana@example.com")
	anaPage := ana.get("/conversations/" + pid)
	require.Equal(t, http.StatusOK, anaPage.StatusCode)
	require.Equal(t, 1, anaPage.doc.Find("#conv-typing").Length())
	require.Equal(t, 1, anaPage.doc.Find("#conv-viewing").Length())
	anaStream := ana.streamFor(anaPage)
	ada := e.browser()
	ada.login("ada@example.com")
	adaPage := ada.get("/conversations/" + pid)
	adaStream := ada.streamFor(adaPage)
	nora := e.browser()
	nora.login("nora@example.com")
	widget := w.stream(t, 0, pid)
	otherWidget := other.stream(t, 0, otherPid)

	count := func() (n [2]int64) {
		require.NoError(t, e.db.Table("events").Count(&n[0]).Error)
		require.NoError(t, e.db.Table("messages").Count(&n[1]).Error)
		return n
	}
	before := count()

	// A visitor cannot signal in another customer's conversation.
	res := other.post("/widget/conversations/"+pid+"/typing", url.Values{"state": {"typing"}, "draft": {"x"}})
	require.Equal(t, http.StatusNotFound, res.StatusCode)

	// The customer types: agents see it, without the draft (preview off).
	res = w.post("/widget/conversations/"+pid+"/typing", url.Values{"state": {"typing"}, "draft": {"my secret draft"}})
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.body)
	_, typing := anaStream.has("#conv-typing[data-typing]")
	require.Contains(t, typing.Text(), "The customer is typing")
	require.Zero(t, typing.Find(".conv-typing-preview").Length())
	require.NotContains(t, anaStream.everything(), "secret draft")

	// An admin turns the preview on (Admin → Conversations); the next
	// signal carries the draft's first 100 characters.
	settings := ada.get("/admin/conversations")
	require.Equal(t, 1, settings.doc.Find(`#typing-preview-form input[name="typing_preview"]:not([checked])`).Length())
	res = ada.post("/admin/conversations/typing-preview", url.Values{"typing_preview": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	require.Equal(t, 1, ada.get("/admin/conversations").doc.Find(`input[name="typing_preview"][checked]`).Length())
	require.Equal(t, 1, w.get("/widget/conversations/"+pid).doc.Find("#w-thread-view[data-typing-preview]").Length())
	time.Sleep(typingEvery + 100*time.Millisecond) // the server passes one typing signal per second per sender
	long := "hello there " + strings.Repeat("x", 200)
	res = w.post("/widget/conversations/"+pid+"/typing", url.Values{"state": {"typing"}, "draft": {long}})
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	_, preview := anaStream.has(".conv-typing-preview")
	require.True(t, strings.HasPrefix(preview.Text(), "hello there "))
	require.Len(t, []rune(preview.Text()), 100)
	res = w.post("/widget/conversations/"+pid+"/typing", url.Values{"state": {"stopped"}})
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	anaStream.waitFor("typing stopped", func(_ sseEvent, d *goquery.Document) bool {
		return d.Find("#conv-typing").Length() == 1 && d.Find("#conv-typing[data-typing]").Length() == 0
	})

	// Staff: a user who may not see the conversation gets 404; the CSRF
	// token is required; a note being written is never announced.
	res = nora.post("/conversations/"+pid+"/typing", url.Values{"state": {"typing"}})
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	res = nora.post("/conversations/"+pid+"/viewing", url.Values{"state": {"viewing"}})
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	res = ana.post("/conversations/"+pid+"/typing", url.Values{"state": {"typing"}, "_csrf": {""}})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	res = ana.post("/conversations/"+pid+"/typing", url.Values{"state": {"typing"}, "kind": {"note"}})
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	res = ana.post("/conversations/"+pid+"/typing", url.Values{"state": {"typing"}, "kind": {"message"}})
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	widget.waitFor("Ana is typing…")
	require.Equal(t, 1, strings.Count(widget.text(), "is typing"), "the note was not announced")
	require.NotContains(t, otherWidget.text(), "typing", "another customer hears nothing")

	// Presence: Ada sees that Ana is viewing; Ana does not list herself.
	res = ana.post("/conversations/"+pid+"/viewing", url.Values{"state": {"viewing"}})
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	_, viewing := adaStream.has("#conv-viewing")
	require.Contains(t, viewing.Text(), "Viewing now: Ana")
	_, self := anaStream.has("#conv-viewing")
	require.Empty(t, strings.TrimSpace(self.Text()))
	res = ana.post("/conversations/"+pid+"/viewing", url.Values{"state": {"left"}})
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	adaStream.waitFor("Ana left", func(_ sseEvent, d *goquery.Document) bool {
		s := d.Find("#conv-viewing")
		return s.Length() == 1 && !strings.Contains(s.Text(), "Ana")
	})

	require.Equal(t, before, count(), "typing and presence write no row")

	// Seen: Ana replies, the customer's widget reports it read, Ana's
	// thread marks it live.
	res = ana.post("/conversations/"+pid+"/messages", url.Values{"kind": {"message"}, "body": {"On it"}})
	require.Less(t, res.StatusCode, 400, res.body)
	var last int64
	require.NoError(t, e.db.Table("messages").Select("max(id)").Scan(&last).Error)
	res = w.post("/widget/conversations/"+pid+"/read", url.Values{"up_to": {strconv.FormatInt(last, 10)}})
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	_, seen := anaStream.has("#conv-seen")
	require.Equal(t, strconv.FormatInt(last, 10), seen.AttrOr("data-upto", ""))
	require.Equal(t, strconv.FormatInt(last, 10), ana.get("/conversations/"+pid).doc.Find("#conv-seen").AttrOr("data-upto", ""))
}
