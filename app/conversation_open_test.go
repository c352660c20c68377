package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// A click in the list (a boosted request from a page that shows the same
// list) gets the conversation without the list: a placeholder htmx keeps
// the page's list in place of, and the list's query is not run. A link
// opened on its own, another list, or a deeper page of it gets the list.
func TestOpeningFromTheListLeavesTheListOut(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	_, first := e.customerConversation("Carla", "first question")
	_, second := e.customerConversation("Dan", "second question")
	b := e.browser()
	b.login("ana@example.com")
	open := "/conversations/" + second.PublicID + "?list=customers&status=open&filter=all"
	boosted := func(current string) *response {
		return b.get(open, "HX-Request", "true", "HX-Boosted", "true", "HX-Current-URL", e.srv.URL+current)
	}
	rows := func(r *response) int { return r.doc.Find("#inbox-rows .inbox-row").Length() }

	for _, current := range []string{"/inbox", "/inbox?filter=all", "/conversations/" + first.PublicID + "?list=customers&status=open&filter=all"} {
		r := boosted(current)
		require.Equal(t, http.StatusOK, r.StatusCode, current)
		list := r.doc.Find("#inbox-list")
		require.Equal(t, 1, list.Length(), current)
		_, preserve := list.Attr("hx-preserve")
		require.True(t, preserve, "clicked in %s: the page keeps its list", current)
		require.Zero(t, rows(r), current)
		require.Contains(t, r.text("#messages"), "second question", "the conversation itself is all there")
	}
	for _, current := range []string{"", "/inbox?filter=mine", "/inbox?status=closed", "/mine", "/inbox?sort=waiting",
		"/conversations/" + first.PublicID, "/tickets", "/inbox?before=bogus"} {
		var r *response
		if current == "" {
			r = b.get(open) // a link opened on its own
		} else {
			r = boosted(current)
		}
		require.Equal(t, http.StatusOK, r.StatusCode, current)
		_, preserve := r.doc.Find("#inbox-list").Attr("hx-preserve")
		require.False(t, preserve, "from %q the list is rendered", current)
		require.Equal(t, 2, rows(r), current)
		require.Equal(t, "true", r.doc.Find("#row-"+second.PublicID).AttrOr("aria-current", ""), current)
	}
}

// Opening a conversation already read writes nothing: no read marker moves,
// no event is recorded; opening one with something unread records its read.
func TestOpeningAReadConversationWritesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	cust, conv := e.customerConversation("Carla", "first question")
	b := e.browser()
	b.login("ana@example.com")
	events := func() int64 {
		var n int64
		require.NoError(t, e.db.WithContext(context.Background()).Raw("SELECT count(*) FROM events").Scan(&n).Error)
		return n
	}
	require.Equal(t, http.StatusOK, b.get("/conversations/"+conv.PublicID).StatusCode)
	afterFirst := events()
	for range 3 {
		require.Equal(t, http.StatusOK, b.get("/conversations/"+conv.PublicID).StatusCode)
	}
	require.Equal(t, afterFirst, events(), "reading a conversation already read records nothing")

	e.customerSays(cust, conv, "one more thing")
	before := events()
	require.Equal(t, http.StatusOK, b.get("/conversations/"+conv.PublicID).StatusCode)
	require.Equal(t, before+1, events(), "the new message is read: one read event for the agent's other tabs")
}

