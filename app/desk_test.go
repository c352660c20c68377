package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func rowIDs(res *response) []string {
	var ids []string
	res.doc.Find("#inbox-rows > .inbox-row").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		ids = append(ids, strings.TrimPrefix(id, "row-"))
	})
	return ids
}

func countMessages(t *testing.T, e *testEnv) int64 {
	var n int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM messages").Scan(&n).Error)
	return n
}

func TestDeskHomeSendsAgentsToTheirSection(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sue", "sue@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	sue, pat := e.browser(), e.browser()
	sue.login("sue@example.com")
	pat.login("pat@example.com")
	assert.Equal(t, "/inbox", sue.get("/").Header.Get("Location"))
	assert.Equal(t, "/mine", pat.get("/").Header.Get("Location"))

	// The navigation: Inbox only with the support flag.
	res := sue.get("/inbox")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 1, res.doc.Find(`.nav a[href="/inbox"] #nav-unread-customers`).Length())
	assert.Equal(t, 1, res.doc.Find(`.nav a[href="/mine"] #nav-unread-mine`).Length())
	res = pat.get("/mine")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Zero(t, res.doc.Find(`a[href="/inbox"]`).Length())
	assert.Equal(t, "No open conversations", res.text(".inbox-empty strong"), "empty state")
}

// An agent without the customer-support flag never sees a customer
// conversation: not in the inbox, not in My conversations (even one they
// wrote in before losing the flag), not by its address, not in their stream.
func TestDeskCustomerConversationsNeedTheSupportFlag(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ada := e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	pat := e.user("Pat", "pat@example.com", models.RoleAgent, true)
	cust, conv := e.customerConversation("Carla Customer", "my secret order 4711")
	_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: pat}, conv, models.MessageText, "Pat was here")
	})
	require.NoError(t, err)
	// Pat loses the flag: they wrote in the conversation, but may no longer see it.
	_, err = factory.Write1(e.db, func(tx models.Tx) (*models.User, error) {
		return models.UpdateUser(ctx, tx, pat.ID, models.UserInput{Name: "Pat", Email: "pat@example.com", Role: models.RoleAgent})
	})
	require.NoError(t, err)
	team, _, err := factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, ada, []int64{pat.ID}, "team chat")
	})
	require.NoError(t, err)

	b := e.browser()
	b.login("pat@example.com")
	res := b.get("/inbox")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	for _, status := range []string{"open", "closed"} {
		res = b.get("/mine?status=" + status)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.NotContains(t, res.body, conv.PublicID)
		assert.NotContains(t, res.body, "Carla")
	}
	res = b.get("/mine")
	assert.Equal(t, []string{team.PublicID}, rowIDs(res))
	for _, p := range []string{"", "/messages", "/status", "/assign", "/read", "/follow"} {
		var r *response
		if p == "" {
			r = b.get("/conversations/" + conv.PublicID)
		} else {
			r = b.post("/conversations/"+conv.PublicID+p, url.Values{"body": {"hi"}, "status": {"closed"}})
		}
		assert.Equal(t, http.StatusNotFound, r.StatusCode, p)
	}
	assert.Equal(t, http.StatusNotFound, b.get("/conversations/not-a-uuid").StatusCode)

	// The stream: a customer message, then a teammate message. The teammate
	// message arrives; nothing about the customer conversation came first.
	s := b.streamFor(res)
	e.customerSays(cust, conv, "customer marker 81723")
	_, _, err = factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "another customer marker", models.SessionInfo{})
	})
	require.NoError(t, err)
	e.app.rt.Ring()
	_, err = factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: ada}, team, models.MessageText, "teammate marker 55120")
	})
	require.NoError(t, err)
	e.app.rt.Ring()
	s.waitFor("the teammate message", func(ev sseEvent, _ *goquery.Document) bool {
		return strings.Contains(ev.data, "row-"+team.PublicID)
	})
	all := s.everything()
	for _, secret := range []string{conv.PublicID, "marker 81723", "another customer marker", "Carla", "desk-alert", "nav-unread-customers"} {
		assert.NotContains(t, all, secret)
	}
}

