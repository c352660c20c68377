package app

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// Customer data is for support staff only: a task linked to a customer's
// conversation names that customer in its history for support agents, and
// never for an agent without the flag, neither on the page nor in the live
// update of the page.
func TestTaskHistoryHidesCustomerFromNonSupport(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sue", "sue@example.com", models.RoleAgent, true)
	e.user("Nat", "nat@example.com", models.RoleAgent, false)
	_, conv := e.customerConversation("Zelda Customer", "Broken zip")
	sue, nat := e.browser(), e.browser()
	sue.login("sue@example.com")
	nat.login("nat@example.com")
	require.Equal(t, http.StatusSeeOther, sue.post("/tasks", url.Values{"conversation": {conv.PublicID}, "title": {"Fix the zip"}}).StatusCode)

	res := sue.get("/tasks/1")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.text("#item-activity"), "Sue linked a conversation with Zelda Customer")

	page := nat.get("/tasks/1")
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, page.text("#item-activity"), "Sue linked a customer's conversation")
	assert.NotContains(t, page.body, "Zelda")

	stream := nat.streamFor(page)
	sueStream := sue.streamFor(sue.get("/tasks/1"))
	sue.post("/tasks/1/update", url.Values{"field": {"status"}, "value": {"in_progress"}}, "HX-Request", "true", "HX-Target", "item-details")
	ev, act := stream.has(`#item-activity[hx-swap-oob]`)
	assert.Contains(t, act.Text(), "Sue linked a customer's conversation")
	assert.NotContains(t, ev.data, "Zelda")
	_, act = sueStream.has(`#item-activity[hx-swap-oob]`)
	assert.Contains(t, act.Text(), "Sue linked a conversation with Zelda Customer")

	// Unlinking is told the same way.
	require.Equal(t, http.StatusNoContent, sue.post("/conversations/"+conv.PublicID+"/item/unlink", url.Values{"item": {"K-1"}}, "HX-Request", "true").StatusCode)
	page = nat.get("/tasks/1")
	assert.Contains(t, page.text("#item-activity"), "Sue unlinked a customer's conversation")
	assert.NotContains(t, page.body, "Zelda")
	assert.Contains(t, sue.get("/tasks/1").text("#item-activity"), "Sue unlinked a conversation with Zelda Customer")
}

// A task linked to a teammate chat says so in its history (there is no
// customer to name), rather than "linked a conversation with" and nothing.
func TestTaskLinkedToTeammateChatWording(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ana", "ana@example.com", models.RoleAgent, false)
	ben := e.user("Ben", "ben@example.com", models.RoleAgent, true)
	ana := e.browser()
	ana.login("ana@example.com")
	res := ana.post("/mine", url.Values{"members": {fmt.Sprint(ben.ID)}, "body": {"Can you cover my shift?"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	pid := strings.TrimSuffix(strings.TrimPrefix(res.Header.Get("Location"), "/conversations/"), "?list=mine")

	require.Equal(t, http.StatusSeeOther, ana.post("/tasks", url.Values{"conversation": {pid}, "title": {"Shift swap"}}).StatusCode)
	res = ana.get("/tasks/1")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.text("#item-activity"), "Ana linked a teammate chat")
	require.Equal(t, http.StatusNoContent, ana.post("/conversations/"+pid+"/item/unlink", url.Values{"item": {"K-1"}}, "HX-Request", "true").StatusCode)
	assert.Contains(t, ana.get("/tasks/1").text("#item-activity"), "Ana unlinked a teammate chat")
}

// Comments on tickets and tasks are staff-only discussion: a comment on a
// ticket made from a customer's conversation reaches neither the customer's
// thread (widget), nor their conversation's messages (transcripts, emails
// read those), nor any event addressed to the conversation (the widget's
// stream); agents who may not see tickets can neither read nor write them;
// bad input is a 422 beside the field.
func TestItemCommentsNeverReachCustomers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sue", "sue@example.com", models.RoleAgent, true)
	e.user("Nat", "nat@example.com", models.RoleAgent, false)
	visitor := e.newVisitor()
	pid := visitor.start("My refund never came")
	sue, nat := e.browser(), e.browser()
	sue.login("sue@example.com")
	nat.login("nat@example.com")
	require.Equal(t, http.StatusSeeOther, sue.post("/tickets", url.Values{"conversation": {pid}, "title": {"Refund"}}).StatusCode)

	const secret = "Fraud suspected, do not refund yet"
	res := sue.post("/tickets/1/comments", url.Values{"body": {secret}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	page := sue.get("/tickets/1")
	assert.Contains(t, page.text("#item-activity .item-comment"), secret)
	assert.Contains(t, page.text("#item-activity .item-comment"), "Sue commented")

	// The customer's side.
	thread := visitor.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, thread.StatusCode)
	assert.NotContains(t, thread.body, "Fraud")
	var leaks int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM messages WHERE body LIKE '%Fraud%' OR event_data::text LIKE '%Fraud%'").Scan(&leaks).Error)
	assert.Zero(t, leaks, "no message, status line or note carries it")
	require.NoError(t, e.db.Raw(`SELECT count(*) FROM events WHERE kind = 'item' AND conversation_id IS NOT NULL AND data ? 'comment_id'`).Scan(&leaks).Error)
	assert.Zero(t, leaks, "no event addressed to the conversation")

	// Staff without tickets: 404 both ways, nothing stored.
	assert.Equal(t, http.StatusNotFound, nat.get("/tickets/1").StatusCode)
	assert.Equal(t, http.StatusNotFound, nat.post("/tickets/1/comments", url.Values{"body": {"hi"}}).StatusCode)

	// Bad input.
	for _, body := range []string{"", "   ", strings.Repeat("x", models.MaxCommentChars+1)} {
		res := sue.post("/tickets/1/comments", url.Values{"body": {body}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.NotEmpty(t, res.text("#e-body"))
	}
	var comments int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM item_activities WHERE field = 'comment'").Scan(&comments).Error)
	assert.EqualValues(t, 1, comments)

	// Tasks are for all staff: Nat comments on one.
	require.Equal(t, http.StatusSeeOther, nat.post("/tasks", url.Values{"title": {"Order stamps"}}).StatusCode)
	require.Equal(t, http.StatusSeeOther, nat.post("/tasks/1/comments", url.Values{"body": {"Done by Friday"}}).StatusCode)
	assert.Contains(t, sue.get("/tasks/1").text("#item-activity"), "Done by Friday")
}
