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

// A conversation's menus of agents (assignee, transfer, invite) load when
// first used, each for whom the page shows it: anyone who sees the
// customer conversation, its support agents, those who may join it.
// Anyone else, a teammate chat, an unknown menu: 404. Names are escaped.
func TestConversationMenus(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	mia := e.user("Mia", "mia@example.com", models.RoleAgent, true)
	olaf := e.user("<b>Olaf</b>", "olaf@example.com", models.RoleAgent, true)
	pat := e.user("Pat", "pat@example.com", models.RoleAgent, false)
	_, conv := e.customerConversation("Carla", "hello")
	internal, _, err := factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, mia, []int64{pat.ID}, "team chat")
	})
	require.NoError(t, err)
	menu := func(c *models.Conversation, name string) string {
		return "/conversations/" + c.PublicID + "/menus/" + name
	}

	b := e.browser()
	b.login("mia@example.com")
	res := b.get(menu(conv, "assignee"), "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 1, res.doc.Find(`option[value=""][selected]`).Length(), "unassigned now")
	assert.Equal(t, "<b>Olaf</b>", res.text(fmt.Sprintf(`option[value="%d"]`, olaf.ID)), "the name is text")
	assert.NotContains(t, res.body, "<b>Olaf", "escaped")
	assert.Zero(t, res.doc.Find(fmt.Sprintf(`option[value="%d"]`, pat.ID)).Length(), "support agents only")

	res = b.get(menu(conv, "transfer"), "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 1, res.doc.Find(fmt.Sprintf(`option[value="agent:%d"]`, olaf.ID)).Length())

	res = b.get(menu(conv, "invite"), "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 1, res.doc.Find(fmt.Sprintf(`option[value="%d"]`, olaf.ID)).Length())
	assert.Zero(t, res.doc.Find(fmt.Sprintf(`option[value="%d"]`, mia.ID)).Length(), "not the viewer")

	// Assigned to someone who is no longer a support agent: the menu still
	// says who, chosen, on the page and once loaded.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, mia, conv, &olaf.ID) }))
	require.NoError(t, e.db.Exec("UPDATE users SET customer_support = false WHERE id = ?", olaf.ID).Error)
	page := b.get("/conversations/" + conv.PublicID)
	assert.Equal(t, fmt.Sprint(olaf.ID), page.doc.Find("#f-assignee option[selected]").AttrOr("value", ""))
	assert.Equal(t, "<b>Olaf</b>", strings.TrimSpace(page.doc.Find("#f-assignee option[selected]").Text()))
	res = b.get(page.doc.Find("#f-assignee").AttrOr("data-options", ""), "HX-Request", "true")
	assert.Equal(t, fmt.Sprint(olaf.ID), res.doc.Find("option[selected]").AttrOr("value", ""))

	for _, path := range []string{menu(conv, "nope"), menu(internal, "assignee"), menu(internal, "invite"), "/conversations/nope/menus/assignee"} {
		assert.Equal(t, http.StatusNotFound, b.get(path, "HX-Request", "true").StatusCode, path)
	}
	p := e.browser()
	p.login("pat@example.com")
	for _, name := range []string{"assignee", "transfer", "invite"} {
		assert.Equal(t, http.StatusNotFound, p.get(menu(conv, name), "HX-Request", "true").StatusCode, "Pat may not see customer conversations: %s", name)
	}
	anon := e.browser()
	assert.NotEqual(t, http.StatusOK, anon.get(menu(conv, "assignee")).StatusCode, "signed out")
}

// Opening a conversation reads and renders the same in a desk of 60 support
// agents as in one of 2: its menus of agents load when used.
func TestOpeningAConversationDoesNotGrowWithTheDesk(t *testing.T) {
	t.Parallel()
	st := &statementCounter{}
	e := setup(t, envOpts{statements: st})
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	e.user("Bo", "bo@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Carla", "first question")
	b := e.browser()
	b.login("ana@example.com")
	open := "/conversations/" + conv.PublicID + "?list=customers"
	b.get(open) // the first open reads it
	measure := func() (statements, size int) {
		q := st.during(func() {
			res := b.get(open, "HX-Request", "true", "HX-Boosted", "true", "HX-Current-URL", e.srv.URL+"/inbox")
			require.Equal(t, http.StatusOK, res.StatusCode)
			size = len(res.body)
		})
		return len(q), size
	}
	stmts, size := measure()
	for i := range 60 {
		e.user(fmt.Sprintf("Agent Number %02d", i), fmt.Sprintf("agent%d@example.com", i), models.RoleAgent, true)
	}
	stmts60, size60 := measure()
	assert.Equal(t, stmts, stmts60)
	assert.InDelta(t, size, size60, 100, "the page does not list the agents")
	assert.NotContains(t, b.get(open).body, "Agent Number", "nor does the whole page")
}

// An item's assignee menu loads when used, for whoever sees the item: a
// ticket's offers support agents, a task's anyone active. An agent without
// the support flag sees no ticket, nor its menu.
func TestItemAssigneeMenu(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	pat := e.user("Pat", "pat@example.com", models.RoleAgent, false)
	for _, kind := range []string{models.ItemTicket, models.ItemTask} {
		_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Item, error) {
			return models.CreateItem(t.Context(), tx, sue, models.ItemInput{Kind: kind, Title: "Check it", Assignee: fmt.Sprint(sue.ID)})
		})
		require.NoError(t, err)
	}
	b := e.browser()
	b.login("sue@example.com")
	page := b.get("/tickets/1")
	require.Equal(t, "/tickets/1/menus/assignee", page.doc.Find("#item-f-assignee").AttrOr("data-options", ""))
	require.Equal(t, 2, page.doc.Find("#item-f-assignee option").Length(), "nobody and Sue, until used")
	ticket := b.get("/tickets/1/menus/assignee", "HX-Request", "true")
	require.Equal(t, http.StatusOK, ticket.StatusCode)
	assert.Equal(t, fmt.Sprint(sue.ID), ticket.doc.Find("option[selected]").AttrOr("value", ""))
	assert.Zero(t, ticket.doc.Find(fmt.Sprintf(`option[value="%d"]`, pat.ID)).Length(), "tickets go to support agents")
	task := b.get("/tasks/1/menus/assignee", "HX-Request", "true")
	require.Equal(t, http.StatusOK, task.StatusCode)
	assert.Equal(t, 1, task.doc.Find(fmt.Sprintf(`option[value="%d"]`, pat.ID)).Length(), "tasks go to anyone active")
	assert.Equal(t, http.StatusNotFound, b.get("/tickets/99/menus/assignee", "HX-Request", "true").StatusCode)

	p := e.browser()
	p.login("pat@example.com")
	assert.Equal(t, http.StatusNotFound, p.get("/tickets/1/menus/assignee", "HX-Request", "true").StatusCode)
	assert.Equal(t, http.StatusOK, p.get("/tasks/1/menus/assignee", "HX-Request", "true").StatusCode)
}

