package models_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func TestWaitingLevel(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)
	w := models.DefaultWaiting
	cases := []struct {
		after time.Duration
		want  string
	}{
		{0, models.LevelGreen},
		{2*time.Minute - time.Second, models.LevelGreen},
		{2 * time.Minute, models.LevelAmber},
		{5*time.Minute - time.Second, models.LevelAmber},
		{5 * time.Minute, models.LevelRed},
		{48 * time.Hour, models.LevelRed},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, w.Level(&since, since.Add(c.after)), c.after.String())
	}
	assert.Equal(t, models.LevelNone, w.Level(nil, since), "nobody waits")
}

// waiting_since is the customer's oldest unanswered message: set by the
// first customer message after a reply, kept by later ones, notes and
// status lines; cleared by an agent's reply, in the post's own statement.
func TestWaitingSinceMaintenance(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	cust, conv, first := factory.Conversation(t, db, factory.ConversationOpts{})
	require.NotNil(t, conv.WaitingSince)
	assert.True(t, conv.WaitingSince.Equal(first.CreatedAt), "waiting since the first message")

	reload := func() *models.Conversation {
		t.Helper()
		c, err := models.FindConversationForCustomer(ctx, db, cust.ID, conv.PublicID)
		require.NoError(t, err)
		return c
	}
	post := func(actor models.Actor, kind, body string) *models.Message {
		t.Helper()
		c := reload()
		m, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, actor, c, kind, body)
		})
		require.NoError(t, err)
		return m
	}

	post(models.Actor{Customer: cust}, models.MessageText, "Still there?")
	assert.True(t, reload().WaitingSince.Equal(first.CreatedAt), "a second message keeps the oldest unanswered one")
	post(models.Actor{User: agent}, models.MessageNote, "Checking with the carrier")
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, agent, reload(), &agent.ID) }))
	assert.True(t, reload().WaitingSince.Equal(first.CreatedAt), "notes and status lines are not replies")

	post(models.Actor{User: agent}, models.MessageText, "On its way")
	assert.Nil(t, reload().WaitingSince, "a reply ends the wait")

	again := post(models.Actor{Customer: cust}, models.MessageText, "Thanks, and another thing")
	require.NotNil(t, reload().WaitingSince)
	assert.True(t, reload().WaitingSince.Equal(again.CreatedAt), "a new wait starts at the first message after the reply")

	// The widget's path (PostVisitorMessage) keeps it the same way.
	v, vc := factory.Customer(t, db)
	wc, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, vc, "From the widget", models.SessionInfo{})
	})
	require.NoError(t, err)
	since := *wc.WaitingSince
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostVisitorMessage(ctx, tx, v, wc, "Hello?", models.PostOpts{})
	})
	require.NoError(t, err)
	got, err := models.FindConversationForVisitor(ctx, db, v, wc.PublicID)
	require.NoError(t, err)
	assert.True(t, got.WaitingSince.Equal(since))
}

func TestSetWaitingThresholds(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	s, err := models.GetSettings(ctx, db)
	require.NoError(t, err)
	assert.Equal(t, models.DefaultWaiting, s.Waiting(), "defaults: 2 and 5 minutes")

	bad := []struct {
		in    models.WaitingInput
		field string
		code  string
	}{
		{models.WaitingInput{Amber: "5", Red: "2"}, "waiting_red", "waiting_order"},
		{models.WaitingInput{Amber: "3", Red: "3"}, "waiting_red", "waiting_order"},
		{models.WaitingInput{Amber: "-1", Red: "3"}, "waiting_amber", "waiting_range"},
		{models.WaitingInput{Amber: "1", Red: "-3"}, "waiting_red", "waiting_range"},
		{models.WaitingInput{Amber: "two", Red: "5"}, "waiting_amber", "waiting_range"},
		{models.WaitingInput{Amber: "1", Red: ""}, "waiting_red", "waiting_range"},
		{models.WaitingInput{Amber: "1", Red: "100000"}, "waiting_red", "waiting_range"},
	}
	set := func(in models.WaitingInput) error {
		return factory.Write(db, func(tx models.Tx) error { return models.SetWaitingThresholds(ctx, tx, in) })
	}
	settingsEvents := func() (n int64) {
		require.NoError(t, db.Raw("SELECT count(*) FROM events WHERE kind = ?", models.EventSettings).Scan(&n).Error)
		return n
	}
	for _, c := range bad {
		err := set(c.in)
		assert.Equal(t, c.code, fieldCode(t, err, c.field), "%+v", c.in)
	}
	s, err = models.GetSettings(ctx, db)
	require.NoError(t, err)
	assert.Equal(t, models.DefaultWaiting, s.Waiting(), "nothing stored")
	assert.Zero(t, settingsEvents(), "nothing recorded")

	require.NoError(t, set(models.WaitingInput{Amber: " 0 ", Red: "10"}))
	s, err = models.GetSettings(ctx, db)
	require.NoError(t, err)
	assert.Equal(t, models.WaitingThresholds{Amber: 0, Red: 10 * time.Minute}, s.Waiting())
	assert.Equal(t, int64(1), settingsEvents(), "a settings event: every instance drops its copy of the settings")
}

func TestInboxQueryWaitingRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		q    models.InboxQuery
		want string
	}{
		{models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterUnanswered}, "filter=unanswered&list=customers"},
		{models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterAll, Sort: models.SortWaiting,
			Before: &models.InboxCursor{At: cursorAt, ID: 7}}, "before=1772600767123456-7&list=customers&sort=waiting"},
		{models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterUnassigned, Sort: models.SortWaiting,
			Before: &models.InboxCursor{ID: 9}}, "before=inf-9&filter=unassigned&list=customers&sort=waiting"},
		{models.InboxQuery{Section: models.SectionMine, Status: models.StatusOpen, Filter: models.FilterAll, Sort: models.SortWaiting}, "list=mine&sort=waiting"},
	}
	for _, c := range cases {
		v := c.q.Values()
		assert.Equal(t, c.want, v.Encode())
		got, err := models.ParseInboxQuery(v)
		require.NoError(t, err, c.want)
		assert.Equal(t, c.q, got, c.want)
	}
	// Unknown sorts fall back to newest activity; "inf" is the waiting
	// sort's cursor alone.
	v, _ := url.ParseQuery("list=customers&sort=bogus&filter=unanswered")
	got, err := models.ParseInboxQuery(v)
	require.NoError(t, err)
	assert.Equal(t, models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterUnanswered}, got)
	v, _ = url.ParseQuery("list=customers&before=inf-3")
	_, err = models.ParseInboxQuery(v)
	assert.ErrorIs(t, err, models.ErrBadCursor)
	// The stream keeps the sort.
	p := models.ParseStreamParams(models.StreamParams{View: models.ViewInbox, List: c0(cases[1].q)}.Values())
	assert.Equal(t, models.SortWaiting, p.List.Sort)
}

func c0(q models.InboxQuery) models.InboxQuery { q.Before = nil; return q }

// The waiting sort lists the longest waits first, then the conversations
// nobody waits on, and pages by keyset through both; the unanswered filter
// keeps the waiting ones.
func TestListInboxWaitingSortAndFilter(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	var convs []*models.Conversation
	for range 5 {
		_, c, _ := factory.Conversation(t, db, factory.ConversationOpts{})
		convs = append(convs, c)
	}
	// Answer 1 and 3; then 0 writes again (its wait is still the oldest).
	for _, i := range []int{1, 3} {
		_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, models.Actor{User: agent}, convs[i], models.MessageText, "Hi")
		})
		require.NoError(t, err)
	}
	// Make the waits distinct and out of creation order: 4 waited longest.
	base := time.Now().Add(-time.Hour)
	for i, age := range map[int]time.Duration{0: 10, 2: 5, 4: 30} {
		require.NoError(t, db.Exec("UPDATE conversations SET waiting_since = ? WHERE id = ?", base.Add(-age*time.Minute), convs[i].ID).Error)
	}
	ids := func(rows []models.InboxRow) []int64 {
		var out []int64
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	q := models.InboxQuery{Viewer: agent, Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterAll, Sort: models.SortWaiting, Limit: 2}
	var all []int64
	for range 4 {
		rows, err := models.ListInbox(ctx, db, q)
		require.NoError(t, err)
		all = append(all, ids(rows)...)
		if len(rows) < q.Limit {
			break
		}
		cur := rows[len(rows)-1].CursorIn(q.Sort)
		// Through the link's encoding, as a browser would.
		q.Before, err = models.ParseInboxCursor(cur.String())
		require.NoError(t, err)
	}
	assert.Equal(t, []int64{convs[4].ID, convs[0].ID, convs[2].ID, convs[1].ID, convs[3].ID}, all)

	q = models.InboxQuery{Viewer: agent, Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterUnanswered}
	rows, err := models.ListInbox(ctx, db, q)
	require.NoError(t, err)
	assert.ElementsMatch(t, []int64{convs[0].ID, convs[2].ID, convs[4].ID}, ids(rows))
	for i := range rows {
		assert.True(t, q.Holds(&rows[i]))
	}
	answered, err := models.InboxRowFor(ctx, db, agent, convs[1].ID)
	require.NoError(t, err)
	assert.False(t, q.Holds(answered), "a reply takes a row out of the unanswered filter")
}
