package app

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func countItems(t *testing.T, e *testEnv) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM items").Scan(&n).Error)
	return n
}

func itemRowRefs(res *response) []string {
	var refs []string
	res.doc.Find("#items tbody tr").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		refs = append(refs, strings.TrimPrefix(id, "item-"))
	})
	return refs
}

// From a conversation: the form comes filled in; every bad input is a 422
// beside its field with nothing stored; saving links the conversation and
// shows the item in its side panel; the details edit in place; the list
// filters find it; its page shows it all.
func TestItemCreateFromConversationHTTP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue Support", "sue@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("sue@example.com")
	_, conv := e.customerConversation("Ann Customer", "My parcel never arrived")
	b.post("/conversations/"+conv.PublicID+"/assign", url.Values{"assignee_id": {fmt.Sprint(sue.ID)}})

	// The conversation's panel offers to create or link.
	res := b.get("/conversations/" + conv.PublicID)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "/tickets/new?conversation="+conv.PublicID, res.doc.Find("#conv-item #create-ticket").AttrOr("href", ""))

	res = b.get("/tickets/new?conversation=" + conv.PublicID)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "My parcel never arrived", res.doc.Find("#f-title").AttrOr("value", ""))
	assert.Contains(t, res.text("#f-description"), "Ann Customer")
	assert.Contains(t, res.text("#f-description"), "My parcel never arrived")
	assert.Equal(t, fmt.Sprint(sue.ID), res.doc.Find("#f-assignee option[selected]").AttrOr("value", ""))
	assert.Equal(t, conv.PublicID, res.doc.Find(`input[name="conversation"]`).AttrOr("value", ""))

	form := func(kv ...string) url.Values {
		v := url.Values{"conversation": {conv.PublicID}, "title": {"Lost parcel"}, "priority": {"high"},
			"description": {res.text("#f-description")}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	bad := []struct {
		name, field string
		values      url.Values
	}{
		{"empty title", "title", form("title", "  ")},
		{"long title", "title", form("title", strings.Repeat("x", 201))},
		{"unknown assignee", "assignee", form("assignee", "987654")},
		{"bad due date", "due", form("due", "2026-13-01")},
		{"unknown team", "team", form("team", "987654")},
	}
	for _, tc := range bad {
		res := b.post("/tickets", tc.values)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.name)
		assert.NotEmpty(t, res.text("#e-"+tc.field), tc.name)
		assert.Equal(t, tc.values.Get("title"), res.doc.Find("#f-title").AttrOr("value", ""), "typed values come back")
	}
	assert.Zero(t, countItems(t, e), "nothing stored")

	res = b.post("/tickets", form("title", "Lost parcel (edited)", "assignee", fmt.Sprint(sue.ID), "due", "2026-12-24"))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	assert.Equal(t, "/conversations/"+conv.PublicID, res.Header.Get("Location"))
	res = b.get("/conversations/" + conv.PublicID)
	assert.Equal(t, "T-1", res.text("#item-panel-link-t-1"))
	assert.Equal(t, "/tickets/1", res.doc.Find("#item-panel-link-t-1").AttrOr("href", ""))
	assert.Equal(t, "new", res.doc.Find("#item-f-status-t-1 option[selected]").AttrOr("value", ""))
	assert.Equal(t, "2026-12-24", res.doc.Find("#item-f-due-t-1").AttrOr("value", ""))
	assert.Contains(t, res.text("#messages .msg-system:last-child"), "linked this conversation to T-1")
	assert.Equal(t, 1, res.doc.Find("#conv-item #create-task").Length(), "another item can be made from it")

	// In place: htmx gets the details back; a bad value is a 422 beside it.
	hx := []string{"HX-Request", "true", "HX-Target", "item-details"}
	res = b.post("/tickets/1/update", url.Values{"field": {"status"}, "value": {"resolved"}}, hx...)
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Equal(t, "resolved", res.doc.Find("#item-details #item-f-status option[selected]").AttrOr("value", ""))
	res = b.post("/tickets/1/update", url.Values{"field": {"due"}, "value": {"24/12/2026"}}, hx...)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.text("#item-details #e-due"))
	assert.Equal(t, "24/12/2026", res.doc.Find("#item-f-due").AttrOr("value", ""))
	res = b.post("/tickets/1/update", url.Values{"field": {"status"}, "value": {"done"}}, hx...)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "tasks' statuses are not tickets'")
	// Without JavaScript the form posts and comes back.
	res = b.post("/tickets/1/update", url.Values{"field": {"priority"}, "value": {"urgent"}}, "Referer", e.srv.URL+"/tickets/1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	// Lists and their filters.
	assert.Equal(t, []string{"T-1"}, itemRowRefs(b.get("/tickets?status=resolved")))
	assert.Empty(t, itemRowRefs(b.get("/tickets?status=new")))
	assert.Equal(t, []string{"T-1"}, itemRowRefs(b.get("/tickets?mine=1&priority=urgent&assignee="+fmt.Sprint(sue.ID))))
	assert.Empty(t, itemRowRefs(b.get("/tickets?status=open_ones")))
	assert.Empty(t, itemRowRefs(b.get("/tasks")), "tasks are another list")
	assert.Equal(t, http.StatusBadRequest, b.get("/tickets?after=nonsense").StatusCode)
	res = b.get("/tickets?status=resolved")
	assert.Equal(t, "resolved", res.doc.Find("#flt-status option[selected]").AttrOr("value", ""), "the form shows the filter")

	// The page: description, history, conversations.
	res = b.get("/tickets/1")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "T-1 Lost parcel (edited)", res.text("#item-heading"))
	assert.Contains(t, res.text("#item-description"), "My parcel never arrived")
	assert.Equal(t, 1, res.doc.Find(`#item-conversations a[href="/conversations/`+conv.PublicID+`"]`).Length())
	assert.Contains(t, res.text("#item-activity"), "Sue Support changed the status from New to Resolved")
	assert.Contains(t, res.text("#item-activity"), "Sue Support changed the priority from High to Urgent")
	assert.Equal(t, http.StatusNotFound, b.get("/tickets/2").StatusCode)
	assert.Equal(t, http.StatusNotFound, b.get("/tickets/abc").StatusCode)
	assert.Equal(t, http.StatusNotFound, b.get("/tasks/1").StatusCode, "T-1 is not K-1")

	// Editing the title: a bad one comes back with the page and its message.
	res = b.post("/tickets/1/update", url.Values{"field": {"title"}, "value": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.text("#e-title"))
	res = b.post("/tickets/1/update", url.Values{"field": {"title"}, "value": {"Parcel lost by carrier"}}, "Referer", e.srv.URL+"/tickets/1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "T-1 Parcel lost by carrier", b.get("/tickets/1").text("#item-heading"))

	// The same conversation makes a second item, its form filled in too;
	// the panel shows both.
	res = b.get("/tasks/new?conversation=" + conv.PublicID)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "My parcel never arrived", res.doc.Find("#f-title").AttrOr("value", ""))
	res = b.post("/tasks", form("title", "Another"))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	assert.Equal(t, int64(2), countItems(t, e))
	res = b.get("/conversations/" + conv.PublicID)
	assert.Equal(t, []string{"T-1", "K-1"}, res.doc.Find("#conv-item .item-panel-link").Map(func(_ int, s *goquery.Selection) string { return s.Text() }))
	assert.Equal(t, "Another", res.text("#conv-item-k-1 .item-panel-title"))
}