// The assignee menus of the item lists, the new-item form and search carry
// their chosen person only and load who items may be assigned to when used:
// a ticket's support agents, a task's anyone active, after what each
// offers first. Tickets' menus are for who sees tickets; an unknown kind or
// style is a 404.
func TestPeopleMenus(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	pat := e.user("Pat", "pat@example.com", models.RoleAgent, false)
	for i := range 30 {
		e.user(fmt.Sprintf("Agent Number %02d", i), fmt.Sprintf("agent%d@example.com", i), models.RoleAgent, true)
	}
	b := e.browser()
	b.login("sue@example.com")
	values := func(doc *goquery.Selection) (vs []string) {
		doc.Find("option").Each(func(_ int, s *goquery.Selection) { vs = append(vs, s.AttrOr("value", "")) })
		return vs
	}
	id := fmt.Sprint(sue.ID)

	list := b.get("/tickets?assignee=" + id)
	require.Equal(t, http.StatusOK, list.StatusCode)
	assert.NotContains(t, list.body, "Agent Number", "the list does not carry the desk's agents")
	assert.Equal(t, []string{"", id}, values(list.doc.Find("#flt-assignee")), "Anyone, and the chosen one")
	assert.Equal(t, id, list.doc.Find("#flt-assignee option[selected]").AttrOr("value", ""))
	filter := list.doc.Find("#flt-assignee").AttrOr("data-options", "")
	require.Equal(t, "/desk/menus/people?kind=ticket&style=filter", filter)
	menu := b.get(filter+"&selected="+id, "HX-Request", "true")
	require.Equal(t, http.StatusOK, menu.StatusCode)
	assert.Len(t, values(menu.doc.Selection), 32, "Anyone and the 31 support agents")
	assert.Equal(t, id, menu.doc.Find("option[selected]").AttrOr("value", ""))
	assert.Zero(t, menu.doc.Find(`option[value="`+fmt.Sprint(pat.ID)+`"]`).Length(), "tickets go to support agents")

	form := b.get("/tasks/new")
	require.Equal(t, http.StatusOK, form.StatusCode)
	assert.Equal(t, []string{""}, values(form.doc.Find("#f-assignee")), "Nobody, until used")
	menu = b.get(form.doc.Find("#f-assignee").AttrOr("data-options", ""), "HX-Request", "true")
	assert.Equal(t, form.text(`#f-assignee option[value=""]`), menu.text(`option[value=""]`), "what the form offers first")
	assert.Equal(t, 1, menu.doc.Find(`option[value="`+fmt.Sprint(pat.ID)+`"]`).Length(), "tasks go to anyone active")

	search := b.get("/search?q=x&assignee=me")
	require.Equal(t, http.StatusOK, search.StatusCode)
	assert.Equal(t, []string{"", "me", "none"}, values(search.doc.Find("#search-assignee")))
	assert.Equal(t, "me", search.doc.Find("#search-assignee option[selected]").AttrOr("value", ""))
	menu = b.get(search.doc.Find("#search-assignee").AttrOr("data-options", "")+"&selected=me", "HX-Request", "true")
	assert.Len(t, values(menu.doc.Selection), 34)
	assert.Equal(t, "me", menu.doc.Find("option[selected]").AttrOr("value", ""))

	for _, q := range []string{"kind=ticket&style=nope", "kind=nope&style=filter", "style=filter", "kind=ticket"} {
		assert.Equal(t, http.StatusNotFound, b.get("/desk/menus/people?"+q, "HX-Request", "true").StatusCode, q)
	}
	p := e.browser()
	p.login("pat@example.com")
	assert.Equal(t, http.StatusNotFound, p.get(filter, "HX-Request", "true").StatusCode, "Pat sees no tickets")
	assert.Equal(t, http.StatusOK, p.get("/desk/menus/people?kind=task&style=filter", "HX-Request", "true").StatusCode)
}