// What opening a conversation costs in round trips to PostgreSQL, counted:
// a budget this test holds (38 statements before the page read its settings
// once and skipped the write for a conversation already read; 25 / 24 before
// the agents and teammates, the teams and their service levels were read in
// one statement each, the sessions probed once and the first request read
// from a whole thread: 19 / 18; then 18 / 16 with a click rendering its
// region only (no navigation counts) and the settings from the instance's
// copy; 17 / 15 with the read check answered by the conversation's row;
// 16 / 14 with the agents one may invite taken from those the page read;
// 15 / 13 with the sessions probed with the row; 14 / 12 with the
// customer's panel taking the customer the lookup joined; 12 / 10 with
// the panel's three lists pipelined in one round trip, counted as one;
// 6 / 4 with the thread, the whole side panel and the tabs in that one
// batch; now 4 / 4, the list beside the thread and the bell's count in it
// too).
func TestOpeningAConversationStatementBudget(t *testing.T) {
	t.Parallel()
	st := &statementCounter{}
	e := setup(t, envOpts{statements: st})
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Carla", "first question")
	b := e.browser()
	b.login("ana@example.com")
	open := "/conversations/" + conv.PublicID + "?list=customers&status=open&filter=all"
	require.Equal(t, http.StatusOK, b.get(open).StatusCode) // the first open reads it
	full := st.during(func() { require.Equal(t, http.StatusOK, b.get(open).StatusCode) })
	click := st.during(func() {
		// What swap.js sends for a click on the row.
		require.Equal(t, http.StatusOK, b.get(open, "HX-Request", "true", "HX-Boosted", "true", "HX-Current-URL", e.srv.URL+"/inbox").StatusCode)
	})
	inbox := st.during(func() { require.Equal(t, http.StatusOK, b.get("/inbox").StatusCode) })
	t.Logf("full page: %d statements, click: %d, inbox: %d", len(full), len(click), len(inbox))
	// The inbox: the session, then the list, the teams with their service
	// levels and the bell in one batch (8 when it read the waiting colours,
	// the teams, the service levels twice, the online switch and the bell
	// one by one).
	require.LessOrEqual(t, len(inbox), 2, "inbox:\n%s", strings.Join(inbox, "\n"))
	require.LessOrEqual(t, len(full), 4, "full page:\n%s", strings.Join(full, "\n"))
	require.LessOrEqual(t, len(click), 4, "click:\n%s", strings.Join(click, "\n"))
	// The list's rows come from the subquery over the page's conversations;
	// the bell's count reads the viewer's watermark of broadcasts.
	const listSQL, bellSQL = "FROM (SELECT * FROM conversations c WHERE", "notify_read_upto"
	for name, sqls := range map[string][]string{"full page": full, "inbox": inbox} {
		all := strings.Join(sqls, "\n")
		require.Contains(t, all, listSQL, "%s: the list", name)
		require.Contains(t, all, bellSQL, "%s: the bell", name)
	}
	require.NotContains(t, strings.Join(click, "\n"), listSQL, "a click leaves the list's query out")
	require.NotContains(t, strings.Join(click, "\n"), bellSQL, "and the navigation's")
	for _, q := range full {
		require.NotContains(t, q, "INSERT", "opening a conversation already read writes nothing")
		require.NotContains(t, q, "UPDATE", "opening a conversation already read writes nothing")
	}
}

// A click in a desk page (the inbox, My conversations, a conversation) gets
// the conversation's region only: the title, <main>'s content and the
// stream for the new view, out of band, with HX-Retarget for swap.js; the
// sidebar, navigation and toasts stay as they are on screen. A link opened
// on its own, back or forward, and a click from any other page get the
// whole page; every answer says which headers chose (Vary).
func TestAClickInTheDeskRendersItsRegionOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	_, first := e.customerConversation("Carla", "first question")
	_, second := e.customerConversation("Dan", "second question")
	b := e.browser()
	b.login("ana@example.com")
	open := "/conversations/" + second.PublicID + "?list=customers&status=open&filter=all"
	vary := func(r *response) string { return strings.Join(r.Header.Values("Vary"), ",") }

	for _, current := range []string{"/inbox", "/mine", "/inbox?filter=mine", "/conversations/" + first.PublicID + "?list=customers"} {
		r := b.get(open, "HX-Request", "true", "HX-Boosted", "true", "HX-Current-URL", e.srv.URL+current)
		require.Equal(t, http.StatusOK, r.StatusCode, current)
		require.Equal(t, "#main", r.Header.Get("HX-Retarget"), current)
		require.Equal(t, "innerHTML", r.Header.Get("HX-Reswap"), current)
		require.Zero(t, r.doc.Find(".sidebar, #toasts, #page-meta, main").Length(), "from %s the shell stays on screen", current)
		require.Contains(t, r.doc.Find("title").Text(), "Dan", current)
		require.Equal(t, second.PublicID, r.doc.Find("#conv").AttrOr("data-conversation", ""), current)
		require.Contains(t, r.text("#messages"), "second question", current)
		stream := r.doc.Find("#desk-stream")
		require.Equal(t, "true", stream.AttrOr("hx-swap-oob", ""), current)
		require.Contains(t, stream.AttrOr("sse-connect", ""), "c="+second.PublicID, "the stream follows the conversation now open")
		for _, h := range []string{"HX-Boosted", "HX-Current-URL", "HX-History-Restore-Request"} {
			require.Contains(t, vary(r), h, current)
		}
	}

	for name, headers := range map[string][]string{
		"a link":        nil,
		"back":          {"HX-Request", "true", "HX-Boosted", "true", "HX-History-Restore-Request", "true", "HX-Current-URL", e.srv.URL + "/inbox"},
		"from tickets":  {"HX-Request", "true", "HX-Boosted", "true", "HX-Current-URL", e.srv.URL + "/tickets"},
		"no current":    {"HX-Request", "true", "HX-Boosted", "true"},
		"from a search": {"HX-Request", "true", "HX-Boosted", "true", "HX-Current-URL", e.srv.URL + "/search?q=x"},
	} {
		r := b.get(open, headers...)
		require.Equal(t, http.StatusOK, r.StatusCode, name)
		require.Empty(t, r.Header.Get("HX-Retarget"), name)
		require.Equal(t, 1, r.doc.Find(".sidebar").Length(), "%s: the whole page", name)
		require.Equal(t, 1, r.doc.Find("main#main #conv").Length(), name)
		_, oob := r.doc.Find("#desk-stream").Attr("hx-swap-oob")
		require.False(t, oob, name)
		require.Contains(t, vary(r), "HX-Current-URL", name)
	}
}

