package app

import (
	"context"
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

// Admin → Conversations → Waiting time: defaults 2 and 5 minutes; out of
// order, negative or non-numeric thresholds are a 422 beside the field with
// what was typed, and nothing is stored; agents may not change them.
func TestWaitingThresholdSettings(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada Admin", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.login("ada@example.com")

	page := b.get("/admin/conversations")
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Equal(t, "2", page.doc.Find("#f-waiting_amber").AttrOr("value", ""))
	assert.Equal(t, "5", page.doc.Find("#f-waiting_red").AttrOr("value", ""))

	for _, c := range []struct {
		amber, red, field string
	}{
		{"5", "2", "waiting_red"},
		{"3", "3", "waiting_red"},
		{"-1", "4", "waiting_amber"},
		{"1", "-4", "waiting_red"},
		{"soon", "4", "waiting_amber"},
		{"1", "", "waiting_red"},
	} {
		res := b.post("/admin/conversations/waiting", url.Values{"waiting_amber": {c.amber}, "waiting_red": {c.red}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%+v", c)
		assert.NotEmpty(t, res.text("#e-"+c.field), "%+v", c)
		assert.Equal(t, "true", res.doc.Find("#f-"+c.field).AttrOr("aria-invalid", ""), "%+v", c)
		assert.Equal(t, c.amber, res.doc.Find("#f-waiting_amber").AttrOr("value", "x"), "what was typed stays")
		assert.Equal(t, c.red, res.doc.Find("#f-waiting_red").AttrOr("value", "x"))
	}
	s, err := models.GetSettings(context.Background(), e.db)
	require.NoError(t, err)
	assert.Equal(t, models.DefaultWaiting, s.Waiting(), "nothing stored")

	e.user("Pat", "pat@example.com", models.RoleAgent, true)
	pb := e.browser()
	pb.login("pat@example.com")
	assert.Equal(t, http.StatusForbidden, pb.post("/admin/conversations/waiting", url.Values{"waiting_amber": {"1"}, "waiting_red": {"3"}}).StatusCode)

	res := b.post("/admin/conversations/waiting", url.Values{"waiting_amber": {"1"}, "waiting_red": {"3"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	page = b.get("/admin/conversations")
	assert.Equal(t, "1", page.doc.Find("#f-waiting_amber").AttrOr("value", ""))
	assert.Equal(t, "3", page.doc.Find("#f-waiting_red").AttrOr("value", ""))
}

// The inbox's "oldest waiting" sort and "unanswered" filter, the rows'
// colours with the thresholds they are recoloured by, and the tabs of the
// agent's conversations on a conversation page.
func TestInboxWaitingSortFilterAndTabs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	me := e.user("Mia", "mia@example.com", models.RoleAgent, true)
	_, fresh := e.customerConversation("Fred", "just asked")
	_, answered := e.customerConversation("Ann", "answered")
	_, longest := e.customerConversation("Lou", "waited longest")
	_, middle := e.customerConversation("Mel", "waited a while")
	_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: me}, answered, models.MessageText, "Done")
	})
	require.NoError(t, err)
	require.NoError(t, e.db.Exec("UPDATE conversations SET waiting_since = now() - interval '30 minutes' WHERE id = ?", longest.ID).Error)
	require.NoError(t, e.db.Exec("UPDATE conversations SET waiting_since = now() - interval '3 minutes' WHERE id = ?", middle.ID).Error)
	for _, c := range []*models.Conversation{longest, answered} {
		require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, me, c, &me.ID) }))
	}

	b := e.browser()
	b.login("mia@example.com")
	newest := []string{answered.PublicID, middle.PublicID, longest.PublicID, fresh.PublicID}
	cases := []struct {
		path string
		want []string
	}{
		{"/inbox", newest},
		{"/inbox?sort=activity", newest},
		{"/inbox?sort=bogus", newest}, // unknown sorts: the default, like filters
		{"/inbox?sort=waiting", []string{longest.PublicID, middle.PublicID, fresh.PublicID, answered.PublicID}},
		{"/inbox?filter=unanswered", []string{middle.PublicID, longest.PublicID, fresh.PublicID}},
		{"/inbox?filter=unanswered&sort=waiting", []string{longest.PublicID, middle.PublicID, fresh.PublicID}},
		{"/inbox?filter=mine&sort=waiting", []string{longest.PublicID, answered.PublicID}},
		{"/mine?sort=waiting", []string{longest.PublicID, answered.PublicID}},
	}
	for _, c := range cases {
		res := b.get(c.path)
		require.Equal(t, http.StatusOK, res.StatusCode, c.path)
		assert.Equal(t, c.want, rowIDs(res), c.path)
	}
	// A cursor the waiting sort did not write is a bad request.
	assert.Equal(t, http.StatusBadRequest, b.get("/inbox?before=inf-1").StatusCode)
	assert.Equal(t, http.StatusBadRequest, b.get("/inbox?sort=waiting&before=soon-1").StatusCode)

	// Colours by the default thresholds (2 and 5 min), with the wait in words.
	res := b.get("/inbox?sort=waiting&filter=unanswered")
	assert.True(t, res.doc.Find("#row-"+longest.PublicID).HasClass("wait-red"))
	assert.True(t, res.doc.Find("#row-"+middle.PublicID).HasClass("wait-amber"))
	assert.True(t, res.doc.Find("#row-"+fresh.PublicID).HasClass("wait-green"))
	assert.Contains(t, res.text("#row-"+middle.PublicID+" .row-waiting"), "Waiting 3 min")
	row := res.doc.Find("#row-" + fresh.PublicID)
	assert.Equal(t, "120", row.AttrOr("data-waiting-amber", ""))
	assert.Equal(t, "300", row.AttrOr("data-waiting-red", ""))
	since, err := time.Parse(time.RFC3339, row.AttrOr("data-waiting-since", ""))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), since, time.Minute)
	// Links keep the sort and filter; the sort links keep the filter.
	assert.Equal(t, "/conversations/"+middle.PublicID+"?filter=unanswered&list=customers&sort=waiting", res.doc.Find("#row-"+middle.PublicID).AttrOr("href", ""))
	assert.Equal(t, 1, res.doc.Find(`.list-sorts a[href="/inbox?filter=unanswered"]`).Length())
	assert.Equal(t, "true", res.doc.Find(`.list-sorts a[href="/inbox?filter=unanswered&sort=waiting"]`).AttrOr("aria-current", ""))
	assert.Equal(t, 1, res.doc.Find(`.tabs a[href="/inbox?filter=unanswered&sort=waiting&status=closed"]`).Length())
	answeredRow := b.get("/inbox").doc.Find("#row-" + answered.PublicID)
	assert.False(t, answeredRow.Is("[data-waiting-since]"), "nobody waits: no colour")

	// The conversation page: tabs for my open conversations, in a stable
	// order, coloured; the open one current.
	res = b.get("/conversations/" + answered.PublicID + "?list=customers")
	require.Equal(t, http.StatusOK, res.StatusCode)
	var tabs []string
	res.doc.Find("#conv-tabs > a.conv-tab").Each(func(_ int, s *goquery.Selection) { tabs = append(tabs, s.AttrOr("id", "")) })
	assert.Equal(t, []string{"tab-" + answered.PublicID, "tab-" + longest.PublicID}, tabs)
	assert.True(t, res.doc.Find("#tab-"+longest.PublicID).HasClass("wait-red"))
	assert.Contains(t, res.text("#tab-"+longest.PublicID+" .tab-wait"), "Waiting 30 min")
	assert.Equal(t, "Lou", res.text("#tab-"+longest.PublicID+" .tab-name"))
	assert.Equal(t, "true", res.doc.Find("#tab-"+answered.PublicID).AttrOr("aria-current", ""))
	assert.Zero(t, res.doc.Find("#tab-"+answered.PublicID+" .tab-wait").Length())
}