func TestDeskInboxTabsFiltersAndRows(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	me := e.user("Mia", "mia@example.com", models.RoleAgent, true)
	other := e.user("Olaf", "olaf@example.com", models.RoleAgent, true)
	_, unassigned := e.customerConversation("Una", "unassigned question")
	_, mine := e.customerConversation("Mo", "for me")
	_, theirs := e.customerConversation("Theo", "for Olaf")
	_, closed := e.customerConversation("Cleo", "done")
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, me, mine, &me.ID) }))
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, me, theirs, &other.ID) }))
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, me, closed, models.StatusClosed) }))
	_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: other}, unassigned, models.MessageText, "newest activity")
	})
	require.NoError(t, err)

	b := e.browser()
	b.login("mia@example.com")
	cases := []struct {
		path string
		want []string
	}{
		{"/inbox", []string{unassigned.PublicID, theirs.PublicID, mine.PublicID}},
		{"/inbox?filter=unassigned", []string{unassigned.PublicID}},
		{"/inbox?filter=mine", []string{mine.PublicID}},
		{"/inbox?status=closed", []string{closed.PublicID}},
		{"/inbox?status=closed&filter=mine", nil},
		{"/inbox?status=bogus&filter=bogus", []string{unassigned.PublicID, theirs.PublicID, mine.PublicID}},
		{"/mine", []string{mine.PublicID}},
	}
	for _, c := range cases {
		res := b.get(c.path)
		require.Equal(t, http.StatusOK, res.StatusCode, c.path)
		assert.Equal(t, c.want, rowIDs(res), c.path)
	}

	// A row: customer, preview, waiting time, assignee, unread badge.
	res := b.get("/inbox")
	row := res.doc.Find("#row-" + theirs.PublicID)
	assert.Equal(t, "Theo", strings.TrimSpace(row.Find(".row-title").Text()))
	assert.Equal(t, "for Olaf", strings.TrimSpace(row.Find(".row-preview").Text()))
	assert.Contains(t, row.Find(".row-waiting").Text(), "Waiting")
	assert.Equal(t, "Olaf", strings.TrimSpace(row.Find(".row-assignee").Text()))
	assert.Equal(t, "1", strings.TrimSpace(row.Find(".row-unread").Text()))
	assert.True(t, row.HasClass("is-unread"))
	href, _ := row.Attr("href")
	assert.Equal(t, "/conversations/"+theirs.PublicID+"?list=customers", href)
	// The agent replied last: nobody is waiting.
	assert.Zero(t, res.doc.Find("#row-"+unassigned.PublicID+" .row-waiting").Length())
	assert.Equal(t, "true", res.doc.Find(`.tabs a[href="/inbox"]`).AttrOr("aria-current", ""))
	// The tabs keep the filter, the filters keep the tab.
	res = b.get("/inbox?status=closed&filter=mine")
	assert.Equal(t, 1, res.doc.Find(`.tabs a[href="/inbox?filter=mine"]`).Length())
	assert.Equal(t, 1, res.doc.Find(`.filters a[href="/inbox?filter=unassigned&status=closed"]`).Length())
	assert.Equal(t, "No closed conversations", res.text(".inbox-empty strong"))
}