// Opening a conversation draws the waiting colours and the service-level
// clock from the instance's copy of the settings (no read per open); a
// change is seen on the next open, saved on this instance (the handler drops
// the copy) or anywhere else (the settings event reaches the broker).
func TestTheConversationPageSeesSettingsChanges(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	_, conv := e.customerConversation("Carla", "first question")
	require.NoError(t, e.db.Exec("UPDATE conversations SET waiting_since = now() - interval '3 minutes' WHERE id = ?", conv.ID).Error)
	b := e.browser()
	b.login("ada@example.com")
	open := "/conversations/" + conv.PublicID + "?list=customers"
	amberOn := func(page string) string {
		r := b.get(page)
		require.Equal(t, http.StatusOK, r.StatusCode)
		return r.doc.Find("#row-"+conv.PublicID).AttrOr("data-waiting-amber", "")
	}
	// The conversation's page and the inbox alike.
	amber := func() string {
		a, inbox := amberOn(open), amberOn("/inbox")
		if a != inbox {
			return "conversation " + a + ", inbox " + inbox
		}
		return a
	}
	clock := func() string { return b.get(open).doc.Find("#conv-sla [data-sla-due]").AttrOr("data-sla-due", "") }

	require.Equal(t, "120", amber(), "the default: 2 minutes")
	require.Equal(t, http.StatusSeeOther, b.post("/admin/conversations/waiting", url.Values{"waiting_amber": {"1"}, "waiting_red": {"4"}}).StatusCode)
	require.Equal(t, "60", amber(), "saved here: seen at once")

	require.Empty(t, clock(), "no service level yet")
	require.Equal(t, http.StatusSeeOther, b.post("/admin/service-levels", url.Values{"team": {""}, "sla_first": {"30"}}).StatusCode)
	require.NotEmpty(t, clock(), "the desk's target, saved here: seen at once")

	// Saved elsewhere (another instance): its event reaches this one.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.SetWaitingThresholds(ctx, tx, models.WaitingInput{Amber: "2", Red: "6"})
	}))
	require.Eventually(t, func() bool { return amber() == "120" }, 10*time.Second, 50*time.Millisecond)
}

// A write that changes the settings drops this instance's copy as it
// commits, before its answer: the next page cannot be served the old one
// while the hand-off is still on its way.
func TestSettingsWriteDropsTheCopyAsItCommits(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ada := e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	for _, change := range []func(tx models.Tx) error{
		func(tx models.Tx) error {
			return models.SetWaitingThresholds(ctx, tx, models.WaitingInput{Amber: "1", Red: "4"})
		},
		func(tx models.Tx) error { return models.SetOnline(ctx, tx, ada.ID, false) },
	} {
		_, err := e.app.settings.get(ctx, e.app)
		require.NoError(t, err)
		require.NoError(t, e.app.write(ctx, change))
		e.app.settings.mu.Lock()
		kept := e.app.settings.s
		e.app.settings.mu.Unlock()
		require.Nil(t, kept, "the copy outlived the write that changed it")
	}
}
