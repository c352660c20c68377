package models_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

var cursorAt = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

func TestInboxQueryRoundTrip(t *testing.T) {
	t.Parallel()
	before := &models.InboxCursor{At: cursorAt, ID: 42}
	cases := []struct {
		q    models.InboxQuery
		want string // the encoded query string
	}{
		{models.InboxQuery{}, ""},
		{models.InboxQuery{Section: models.SectionMine, Status: models.StatusOpen, Filter: models.FilterAll}, "list=mine"},
		{models.InboxQuery{Section: models.SectionMine, Status: models.StatusClosed, Filter: models.FilterAll, Before: before},
			"before=1772600767123456-42&list=mine&status=closed"},
		{models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterAll}, "list=customers"},
		{models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusClosed, Filter: models.FilterMine},
			"filter=mine&list=customers&status=closed"},
		{models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterUnassigned, Before: before},
			"before=1772600767123456-42&filter=unassigned&list=customers"},
		// A team's queue, and My teams (team_queue.go).
		{models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterAll, Team: 7},
			"list=customers&team=7"},
		{models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterTeams, Team: 3},
			"filter=teams&list=customers&team=3"},
	}
	for _, c := range cases {
		v := c.q.Values()
		assert.Equal(t, c.want, v.Encode())
		got, err := models.ParseInboxQuery(v)
		require.NoError(t, err, c.want)
		assert.Equal(t, c.q, got, c.want)
	}
}

func TestParseInboxQueryFallsBack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    models.InboxQuery
		wantErr bool
	}{
		{"status=closed", models.InboxQuery{}, false}, // no list
		{"list=bogus&status=closed", models.InboxQuery{}, false},
		{"list=customers&status=bogus&filter=bogus",
			models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterAll}, false},
		// Mine has no filters.
		{"list=mine&filter=unassigned",
			models.InboxQuery{Section: models.SectionMine, Status: models.StatusOpen, Filter: models.FilterAll}, false},
		{"list=mine&status=closed&before=garbage",
			models.InboxQuery{Section: models.SectionMine, Status: models.StatusClosed, Filter: models.FilterAll}, true},
		// A team that is not an id is no team; My conversations has none.
		{"list=customers&team=-3&filter=teams",
			models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterTeams}, false},
		{"list=customers&team=x",
			models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterAll}, false},
		{"list=mine&team=3",
			models.InboxQuery{Section: models.SectionMine, Status: models.StatusOpen, Filter: models.FilterAll}, false},
		{"list=customers&before=0-1",
			models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterAll}, true},
	}
	for _, c := range cases {
		v, err := url.ParseQuery(c.in)
		require.NoError(t, err)
		got, err := models.ParseInboxQuery(v)
		if c.wantErr {
			assert.ErrorIs(t, err, models.ErrBadCursor, c.in)
		} else {
			assert.NoError(t, err, c.in)
		}
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestStreamParamsRoundTrip(t *testing.T) {
	t.Parallel()
	customers := models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusClosed, Filter: models.FilterUnassigned}
	mine := models.InboxQuery{Section: models.SectionMine, Status: models.StatusOpen, Filter: models.FilterAll}
	cases := []struct {
		p    models.StreamParams
		want string
	}{
		{models.StreamParams{View: models.ViewPage}, "view=page"},
		{models.StreamParams{View: models.ViewNotifications}, "view=notifications"},
		{models.StreamParams{View: models.ViewItem, Item: 17}, "item=17&view=item"},
		{models.StreamParams{View: models.ViewInbox, List: customers, Paged: true},
			"filter=unassigned&list=customers&paged=1&status=closed&view=inbox"},
		{models.StreamParams{View: models.ViewMine, List: mine}, "list=mine&view=mine"},
		{models.StreamParams{View: models.ViewInbox, List: models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterTeams, Team: 4}},
			"filter=teams&list=customers&team=4&view=inbox"},
		{models.StreamParams{View: models.ViewConversation, List: mine, Conv: "5f0c"}, "c=5f0c&list=mine&view=conversation"},
		{models.StreamParams{View: models.ViewConversation, Conv: "5f0c"}, "c=5f0c&view=conversation"},
	}
	for _, c := range cases {
		v := c.p.Values()
		assert.Equal(t, c.want, v.Encode())
		assert.Equal(t, c.p, models.ParseStreamParams(v), c.want)
	}
	// The zero value is any other page; a list's page is never sent.
	assert.Equal(t, "view=page", models.StreamParams{}.Values().Encode())
	paged := customers
	paged.Before = &models.InboxCursor{At: cursorAt, ID: 1}
	assert.Equal(t, customers, models.ParseStreamParams(models.StreamParams{View: models.ViewInbox, List: paged}.Values()).List)
}

