package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// fillThread adds n messages to conv in one transaction, "<prefix> <i>",
// every third one an agent's note (which customers never see).
func (e *testEnv) fillThread(conv *models.Conversation, cust *models.Customer, agent *models.User, prefix string, n int) {
	e.t.Helper()
	ctx := context.Background()
	require.NoError(e.t, factory.Write(e.db, func(tx models.Tx) error {
		for i := 1; i <= n; i++ {
			actor, kind := models.Actor{Customer: cust}, models.MessageText
			switch i % 3 {
			case 1:
				actor = models.Actor{User: agent}
			case 2:
				actor, kind = models.Actor{User: agent}, models.MessageNote
			}
			if _, err := models.PostMessage(ctx, tx, actor, conv, kind, fmt.Sprintf("%s %d", prefix, i)); err != nil {
				return err
			}
		}
		return nil
	}))
}

// threadBodies lists the message texts of a page or fragment, in order.
func threadBodies(doc *goquery.Document, sel string) []string {
	var out []string
	doc.Find(sel).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

func TestDeskThreadLoadsEarlierMessages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	cust, conv := e.customerConversation("Carla", "first question")
	b := e.browser()
	b.login("sue@example.com")

	// A short thread has no link.
	res := b.get("/conversations/" + conv.PublicID)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Zero(t, res.doc.Find("#load-earlier").Length())

	e.fillThread(conv, cust, sue, "msg", 120) // 121 messages with the first
	res = b.get("/conversations/" + conv.PublicID)
	require.Equal(t, http.StatusOK, res.StatusCode)
	bodies := threadBodies(res.doc, "#messages .msg-body")
	require.Len(t, bodies, models.MessageLimit)
	assert.Equal(t, "msg 120", bodies[len(bodies)-1], "the newest page")
	link := res.doc.Find("#messages > #load-earlier")
	require.Equal(t, 1, link.Length(), "older messages exist")
	assert.Zero(t, res.doc.Find("#messages > #load-earlier").PrevAll().Length(), "the link heads the thread")
	href, _ := link.Attr("href")
	hxGet, _ := link.Attr("hx-get")
	assert.Equal(t, href, hxGet)
	assert.Contains(t, link.AttrOr("hx-trigger", ""), "intersect")

	// Without JavaScript the link is a page: the earlier messages, and a way back.
	res = b.get(href)
	require.Equal(t, http.StatusOK, res.StatusCode)
	bodies = threadBodies(res.doc, "#messages .msg-body")
	require.Len(t, bodies, models.MessageLimit)
	assert.Equal(t, "msg 70", bodies[len(bodies)-1])
	assert.Equal(t, 1, res.doc.Find(`.thread-newest a[href="/conversations/`+conv.PublicID+`"]`).Length())

	// htmx gets the page alone, to put in the link's place, notes included
	// for staff; the last page has no link.
	var all []string
	next := hxGet
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 5)
		res = b.get(next, "HX-Request", "true")
		require.Equal(t, http.StatusOK, res.StatusCode, res.body)
		assert.Zero(t, res.doc.Find(".shell, #messages").Length(), "a fragment")
		all = append(threadBodies(res.doc, ".msg-body"), all...)
		next = res.doc.Find("#load-earlier").AttrOr("hx-get", "")
	}
	require.Len(t, all, 121-models.MessageLimit)
	assert.Equal(t, "first question", all[0])
	assert.Equal(t, "msg 2", all[2], "staff see notes")
	assert.Equal(t, "msg 70", all[len(all)-1], "up to the newest page, each once")
	seen := map[string]bool{}
	for _, body := range all {
		assert.False(t, seen[body], "twice: %s", body)
		seen[body] = true
	}

	// Bad cursors are 400; a conversation the user may not see is 404.
	assert.Equal(t, http.StatusBadRequest, b.get("/conversations/"+conv.PublicID+"?before=x", "HX-Request", "true").StatusCode)
	assert.Equal(t, http.StatusBadRequest, b.get("/conversations/"+conv.PublicID+"?before=-3").StatusCode)
	pat := e.browser()
	pat.login("pat@example.com")
	assert.Equal(t, http.StatusNotFound, pat.get(hxGet, "HX-Request", "true").StatusCode)
	assert.Equal(t, http.StatusNotFound, pat.get(href).StatusCode)
}

func TestWidgetThreadLoadsEarlierMessages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	pid := w.start("first question")
	cust := w.visitor().Customer
	conv, err := models.FindConversationForCustomer(context.Background(), e.db, cust.ID, pid)
	require.NoError(t, err)

	res := w.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Zero(t, res.doc.Find("#w-earlier").Length(), "a short thread has no button")

	e.fillThread(conv, cust, sue, "msg", 180) // 60 notes, 121 public messages with the first
	res = w.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, res.StatusCode)
	bodies := threadBodies(res.doc, "#w-thread .w-msg-body")
	require.Len(t, bodies, models.MessageLimit)
	assert.Equal(t, "msg 180", bodies[len(bodies)-1])
	assert.NotContains(t, res.body, "msg 179", "no note")
	next := res.doc.Find("#w-thread > #w-earlier").AttrOr("hx-get", "")
	require.NotEmpty(t, next)

	var all []string
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 5)
		res = w.get(next)
		require.Equal(t, http.StatusOK, res.StatusCode, res.body)
		all = append(threadBodies(res.doc, ".w-msg-body"), all...)
		for _, body := range threadBodies(res.doc, ".w-msg-body") {
			var i int
			if _, err := fmt.Sscanf(body, "msg %d", &i); err == nil {
				assert.NotEqual(t, 2, i%3, "a note reached the customer: %s", body)
			}
		}
		next = res.doc.Find("#w-earlier").AttrOr("hx-get", "")
	}
	require.Len(t, all, 121-models.MessageLimit)
	assert.Equal(t, "first question", all[0])
	assert.Equal(t, "msg 1", all[1])
	assert.Equal(t, "msg 3", all[2])

	// Another visitor's request for the same page is 404; a bad cursor 400.
	other := e.newVisitor()
	other.start("mine")
	assert.Equal(t, http.StatusNotFound, other.get("/widget/conversations/"+pid+"?before=999999").StatusCode)
	assert.Equal(t, http.StatusBadRequest, w.get("/widget/conversations/"+pid+"?before=abc").StatusCode)
}