// Linking from the side panel: search by title or number, link, see both
// conversations on the item; bad links are refused with nothing stored.
func TestItemLinkAndSearchHTTP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sue", "sue@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("sue@example.com")
	_, c1 := e.customerConversation("Ann", "Refund please")
	_, c2 := e.customerConversation("Bob", "Me too, refund")
	_, c3 := e.customerConversation("Cy", "Other")
	res := b.post("/tickets", url.Values{"conversation": {c1.PublicID}, "title": {"Refunds for the June sale"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)

	res = b.get("/conversations/"+c2.PublicID+"/item-search?item=june", "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "T-1", res.doc.Find(".item-result").AttrOr("data-ref", ""))
	res = b.get("/conversations/"+c2.PublicID+"/item-search?item=T-1", "HX-Request", "true")
	assert.Equal(t, 1, res.doc.Find(".item-result").Length())
	res = b.get("/conversations/"+c2.PublicID+"/item-search?item=nothing+like+it", "HX-Request", "true")
	assert.Zero(t, res.doc.Find(".item-result").Length())
	assert.NotEmpty(t, res.text("p"))

	res = b.post("/conversations/"+c2.PublicID+"/item", url.Values{"item": {"t-1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	res = b.get("/tickets/1")
	assert.Equal(t, 2, res.doc.Find("#item-conversations .item-conv").Length())

	// Bad links.
	res = b.post("/conversations/"+c3.PublicID+"/item", url.Values{"item": {"T-99"}}, "HX-Request", "true")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.Header.Get("HX-Trigger"), "no such ticket")
	res = b.post("/conversations/"+c3.PublicID+"/item", url.Values{"item": {"garbage"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res = b.post("/conversations/"+c2.PublicID+"/item", url.Values{"item": {"T-1"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "already linked")
	var linked int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM conversation_items").Scan(&linked).Error)
	assert.Equal(t, int64(2), linked)

	// Unlink.
	res = b.post("/conversations/"+c2.PublicID+"/item/unlink", url.Values{"item": {"T-1"}}, "HX-Request", "true")
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	res = b.get("/tickets/1")
	assert.Equal(t, 1, res.doc.Find("#item-conversations .item-conv").Length())
	assert.Contains(t, res.text("#item-activity"), "unlinked a conversation with Bob")
}

// Tickets involve customers: agents without the support flag get 404s for
// every ticket route and no Tickets link; tasks are theirs too.
func TestTicketsNeedTheSupportFlagHTTP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(t.Context(), tx, sue, models.ItemInput{Kind: models.ItemTicket, Title: "Customer trouble"})
	})
	require.NoError(t, err)
	pat := e.browser()
	pat.login("pat@example.com")
	for _, path := range []string{"/tickets", "/tickets/new", "/tickets/1"} {
		assert.Equal(t, http.StatusNotFound, pat.get(path).StatusCode, path)
	}
	assert.Equal(t, http.StatusNotFound, pat.post("/tickets", url.Values{"title": {"x"}}).StatusCode)
	assert.Equal(t, http.StatusNotFound, pat.post("/tickets/1/update", url.Values{"field": {"status"}, "value": {"closed"}}).StatusCode)
	assert.Equal(t, http.StatusNotFound, pat.post("/tickets/1/follow", url.Values{"follow": {"true"}}).StatusCode)
	assert.Zero(t, countItems(t, e)-1)

	res := pat.get("/tasks")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Zero(t, res.doc.Find("#nav-tickets").Length())
	assert.Equal(t, 1, res.doc.Find("#nav-tasks").Length())
	res = pat.post("/tasks", url.Values{"title": {"Update the FAQ"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	assert.Equal(t, "/tasks/1", res.Header.Get("Location"))
	assert.Equal(t, http.StatusOK, pat.get("/tasks/1").StatusCode)
}

// Every state-changing item route needs the CSRF token.
func TestItemRoutesNeedCSRF(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Ann", "hi")
	_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(t.Context(), tx, sue, models.ItemInput{Kind: models.ItemTask, Title: "Task"})
	})
	require.NoError(t, err)
	b := e.browser()
	b.login("sue@example.com")
	for _, path := range []string{"/tickets", "/tasks/1/update", "/tasks/1/follow", "/conversations/" + conv.PublicID + "/item", "/conversations/" + conv.PublicID + "/item/unlink"} {
		res := b.post(path, url.Values{"_csrf": {"forged"}, "title": {"x"}, "field": {"title"}, "value": {"x"}, "item": {"K-1"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode, path)
	}
	assert.Equal(t, int64(1), countItems(t, e))
}

// Titles are user text: escaped on every page that shows them.
func TestItemTitlesAreEscaped(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sue", "sue@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("sue@example.com")
	_, conv := e.customerConversation("Ann", "hello")
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	res := b.post("/tickets", url.Values{"conversation": {conv.PublicID}, "title": {evil}, "description": {evil}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	for _, path := range []string{"/tickets", "/tickets/1", "/conversations/" + conv.PublicID} {
		res := b.get(path)
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		assert.NotContains(t, res.body, "<script>alert", path)
		assert.NotContains(t, res.body, "<img src=x", path)
		assert.Contains(t, res.body, "&lt;script&gt;alert(1)&lt;/script&gt;", path)
	}
	res = b.get("/conversations/"+conv.PublicID+"/item-search?item=script", "HX-Request", "true")
	assert.NotContains(t, res.body, "<script>alert")
	assert.Equal(t, 1, res.doc.Find(".item-result").Length())
}

// A customer never sees an item's internals: not its title, priority,
// assignee, team, notes or staff-only lines, neither in the thread nor in
// the live stream; only "your request is now T-1" and its resolution.
func TestWidgetNeverSeesItemInternals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sue", "sue@example.com", models.RoleAgent, true)
	hidden := e.user("Max Hiddenassignee", "max@example.com", models.RoleAgent, true)
	team, err := models.CreateTeam(t.Context(), e.db, "Tier2Hidden")
	require.NoError(t, err)
	w := e.newVisitor()
	pid := w.start("Where is my order?")
	stream := w.stream(t, e.horizon(), pid)
	b := e.browser()
	b.login("sue@example.com")
	res := b.post("/tickets", url.Values{"conversation": {pid}, "title": {"VIPSECRET churn risk"}, "description": {"internal analysis"},
		"priority": {"urgent"}, "assignee": {fmt.Sprint(hidden.ID)}, "team": {fmt.Sprint(team.ID)}, "due": {"2026-12-24"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	hx := []string{"HX-Request", "true", "HX-Target", "item-details"}
	for _, ch := range [][2]string{{"priority", "low"}, {"status", "in_progress"}, {"due", "2027-01-02"}, {"team", ""}, {"status", "resolved"}} {
		res := b.post("/tickets/1/update", url.Values{"field": {ch[0]}, "value": {ch[1]}}, hx...)
		require.Equal(t, http.StatusOK, res.StatusCode, ch[0])
	}
	require.Equal(t, http.StatusOK, b.post("/conversations/"+pid+"/messages", url.Values{"kind": {"note"}, "body": {"NOTESECRET"}}, "HX-Request", "true").StatusCode)
	require.Equal(t, http.StatusOK, b.post("/conversations/"+pid+"/messages", url.Values{"body": {"All sorted now"}}, "HX-Request", "true").StatusCode)

	live := stream.waitFor("All sorted now")
	thread := w.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, thread.StatusCode)
	for where, text := range map[string]string{"stream": live, "thread": thread.body} {
		assert.Contains(t, text, "Your request is now T-1.", where)
		assert.Contains(t, text, "Your request T-1 has been resolved.", where)
		for _, secret := range []string{"VIPSECRET", "internal analysis", "Urgent", "urgent", "Tier2Hidden", "Hiddenassignee", "NOTESECRET", "2026-12-24", "2027-01-02", "In progress", "/tickets/"} {
			assert.NotContains(t, text, secret, where)
		}
	}
}

// Item changes are live: the open conversation's panel and the item's page
// update for every viewer; following puts the conversation in the
// follower's My conversations as it happens.
func TestItemChangesAreLive(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sue", "sue@example.com", models.RoleAgent, true)
	e.user("Max", "max@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Ann", "Broken zip")
	sue, max := e.browser(), e.browser()
	sue.login("sue@example.com")
	max.login("max@example.com")
	require.Equal(t, http.StatusSeeOther, sue.post("/tickets", url.Values{"conversation": {conv.PublicID}, "title": {"Zip broken"}}).StatusCode)

	convStream := max.streamFor(max.get("/conversations/" + conv.PublicID))
	pageStream := max.streamFor(max.get("/tickets/1"))
	mineStream := max.streamFor(max.get("/mine"))

	sue.post("/tickets/1/update", url.Values{"field": {"status"}, "value": {"waiting"}}, "HX-Request", "true", "HX-Target", "item-details")
	convStream.has(`#conv-item[hx-swap-oob] #item-f-status-t-1 option[value="waiting"][selected]`)
	require.Eventually(t, func() bool {
		return strings.Contains(convStream.everything(), "Sue set T-1 to Waiting on customer")
	}, 10*time.Second, 20*time.Millisecond, "the status line reaches the thread")
	ev, _ := pageStream.has(`#item-details[hx-swap-oob] #item-f-status option[value="waiting"][selected]`)
	assert.Contains(t, ev.doc(t).Find(`#item-activity[hx-swap-oob]`).Text(), "Sue changed the status from New to Waiting on customer")

	// Max follows: the conversation moves into his My conversations.
	res := max.post("/tickets/1/follow", url.Values{"follow": {"true"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "true", res.doc.Find("#item-follow button").AttrOr("aria-pressed", ""))
	mineStream.has(`#row-` + conv.PublicID)
}

// An item assigned to someone since deactivated still shows who it is
// assigned to (the list offers only active people).
func TestItemPanelShowsDeactivatedAssignee(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	max := e.user("Max Gone", "max@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Ann", "hi")
	_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(t.Context(), tx, sue, models.ItemInput{Kind: models.ItemTicket, Title: "Old", Assignee: fmt.Sprint(max.ID), Conversation: conv})
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.DeactivateUser(t.Context(), tx, sue.ID, max.ID) }))
	b := e.browser()
	b.login("sue@example.com")
	for _, path := range []string{"/conversations/" + conv.PublicID, "/tickets/1"} {
		res := b.get(path)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "Max Gone", res.text(`select[id^="item-f-assignee"] option[selected]`), path)
		// Its menu loads the others when used, Max still chosen.
		menu := b.get(res.doc.Find(`select[id^="item-f-assignee"]`).AttrOr("data-options", ""), "HX-Request", "true")
		require.Equal(t, http.StatusOK, menu.StatusCode, path)
		assert.Equal(t, "Max Gone", menu.text("option[selected]"), path)
		assert.Equal(t, "Sue", menu.text(fmt.Sprintf(`option[value="%d"]`, sue.ID)), path)
	}
}

// Lists page by keyset links: Older continues after the last row, Newer
// goes back, the filters stay on both.
func TestItemListPagingLinks(t *testing.T) {
	t.Parallel()
	e := setup(t)
	pat := e.user("Pat", "pat@example.com", models.RoleAgent, false)
	for i := range 60 {
		_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Item, error) {
			return models.CreateItem(t.Context(), tx, pat, models.ItemInput{Kind: models.ItemTask, Title: fmt.Sprintf("Task %d", i+1), Priority: models.PriorityHigh})
		})
		require.NoError(t, err)
	}
	b := e.browser()
	b.login("pat@example.com")
	first := b.get("/tasks?priority=high&sort=number")
	require.Equal(t, http.StatusOK, first.StatusCode)
	refs := itemRowRefs(first)
	require.Len(t, refs, 50)
	assert.Equal(t, "K-60", refs[0])
	assert.Zero(t, first.doc.Find("#items-newer").Length())
	older := first.doc.Find("#items-older").AttrOr("href", "")
	assert.Contains(t, older, "priority=high")
	second := b.get(older)
	refs = itemRowRefs(second)
	require.Len(t, refs, 10)
	assert.Equal(t, "K-10", refs[0])
	assert.Zero(t, second.doc.Find("#items-older").Length())
	back := b.get(second.doc.Find("#items-newer").AttrOr("href", ""))
	refs = itemRowRefs(back)
	require.Len(t, refs, 50)
	assert.Equal(t, "K-60", refs[0])
	assert.Equal(t, "K-11", refs[49])
}