func TestParseStreamParamsIsLenient(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want models.StreamParams
	}{
		{"", models.StreamParams{View: models.ViewPage}},
		// The view names the section of an inbox or mine page.
		{"view=inbox&list=mine&status=closed&filter=mine&before=garbage", models.StreamParams{View: models.ViewInbox,
			List: models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusClosed, Filter: models.FilterMine}}},
		{"view=mine&paged=1", models.StreamParams{View: models.ViewMine, Paged: true,
			List: models.InboxQuery{Section: models.SectionMine, Status: models.StatusOpen, Filter: models.FilterAll}}},
		// Only a list is paged; a bad item id is none.
		{"view=conversation&list=bogus&paged=1&c=x&item=abc", models.StreamParams{View: models.ViewConversation, Conv: "x"}},
	}
	for _, c := range cases {
		v, err := url.ParseQuery(c.in)
		require.NoError(t, err)
		assert.Equal(t, c.want, models.ParseStreamParams(v), c.in)
	}
}

func TestItemQueryRoundTrip(t *testing.T) {
	t.Parallel()
	updated := &models.ItemCursor{Sort: models.SortUpdated, Keys: []string{"1772600767123456", "9"}}
	due := &models.ItemCursor{Sort: models.SortDue, Keys: []string{"infinity", "3"}}
	prio := &models.ItemCursor{Sort: models.SortPriority, Keys: []string{"2", "1772600767123456", "3"}}
	cases := []struct {
		q    models.ItemQuery
		want string
	}{
		{models.ItemQuery{Kind: models.ItemTicket, Sort: models.SortUpdated}, ""},
		{models.ItemQuery{Kind: models.ItemTicket, Status: models.StatusOpenOnes, Sort: models.SortUpdated, After: updated},
			"after=1772600767123456_9&status=open_ones"},
		{models.ItemQuery{Kind: models.ItemTicket, Status: models.ItemWaiting, AssigneeID: 7, Mine: true, TeamID: 3,
			Priority: models.PriorityUrgent, Overdue: true, Sort: models.SortDue, Before: due},
			"assignee=7&before=infinity_3&mine=1&overdue=1&priority=urgent&sort=due&status=" + models.ItemWaiting + "&team=3"},
		{models.ItemQuery{Kind: models.ItemTask, Status: models.ItemTodo, Sort: models.SortPriority, After: prio},
			"after=2_1772600767123456_3&sort=priority&status=" + models.ItemTodo},
		{models.ItemQuery{Kind: models.ItemTask, Sort: models.SortNumber}, "sort=number"},
	}
	for _, c := range cases {
		v := c.q.Values()
		assert.Equal(t, c.want, v.Encode())
		got, err := models.ParseItemQuery(c.q.Kind, v)
		require.NoError(t, err, c.want)
		assert.Equal(t, c.q, got, c.want)
	}
}

func TestParseItemQueryFallsBack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind, in string
		want     models.ItemQuery
		wantErr  bool
	}{
		// A ticket status is no task status; unknown values are "any".
		{models.ItemTask, "status=" + models.ItemWaiting + "&priority=bogus&sort=bogus&assignee=x&mine=yes",
			models.ItemQuery{Kind: models.ItemTask, Sort: models.SortUpdated}, false},
		{models.ItemTicket, "today=2026-02-03&overdue=1",
			models.ItemQuery{Kind: models.ItemTicket, Sort: models.SortUpdated, Overdue: true, Today: time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)}, false},
		{models.ItemTicket, "today=yesterday", models.ItemQuery{Kind: models.ItemTicket, Sort: models.SortUpdated}, false},
		{models.ItemTicket, "after=nonsense&priority=high",
			models.ItemQuery{Kind: models.ItemTicket, Sort: models.SortUpdated, Priority: models.PriorityHigh}, true},
		// A cursor of another sort.
		{models.ItemTicket, "sort=number&before=1_2", models.ItemQuery{Kind: models.ItemTicket, Sort: models.SortNumber}, true},
	}
	for _, c := range cases {
		v, err := url.ParseQuery(c.in)
		require.NoError(t, err)
		got, err := models.ParseItemQuery(c.kind, v)
		if c.wantErr {
			assert.ErrorIs(t, err, models.ErrBadItemCursor, c.in)
		} else {
			assert.NoError(t, err, c.in)
		}
		assert.Equal(t, c.want, got, c.in)
	}
}