func TestDeskInboxKeysetPaging(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Mia", "mia@example.com", models.RoleAgent, true)
	total := deskPageSize + 3
	var custs []*models.Customer
	var convs []*models.Conversation
	for i := range total {
		cust, conv := e.customerConversation(fmt.Sprintf("Customer %d", i), "hello")
		custs, convs = append(custs, cust), append(convs, conv)
	}
	b := e.browser()
	b.login("mia@example.com")
	res := b.get("/inbox")
	first := rowIDs(res)
	require.Len(t, first, deskPageSize)
	older, ok := res.doc.Find("a.inbox-older").Attr("href")
	require.True(t, ok, "an Older link")
	assert.Equal(t, "Customer 52", res.text("#inbox-rows .inbox-row .row-title"), "newest first")

	res = b.get(older)
	require.Equal(t, http.StatusOK, res.StatusCode)
	second := rowIDs(res)
	require.Len(t, second, 3)
	assert.Zero(t, res.doc.Find("a.inbox-older").Length(), "no page after the last")
	assert.Equal(t, 1, res.doc.Find(`a.inbox-newest[href="/inbox"]`).Length())
	seen := map[string]bool{}
	for _, id := range append(first, second...) {
		require.False(t, seen[id], "a conversation on two pages")
		seen[id] = true
	}
	assert.Equal(t, "Customer 0", strings.TrimSpace(res.doc.Find("#inbox-rows .inbox-row .row-title").Last().Text()))
	// Its stream only refreshes rows in place (paged=1): new activity does
	// not pull rows into an older page.
	src, _ := res.doc.Find("#desk-stream").Attr("sse-connect")
	assert.Contains(t, src, "paged=1")
	s := b.streamFor(res)
	e.customerSays(custs[0], convs[0], "still there?")
	_, row := s.has("[data-refresh-only] #row-" + convs[0].PublicID)
	assert.Equal(t, "still there?", strings.TrimSpace(row.Find(".row-preview").Text()))

	assert.Equal(t, http.StatusBadRequest, b.get("/inbox?before=garbage").StatusCode)
}

func TestDeskPostMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Mia", "mia@example.com", models.RoleAgent, true)
	cust, conv := e.customerConversation("Carla", "hello")
	b := e.browser()
	b.login("mia@example.com")
	page := "/conversations/" + conv.PublicID
	res := b.get(page)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Carla", res.text(".conv-heading h1"))
	before := countMessages(t, e)

	// Empty and too long: 422, the message beside the composer, nothing stored.
	res = b.post(page+"/messages", url.Values{"body": {"  \n "}, "kind": {"message"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Write a message first.", res.text("#composer #e-body"))
	long := strings.Repeat("a", models.MaxMessageLen+1)
	res = b.post(page+"/messages", url.Values{"body": {long}}, "HX-Request", "true")
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Messages can be at most 10000 characters (this one has 10001).", res.text("#e-body"))
	assert.Equal(t, long, res.text("#f-body"), "the text is kept")
	assert.Zero(t, res.doc.Find(".sidebar").Length(), "htmx gets only the composer")
	assert.Equal(t, before, countMessages(t, e))

	// htmx: the composer comes back cleared, in the mode the agent chose.
	res = b.post(page+"/messages", url.Values{"body": {"Internal: carrier says Tuesday"}, "kind": {"note"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Empty(t, res.text("#f-body"))
	_, noteChecked := res.doc.Find(`input[name="kind"][value="note"]`).Attr("checked")
	assert.True(t, noteChecked, "notes stay notes until the agent switches")
	// A plain form goes back to the conversation.
	res = b.post(page+"/messages", url.Values{"body": {"Line one\nLine two"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, before+2, countMessages(t, e))

	// Notes are staff-only: the widget's query never returns them.
	forCustomer, err := models.ListMessages(context.Background(), e.db, conv, true)
	require.NoError(t, err)
	for _, m := range forCustomer {
		assert.NotContains(t, m.Body, "carrier", "the customer never sees a note")
	}
	assert.Len(t, forCustomer, 2)

	res = b.get(page)
	note := res.doc.Find("#messages .msg-note")
	require.Equal(t, 1, note.Length())
	assert.Equal(t, "Note", note.Find(".msg-label").Text())
	assert.Equal(t, "Internal: carrier says Tuesday", note.Find(".msg-body").Text())
	reply := res.doc.Find("#messages .msg-out").Last()
	assert.Equal(t, "Line one\nLine two", reply.Find(".msg-body").Text(), "line breaks are kept")
	assert.Equal(t, 1, res.doc.Find("#messages .msg-in").Length(), "the customer's message on the other side")
	_ = cust
}

func TestDeskStatusChangesAndReopenByCustomer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Mia", "mia@example.com", models.RoleAgent, true)
	cust, conv := e.customerConversation("Carla", "hello")
	b := e.browser()
	b.login("mia@example.com")
	page := "/conversations/" + conv.PublicID

	res := b.post(page+"/status", url.Values{"status": {"closed"}}, "HX-Request", "true")
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	res = b.get(page)
	assert.Equal(t, "Mia closed the conversation", res.text("#messages .msg-system span"))
	assert.Equal(t, "Closed", res.text("#conv-status .badge"))
	assert.Empty(t, rowIDs(b.get("/inbox")), "it left the Open tab")
	assert.Equal(t, []string{conv.PublicID}, rowIDs(b.get("/inbox?status=closed")))
	assert.Equal(t, http.StatusUnprocessableEntity, b.post(page+"/status", url.Values{"status": {"snoozed"}}).StatusCode)

	// The customer writes: open again, with a status line, in the Open tab.
	e.customerSays(cust, conv, "Any news?")
	assert.Equal(t, []string{conv.PublicID}, rowIDs(b.get("/inbox")))
	res = b.get(page)
	lines := res.doc.Find("#messages .msg-system span")
	require.Equal(t, 2, lines.Length())
	assert.Equal(t, "Conversation reopened by the customer's reply", lines.Last().Text())

	// Agents reopen too (the status dropdown is a plain form without JS).
	require.Equal(t, http.StatusSeeOther, b.post(page+"/status", url.Values{"status": {"closed"}}).StatusCode)
	require.Equal(t, http.StatusSeeOther, b.post(page+"/status", url.Values{"status": {"open"}}).StatusCode)
	res = b.get(page)
	assert.Equal(t, "Mia reopened the conversation", strings.TrimSpace(res.doc.Find("#messages .msg-system span").Last().Text()))
	assert.Equal(t, "open", res.doc.Find(`#f-status option[selected]`).AttrOr("value", ""))
}

func TestDeskAssignAndFollow(t *testing.T) {
	t.Parallel()
	e := setup(t)
	mia := e.user("Mia", "mia@example.com", models.RoleAgent, true)
	e.user("Olaf", "olaf@example.com", models.RoleAgent, true)
	pat := e.user("Pat", "pat@example.com", models.RoleAgent, false)
	_, conv := e.customerConversation("Carla", "hello")
	b := e.browser()
	b.login("mia@example.com")
	page := "/conversations/" + conv.PublicID

	res := b.get(page)
	options := func(doc *goquery.Selection) (texts []string) {
		doc.Find("option").Each(func(_ int, s *goquery.Selection) { texts = append(texts, s.Text()) })
		return texts
	}
	assert.Equal(t, []string{"Unassigned"}, options(res.doc.Find("#f-assignee")), "the agents load when the menu is used")
	menu := res.doc.Find("#f-assignee").AttrOr("data-options", "")
	assert.Equal(t, []string{"Unassigned", "Mia", "Olaf"}, options(b.get(menu, "HX-Request", "true").doc.Selection), "support agents only")

	require.Equal(t, http.StatusNoContent, b.post(page+"/assign", url.Values{"assignee_id": {fmt.Sprint(mia.ID)}}, "HX-Request", "true").StatusCode)
	assert.Equal(t, []string{conv.PublicID}, rowIDs(b.get("/inbox?filter=mine")))
	assert.Equal(t, []string{conv.PublicID}, rowIDs(b.get("/mine")))
	res = b.get(page)
	assert.Equal(t, "Mia assigned the conversation to Mia", res.text("#messages .msg-system span"))
	assert.Zero(t, res.doc.Find("#assign-me").Length(), "already mine")

	res = b.post(page+"/assign", url.Values{"assignee_id": {fmt.Sprint(pat.ID)}}, "HX-Request", "true")
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "no support flag, no assignment")
	assert.Contains(t, res.Header.Get("HX-Trigger"), "Choose an active agent with the customer-support flag.")
	require.Equal(t, http.StatusNoContent, b.post(page+"/assign", url.Values{"assignee_id": {""}}, "HX-Request", "true").StatusCode)
	assert.Empty(t, rowIDs(b.get("/inbox?filter=mine")))

	// Olaf follows it: it joins his My conversations.
	olaf := e.browser()
	olaf.login("olaf@example.com")
	assert.Empty(t, rowIDs(olaf.get("/mine")))
	require.Equal(t, http.StatusSeeOther, olaf.post(page+"/follow", url.Values{"follow": {"true"}}).StatusCode)
	assert.Equal(t, []string{conv.PublicID}, rowIDs(olaf.get("/mine")))
	assert.Equal(t, "Unfollow", olaf.get(page).text("#conv-follow button"))
}

func TestDeskUnreadCountsAndClearing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Mia", "mia@example.com", models.RoleAgent, true)
	cust, conv := e.customerConversation("Carla", "hello")
	e.customerSays(cust, conv, "are you there?")
	b := e.browser()
	b.login("mia@example.com")

	res := b.get("/inbox")
	counts := b.unreadCounts()
	assert.Equal(t, "1", counts.text("#nav-unread-customers"))
	_, hidden := counts.doc.Find("#nav-unread-mine").Attr("hidden")
	assert.True(t, hidden, "nothing unread in My conversations")
	assert.Equal(t, "2", res.text("#row-"+conv.PublicID+" .row-unread"))
	assert.Equal(t, "Inbox · Parley", res.text("title"), "desk.js adds the count")
	assert.Equal(t, "1", counts.doc.Find("#desk-unread-total").AttrOr("data-count", ""))
	assert.Equal(t, "/desk/unread", res.doc.Find(`[hx-get="/desk/unread"][hx-trigger="load"]`).AttrOr("hx-get", ""),
		"the page asks for its counts once loaded")

	// Another tab of the same agent hears the read receipt.
	s := b.streamFor(res)
	res = b.get("/conversations/" + conv.PublicID)
	require.Equal(t, http.StatusOK, res.StatusCode)
	_, hidden = b.unreadCounts().doc.Find("#nav-unread-customers").Attr("hidden")
	assert.True(t, hidden, "opening the conversation read it")
	assert.Equal(t, "Carla · Parley", res.text("title"))
	// (The stream may first replay older updates; wait for the read.)
	_, doc := s.waitFor("the read receipt", func(_ sseEvent, d *goquery.Document) bool {
		return d.Find(`#nav-unread-customers[data-count="0"]`).Length() == 1
	})
	assert.False(t, doc.Find("#row-"+conv.PublicID).HasClass("is-unread"))
	assert.Equal(t, "0", doc.Find("#desk-unread-total").AttrOr("data-count", ""))

	// A new message is unread again; POST /read (desk.js while the
	// conversation is visible) clears it.
	e.customerSays(cust, conv, "hello?")
	assert.Equal(t, "1", b.unreadCounts().text("#nav-unread-customers"))
	require.Equal(t, http.StatusNoContent, b.post("/conversations/"+conv.PublicID+"/read", nil, "HX-Request", "true").StatusCode)
	_, hidden = b.unreadCounts().doc.Find("#nav-unread-customers").Attr("hidden")
	assert.True(t, hidden)
}

func TestDeskTeammateChat(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ana", "ana@example.com", models.RoleAgent, false)
	ben := e.user("Ben", "ben@example.com", models.RoleAgent, true)
	e.user("Cy", "cy@example.com", models.RoleAgent, true)
	ana := e.browser()
	ana.login("ana@example.com")

	res := ana.get("/mine/new")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 2, res.doc.Find(`input[name="members"]`).Length(), "everyone but me")
	res = ana.post("/mine", url.Values{"body": {"hi"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Choose at least one teammate.", res.text("#e-members"))
	assert.Equal(t, "hi", res.text("#f-body"))
	res = ana.post("/mine", url.Values{"body": {"hi"}, "members": {"not-a-number"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res = ana.post("/mine", url.Values{"members": {fmt.Sprint(ben.ID)}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Write a message first.", res.text("#e-body"))
	_, picked := res.doc.Find(fmt.Sprintf(`input[name="members"][value="%d"]`, ben.ID)).Attr("checked")
	assert.True(t, picked, "the pick is kept")

	benB := e.browser()
	benB.login("ben@example.com")
	benPage := benB.get("/mine")
	s := benB.streamFor(benPage)

	res = ana.post("/mine", url.Values{"members": {fmt.Sprint(ben.ID)}, "body": {"Can you cover my shift?"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	loc := res.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/conversations/"), loc)
	pid := strings.TrimSuffix(strings.TrimPrefix(loc, "/conversations/"), "?list=mine")

	// Ben: live in My conversations, unread, in the nav.
	ev, row := s.has("[hx-swap-oob='afterbegin:#inbox-rows'] #row-" + pid)
	assert.Equal(t, "Ana", strings.TrimSpace(row.Find(".row-title").Text()))
	assert.Equal(t, "1", strings.TrimSpace(row.Find(".row-unread").Text()))
	assert.Equal(t, "1", ev.doc(t).Find("#nav-unread-mine").Text(), "with the nav badge")

	res = benB.get("/mine")
	assert.Equal(t, []string{pid}, rowIDs(res))
	assert.Equal(t, "1", benB.unreadCounts().text("#nav-unread-mine"))
	assert.Empty(t, rowIDs(benB.get("/inbox")), "never in the customers inbox")
	res = benB.get(loc)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Ana", res.text(".conv-heading h1"))
	assert.Zero(t, res.doc.Find(`input[name="kind"][value="note"]`).Length(), "no notes: there is no customer")
	assert.Zero(t, res.doc.Find("#conv-assignee").Length())
	require.Equal(t, http.StatusSeeOther, benB.post("/conversations/"+pid+"/messages", url.Values{"body": {"Sure"}}).StatusCode)

	// Cy is not a member.
	cy := e.browser()
	cy.login("cy@example.com")
	assert.Equal(t, http.StatusNotFound, cy.get(loc).StatusCode)
	assert.Equal(t, http.StatusNotFound, cy.post("/conversations/"+pid+"/messages", url.Values{"body": {"me too"}}).StatusCode)
	assert.Empty(t, rowIDs(cy.get("/mine")))
	assert.Empty(t, rowIDs(cy.get("/inbox")))

	// And no customer can ever reach it.
	conv, err := models.FindConversationForUser(context.Background(), e.db, ben, pid)
	require.NoError(t, err)
	_, v, err := models.CreateVisitor(context.Background(), e.db)
	require.NoError(t, err)
	_, err = models.FindConversationForCustomer(context.Background(), e.db, v.CustomerID, pid)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(context.Background(), tx, models.Actor{Customer: v.Customer}, conv, models.MessageText, "hi")
	})
	require.ErrorIs(t, err, models.ErrNotFound)
}

func TestDeskOnlineSwitchAndSound(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Mia", "mia@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	mia, pat := e.browser(), e.browser()
	mia.login("mia@example.com")
	pat.login("pat@example.com")
	res := mia.get("/inbox")
	assert.Equal(t, "Desk online", res.text("#desk-online .switch-label"))
	s := mia.streamFor(res)

	// Support agents and admins flip it, once confirmed (htmx sends
	// confirmed=1 after its dialog); htmx gets the new switch back.
	res = mia.post("/desk/status", url.Values{"online": {"false"}, "confirmed": {"1"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Desk offline", res.text("#desk-online .switch-label"))
	settings, err := models.GetSettings(context.Background(), e.db)
	require.NoError(t, err)
	assert.False(t, settings.Online)
	_, sw := s.has("#desk-online")
	assert.Equal(t, "true", sw.AttrOr("hx-swap-oob", ""))
	assert.Equal(t, "Desk offline", strings.TrimSpace(sw.Find(".switch-label").Text()))
	assert.Equal(t, "true", sw.Find(`input[name="online"]`).AttrOr("value", ""), "the next click turns it back on")
	assert.Equal(t, "Desk offline", mia.get("/mine").text("#desk-online .switch-label"))
	res = mia.post("/desk/status", url.Values{"online": {"true"}, "confirmed": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "Desk online", mia.get("/mine").text("#desk-online .switch-label"))

	// The chime: everyone can mute it (notifications chime for teammate
	// chats too).
	assert.Equal(t, "Sound on", mia.get("/inbox").text("#desk-sound button"))
	assert.Equal(t, "Sound on", pat.get("/mine").text("#desk-sound button"))
	res = mia.post("/account/sound", url.Values{"on": {"false"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "false", res.doc.Find("#desk-sound").AttrOr("data-sound", ""))
	assert.Equal(t, "Sound off", mia.get("/inbox").text("#desk-sound button"))
}

// The stream for a support agent with a list and a conversation open:
// alerts, rows moving between tabs, messages, notes, status controls.
func TestDeskStreamUpdates(t *testing.T) {
	t.Parallel()
	e := setup(t)
	mia := e.user("Mia", "mia@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("mia@example.com")
	inbox := b.stream(fmt.Sprintf("/desk/events?view=inbox&status=open&filter=all&since=%d", e.app.rt.Cursor()))
	closedTab := b.streamFor(b.get("/inbox?status=closed"))

	cust, conv := e.customerConversation("Carla", "first message")
	// One update for the new conversation: alert, row, counts.
	ev, alert := inbox.has("#alert-" + conv.PublicID)
	assert.Equal(t, "beforeend:#toasts", alert.Parent().AttrOr("hx-swap-oob", ""))
	assert.Contains(t, alert.Text(), "New conversation from Carla")
	assert.Equal(t, "true", alert.AttrOr("data-sound", ""))
	doc := ev.doc(t)
	row := doc.Find("[hx-swap-oob='afterbegin:#inbox-rows'] #row-" + conv.PublicID)
	require.Equal(t, 1, row.Length())
	assert.True(t, row.HasClass("is-unread"))
	assert.NotEmpty(t, row.AttrOr("data-sort", ""), "desk.js sorts it into place")
	assert.Equal(t, "1", doc.Find("#nav-unread-customers").Text())
	assert.Equal(t, "1", doc.Find("#desk-unread-total").AttrOr("data-count", ""))

	page := b.get("/conversations/" + conv.PublicID)
	thread := b.streamFor(page)
	src, _ := page.doc.Find("#desk-stream").Attr("sse-connect")
	assert.Contains(t, src, "view=conversation")
	assert.Contains(t, src, "c="+conv.PublicID)

	// Messages and notes reach the open thread; status lines too, translated.
	require.Equal(t, http.StatusOK, b.post("/conversations/"+conv.PublicID+"/messages", url.Values{"body": {"a note"}, "kind": {"note"}}, "HX-Request", "true").StatusCode)
	_, note := thread.has("[hx-swap-oob='beforeend:#messages'] .msg-note")
	assert.Equal(t, "a note", note.Find(".msg-body").Text())
	_, hasOther := note.Attr("data-from-other")
	assert.False(t, hasOther, "my own note")
	e.customerSays(cust, conv, "second message")
	_, msg := thread.has("[hx-swap-oob='beforeend:#messages'] .msg-in")
	assert.Equal(t, "second message", msg.Find(".msg-body").Text())
	_, hasOther = msg.Attr("data-from-other")
	assert.True(t, hasOther, "desk.js marks it read")

	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.SetStatus(context.Background(), tx, mia, conv, models.StatusClosed)
	}))
	e.app.rt.Ring()
	ev, _ = thread.has("#conv-status[hx-swap-oob]")
	doc = ev.doc(t)
	assert.Equal(t, "Closed", strings.TrimSpace(doc.Find("#conv-status .badge").Text()))
	assert.Equal(t, "closed", doc.Find("#conv-status-select option[selected]").AttrOr("value", ""))
	line := doc.Find("[hx-swap-oob='beforeend:#messages'] .msg-system")
	assert.Equal(t, "Mia closed the conversation", strings.TrimSpace(line.Find("span").Text()), "the status line comes with it")
	// It leaves the Open tab and arrives in the Closed one.
	inbox.has(fmt.Sprintf("[hx-swap-oob='afterbegin:#inbox-rows'] #row-%s[data-gone]", conv.PublicID))
	_, moved := closedTab.has("[hx-swap-oob='afterbegin:#inbox-rows'] #row-" + conv.PublicID + ".inbox-row")
	assert.Equal(t, "Carla", strings.TrimSpace(moved.Find(".row-title").Text()))

	// Assignment replaces the assignee control.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(context.Background(), tx, mia, conv, &mia.ID) }))
	e.app.rt.Ring()
	_, ctl := thread.has("#conv-assignee[hx-swap-oob]")
	assert.Equal(t, fmt.Sprint(mia.ID), ctl.Find("#f-assignee option[selected]").AttrOr("value", ""))
}

// Customer-provided text (names, messages, page addresses) is escaped on
// the page and in the stream, and links cannot carry attributes or scripts.
func TestDeskEscapesCustomerText(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Mia", "mia@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("mia@example.com")
	s := b.streamFor(b.get("/inbox"))

	name := `<script>alert("name")</script>`
	body := "<script>alert('body')</script> <img src=x onerror=alert(1)>\n" +
		`http://evil.example/"onmouseover="alert(1) and javascript:alert(2) and http://ok.example/path?a=1&b=2`
	cust, conv := e.customerConversation(name, body)
	check := func(where string, sel *goquery.Selection) {
		t.Helper()
		// Our own scripts (/static/…, loaded where a feature needs them)
		// are the only scripts a page may hold.
		assert.Zero(t, sel.Find("script:not([src^='/static/']), img, [onmouseover], [onerror]").Length(), where)
		sel.Find("a").Each(func(_ int, a *goquery.Selection) {
			href := a.AttrOr("href", "")
			assert.True(t, strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://") || strings.HasPrefix(href, "/"), "%s: href %q", where, href)
		})
	}
	ev, row := s.has("#row-" + conv.PublicID)
	check("stream", ev.doc(t).Selection)
	assert.Equal(t, name, strings.TrimSpace(row.Find(".row-title").Text()))
	assert.NotContains(t, ev.data, "<script>")

	res := b.get("/conversations/" + conv.PublicID)
	check("page", res.doc.Find("main"))
	assert.Equal(t, name, res.text(".conv-heading h1"))
	msg := res.doc.Find("#messages .msg-in .msg-body").First()
	assert.Equal(t, body, msg.Text(), "shown as typed")
	var hrefs []string
	msg.Find("a").Each(func(_ int, a *goquery.Selection) { hrefs = append(hrefs, a.AttrOr("href", "")) })
	assert.Equal(t, []string{"http://evil.example/", "http://ok.example/path?a=1&b=2"}, hrefs)
	assert.Equal(t, "noopener nofollow ugc", msg.Find("a").First().AttrOr("rel", ""))
	assert.Equal(t, "_blank", msg.Find("a").First().AttrOr("target", ""))
	assert.NotContains(t, res.body, "<script>alert")

	// The same in a live message.
	thread := b.streamFor(res)
	e.customerSays(cust, conv, `<b>bold</b> https://x.example/'onclick='alert(1)`)
	ev, m := thread.has("[hx-swap-oob='beforeend:#messages'] .msg-in")
	check("live message", ev.doc(t).Selection)
	assert.Zero(t, m.Find("b, [onclick]").Length())
	assert.Equal(t, "https://x.example/", m.Find("a").AttrOr("href", ""))
}

// Each agent's stream speaks their language.
func TestDeskStreamInTheViewersLanguage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	mia := e.user("Mia", "mia@example.com", models.RoleAgent, true)
	require.NoError(t, models.SetLocale(ctx, e.db, mia.ID, "pt-BR"))
	cust, conv := e.customerConversation("", "Olá")
	b := e.browser()
	b.login("mia@example.com")
	page := b.get("/conversations/" + conv.PublicID)
	assert.Equal(t, "pt-BR", page.doc.Find("html").AttrOr("lang", ""))
	s := b.streamFor(page)

	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, mia, conv, models.StatusClosed) }))
	e.customerSays(cust, conv, "Alguma novidade?")
	_, doc := s.waitFor("the reopening", func(_ sseEvent, d *goquery.Document) bool {
		return d.Find(".msg-system").Length() > 0 && strings.Contains(d.Text(), "reaberta")
	})
	assert.Equal(t, "Conversa reaberta pela resposta do cliente", strings.TrimSpace(doc.Find(".msg-system span").Last().Text()))
	assert.Contains(t, doc.Find("#conv-status .badge").Text(), "Aberta")
	assert.Equal(t, fmt.Sprintf("Visitante nº %d", cust.ID), strings.TrimSpace(doc.Find(".msg-in .msg-author").Text()))
}