// The conversation page's stream keeps its tabs: a customer message colours
// the tab (refreshed in place, with the thresholds desk.js recolours by), a
// reply clears it, closing takes the tab away; a conversation that is not
// the viewer's never becomes a tab live, and viewers on other pages get no
// tab fragments.
func TestDeskStreamKeepsTabs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	me := e.user("Mia", "mia@example.com", models.RoleAgent, true)
	cust, mine := e.customerConversation("Lou", "hello")
	other, notMine := e.customerConversation("Nat", "hello")
	_, open := e.customerConversation("Mel", "hello")
	for _, c := range []*models.Conversation{mine, open} {
		require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, me, c, &me.ID) }))
	}
	reply := func(c *models.Conversation) {
		_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, models.Actor{User: me}, c, models.MessageText, "On it")
		})
		require.NoError(t, err)
		e.app.rt.Ring()
	}
	reply(mine)

	b := e.browser()
	b.login("mia@example.com")
	s := b.streamFor(b.get("/conversations/" + open.PublicID + "?list=customers"))
	inbox := b.streamFor(b.get("/inbox"))

	e.customerSays(cust, mine, "where is it?")
	// (The stream may first replay the setup's events: wait for the colour.)
	_, tab := s.has(`[hx-swap-oob="afterbegin:#conv-tabs"][data-refresh-only] #tab-` + mine.PublicID + `.wait-green`)
	assert.Equal(t, "120", tab.AttrOr("data-waiting-amber", ""))
	assert.Equal(t, "300", tab.AttrOr("data-waiting-red", ""))
	assert.Contains(t, strings.Join(strings.Fields(tab.Find(".tab-wait").Text()), " "), "Waiting")
	inbox.has(`#row-` + mine.PublicID + `.wait-green`)

	reply(mine)
	_, tab = s.has(`#tab-` + mine.PublicID + `:not([data-waiting-since])`)
	assert.Zero(t, tab.Find(".tab-wait").Length())

	e.customerSays(other, notMine, "anyone?")
	inbox.has(`#row-` + notMine.PublicID)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, me, mine, models.StatusClosed) }))
	e.app.rt.Ring()
	s.has(`[data-refresh-only] span#tab-` + mine.PublicID + `[data-gone]`)
	inbox.has(`#row-` + mine.PublicID + `[data-gone]`)

	assert.NotContains(t, s.everything(), `<a id="tab-`+notMine.PublicID, "not the viewer's: no tab (at most a tombstone, ignored where absent)")
	assert.NotContains(t, inbox.everything(), "conv-tabs", "no tabs outside a conversation page")
}