// FuzzListQueries checks that no query string makes a parser panic, and that
// whatever a parser accepts it encodes to something that parses to the same
// query: Parse(q.Values()) == q for every query a page can hold.
func FuzzListQueries(f *testing.F) {
	for _, s := range []string{"", "list=customers&status=closed&filter=mine&before=1772600767123456-42",
		"view=conversation&list=mine&c=x&paged=1&item=3", "status=open_ones&sort=due&after=infinity_3&assignee=-2&team=4",
		"list=mine&before=-1-2", "sort=priority&before=1_2_x", "today=2026-02-30", "%zz&list=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw) // a malformed pair is dropped, like echo does
		// through the query string, as a link carries them
		encoded := func(v url.Values) url.Values {
			back, err := url.ParseQuery(v.Encode())
			require.NoError(t, err)
			return back
		}

		if q, err := models.ParseInboxQuery(v); err == nil {
			again, err := models.ParseInboxQuery(encoded(q.Values()))
			require.NoError(t, err)
			require.Equal(t, q, again)
		}

		if q, err := models.ParseThreadQuery(v); err == nil {
			again, err := models.ParseThreadQuery(encoded(q.Values()))
			require.NoError(t, err)
			require.Equal(t, q, again)
		}

		if q, err := models.ParseNotificationsQuery(v); err == nil {
			again, err := models.ParseNotificationsQuery(encoded(q.Values()))
			require.NoError(t, err)
			require.Equal(t, q, again)
		}

		p := models.ParseStreamParams(v)
		require.Equal(t, p, models.ParseStreamParams(encoded(p.Values())))

		for _, kind := range []string{models.ItemTicket, models.ItemTask} {
			q, err := models.ParseItemQuery(kind, v)
			if err != nil {
				continue
			}
			again, err := models.ParseItemQuery(kind, encoded(q.Values()))
			require.NoError(t, err)
			q.Today = time.Time{} // the viewer's date is not part of a link
			require.Equal(t, q, again)
		}
	})
}

func TestNotificationsQueryRoundTrip(t *testing.T) {
	for _, c := range []struct {
		q    models.NotificationsQuery
		want string
	}{
		{models.NotificationsQuery{}, ""},
		{models.NotificationsQuery{Before: 42}, "before=42"},
	} {
		require.Equal(t, c.want, c.q.Values().Encode())
		back, err := models.ParseNotificationsQuery(c.q.Values())
		require.NoError(t, err)
		require.Equal(t, c.q, back)
	}
	for _, bad := range []string{"0", "-3", "x", "1e3", "9223372036854775808"} {
		_, err := models.ParseNotificationsQuery(url.Values{"before": {bad}})
		require.ErrorIs(t, err, models.ErrNotFound, bad)
	}
}

func TestThreadQueryRoundTrip(t *testing.T) {
	for _, c := range []struct {
		q    models.ThreadQuery
		want string
	}{
		{models.ThreadQuery{}, ""},
		{models.ThreadQuery{Before: 81}, "before=81"},
	} {
		require.Equal(t, c.want, c.q.Values().Encode())
		back, err := models.ParseThreadQuery(c.q.Values())
		require.NoError(t, err)
		require.Equal(t, c.q, back)
	}
	for _, bad := range []string{"0", "-3", "x", "1e3", "9223372036854775808"} {
		_, err := models.ParseThreadQuery(url.Values{"before": {bad}})
		require.ErrorIs(t, err, models.ErrBadCursor, bad)
	}
}
