package models_test

import (
	"context"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// The clock: the first-response target until the first answer, the
// next-response target after; a team's targets override the desk's one by
// one; no wait, no target, a closed or internal conversation: no clock.
func TestSLAClock(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)
	answered := since.Add(-time.Hour)
	team, other := int64(7), int64(8)
	p := models.SLAPolicy{
		Desk:  models.SLAMinutes{First: ptr(10), Next: ptr(30)},
		Teams: map[int64]models.SLAMinutes{team: {First: ptr(5)}},
	}
	conv := func(team *int64, first *time.Time) *models.Conversation {
		return &models.Conversation{Kind: models.KindCustomer, Status: models.StatusOpen, WaitingSince: &since, TeamID: team, FirstResponseAt: first}
	}
	cases := []struct {
		name   string
		conv   *models.Conversation
		target string
		limit  time.Duration
	}{
		{"no team, first", conv(nil, nil), models.SLAFirst, 10 * time.Minute},
		{"no team, next", conv(nil, &answered), models.SLANext, 30 * time.Minute},
		{"team's own first", conv(&team, nil), models.SLAFirst, 5 * time.Minute},
		{"team without next: the desk's", conv(&team, &answered), models.SLANext, 30 * time.Minute},
		{"team without targets", conv(&other, nil), models.SLAFirst, 10 * time.Minute},
	}
	for _, c := range cases {
		clock, ok := p.Clock(c.conv)
		require.True(t, ok, c.name)
		assert.Equal(t, c.target, clock.Target, c.name)
		assert.Equal(t, c.limit, clock.Limit, c.name)
		assert.True(t, clock.Due.Equal(since.Add(c.limit)), c.name)
		assert.Equal(t, c.limit-time.Minute, clock.Left(since.Add(time.Minute)), c.name)
		assert.False(t, clock.Breached(since.Add(c.limit-time.Second)), c.name)
		assert.True(t, clock.Breached(since.Add(c.limit)), c.name)
		assert.Equal(t, -time.Minute, clock.Left(since.Add(c.limit+time.Minute)), c.name+": overdue")
	}

	none := []*models.Conversation{
		{Kind: models.KindCustomer, Status: models.StatusOpen},                                      // nobody waits
		{Kind: models.KindCustomer, Status: models.StatusClosed, WaitingSince: &since},              // closed
		{Kind: models.KindInternal, Status: models.StatusOpen, WaitingSince: &since},                // teammates
		{Kind: models.KindCustomer, Status: models.StatusOpen, WaitingSince: &since, TeamID: &team}, // see below
	}
	for i, c := range none[:3] {
		_, ok := p.Clock(c)
		assert.False(t, ok, i)
	}
	_, ok := (models.SLAPolicy{}).Clock(none[3])
	assert.False(t, ok, "no target anywhere")
	_, ok = (models.SLAPolicy{Desk: models.SLAMinutes{Next: ptr(5)}}).Clock(none[3])
	assert.False(t, ok, "no first-response target")
}

// first_response_at is the first agent reply to a waiting customer: notes
// and status lines are not answers; later replies keep it.
func TestFirstResponseAt(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	cust, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{})
	reload := func() *models.Conversation {
		t.Helper()
		c, err := models.FindConversationForCustomer(ctx, db, cust.ID, conv.PublicID)
		require.NoError(t, err)
		return c
	}
	post := func(actor models.Actor, kind, body string) *models.Message {
		t.Helper()
		m, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, actor, reload(), kind, body)
		})
		require.NoError(t, err)
		return m
	}
	assert.Nil(t, reload().FirstResponseAt)
	post(models.Actor{User: agent}, models.MessageNote, "Looking")
	assert.Nil(t, reload().FirstResponseAt, "a note is no answer")
	reply := post(models.Actor{User: agent}, models.MessageText, "Hello!")
	require.NotNil(t, reload().FirstResponseAt)
	assert.True(t, reload().FirstResponseAt.Equal(reply.CreatedAt))
	post(models.Actor{Customer: cust}, models.MessageText, "And?")
	post(models.Actor{User: agent}, models.MessageText, "Done")
	assert.True(t, reload().FirstResponseAt.Equal(reply.CreatedAt), "kept by later replies")
}

func TestSetSLATargets(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := factory.User(t, db, factory.UserOpts{Role: models.RoleAdmin})
	team, err := models.CreateTeam(ctx, db, "Billing")
	require.NoError(t, err)
	set := func(in models.SLAInput) error {
		return factory.Write(db, func(tx models.Tx) error { return models.SetSLATargets(ctx, tx, admin, in) })
	}
	require.NoError(t, set(models.SLAInput{First: "15", Next: "60"}))
	require.NoError(t, set(models.SLAInput{Team: itoa(team.ID), First: " 5 ", Next: ""}))
	p, err := models.LoadSLAPolicy(ctx, db)
	require.NoError(t, err)
	assert.Equal(t, models.SLATargets{First: 15 * time.Minute, Next: time.Hour}, p.For(nil))
	assert.Equal(t, models.SLATargets{First: 5 * time.Minute, Next: time.Hour}, p.For(&team.ID))
	var events int
	require.NoError(t, db.Raw("SELECT count(*) FROM events WHERE kind = ?", models.EventSLATargets).Scan(&events).Error)
	assert.Equal(t, 2, events, "each change is a typed event")

	bad := []struct {
		in    models.SLAInput
		field string
		code  string
	}{
		{models.SLAInput{First: "-1"}, "sla_first", "sla_range"},
		{models.SLAInput{First: "0"}, "sla_first", "sla_range"},
		{models.SLAInput{Next: "1.5"}, "sla_next", "sla_range"},
		{models.SLAInput{Next: "10081"}, "sla_next", "sla_range"},
		{models.SLAInput{Next: "ten"}, "sla_next", "sla_range"},
		{models.SLAInput{Team: "999999", First: "3"}, "team", "sla_team_unknown"},
		{models.SLAInput{Team: "x", First: "3"}, "team", "sla_team_unknown"},
		{models.SLAInput{Team: "-4", First: "3"}, "team", "sla_team_unknown"},
	}
	for _, b := range bad {
		assert.Equal(t, b.code, fieldCode(t, set(b.in), b.field), b.in)
	}
	again, err := models.LoadSLAPolicy(ctx, db)
	require.NoError(t, err)
	assert.Equal(t, p, again, "nothing stored")
	require.NoError(t, db.Raw("SELECT count(*) FROM events WHERE kind = ?", models.EventSLATargets).Scan(&events).Error)
	assert.Equal(t, 2, events, "no event for a refused change")

	require.NoError(t, set(models.SLAInput{}))
	p, err = models.LoadSLAPolicy(ctx, db)
	require.NoError(t, err)
	assert.Equal(t, models.SLATargets{First: 5 * time.Minute}, p.For(&team.ID), "the desk's targets cleared")
}

// A breach is recorded, announced and notified once per wait, however many
// checks run, concurrently or again; a new wait can breach again (the
// next-response target). The assignee and the team's support agents hear
// of it; nobody else.
func TestRecordBreachesExactlyOnce(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := factory.User(t, db, factory.UserOpts{Role: models.RoleAdmin})
	assignee := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	mate := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	noSupport := factory.User(t, db, factory.UserOpts{})
	outsider := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	team, err := models.CreateTeam(ctx, db, "Tier 1")
	require.NoError(t, err)
	for _, u := range []*models.User{assignee, mate, noSupport} {
		require.NoError(t, models.AddTeamMember(ctx, db, team.ID, u.ID))
	}
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.SetSLATargets(ctx, tx, admin, models.SLAInput{Team: itoa(team.ID), First: "10", Next: "30"})
	}))
	cust, conv, first := factory.Conversation(t, db, factory.ConversationOpts{})
	require.NoError(t, db.Exec("UPDATE conversations SET team_id = ? WHERE id = ?", team.ID, conv.ID).Error)
	reload := func() *models.Conversation {
		t.Helper()
		c, err := models.FindConversationForCustomer(ctx, db, cust.ID, conv.PublicID)
		require.NoError(t, err)
		return c
	}
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, admin, reload(), &assignee.ID) }))

	record := func(now time.Time) []models.SLABreach {
		t.Helper()
		bs, err := factory.Write1(db, func(tx models.Tx) ([]models.SLABreach, error) {
			return models.RecordBreaches(ctx, tx, now, 100)
		})
		require.NoError(t, err)
		return bs
	}
	since := first.CreatedAt
	assert.Empty(t, record(since.Add(10*time.Minute-time.Second)), "not due yet")

	// Many checks at once, at and after the due time: one breach.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []models.SLABreach
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bs, err := factory.Write1(db, func(tx models.Tx) ([]models.SLABreach, error) {
				return models.RecordBreaches(ctx, tx, since.Add(10*time.Minute+time.Duration(i)*time.Second), 100)
			})
			assert.NoError(t, err)
			mu.Lock()
			got = append(got, bs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	require.Len(t, got, 1, "one breach however many checks")
	b := got[0]
	assert.Equal(t, models.SLAFirst, b.Kind)
	assert.True(t, b.DueAt.Equal(since.Add(10*time.Minute)))
	assert.Equal(t, &team.ID, b.TeamID)
	assert.Equal(t, &assignee.ID, b.AssigneeID)
	assert.Empty(t, record(since.Add(time.Hour)), "a later check finds it recorded")

	var evs []models.Event
	require.NoError(t, db.Where("kind = ?", models.EventSLABreach).Order("id").Find(&evs).Error)
	require.Len(t, evs, 1, "announced once")
	require.Equal(t, models.SLABreachEvent{BreachID: b.ID, Target: models.SLAFirst, TeamID: &team.ID, AssigneeID: &assignee.ID, DueAt: evs[0].Data.(models.SLABreachEvent).DueAt}, evs[0].Data)

	// Its audience: the assignee and the team's support agents.
	auds, err := models.AudiencesOf(ctx, db, evs[0])
	require.NoError(t, err)
	require.Len(t, auds, 1)
	assert.Equal(t, models.ReasonSLABreach, auds[0].Reason)
	assert.ElementsMatch(t, []int64{assignee.ID, mate.ID}, auds[0].UserIDs, "not the member without customer data, not the outsider %d", outsider.ID)
	// The notify job, run twice (a retry), notifies each of them once.
	for range 2 {
		_, err := factory.Write1(db, func(tx models.Tx) (int, error) { return models.Notify(ctx, tx, evs[0], auds[0]) })
		require.NoError(t, err)
	}
	var bells []struct {
		UserID int64
		N      int
	}
	require.NoError(t, db.Raw("SELECT user_id, count(*) AS n FROM notifications WHERE reason = ? GROUP BY user_id ORDER BY user_id", models.ReasonSLABreach).Scan(&bells).Error)
	require.Len(t, bells, 2)
	for _, bell := range bells {
		assert.Equal(t, 1, bell.N)
	}

	// An answer ends the wait; the customer's next message starts a new
	// one, on the next-response target.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: assignee}, reload(), models.MessageText, "Sorry for the wait")
	})
	require.NoError(t, err)
	again, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: cust}, reload(), models.MessageText, "One more thing")
	})
	require.NoError(t, err)
	assert.Empty(t, record(again.CreatedAt.Add(29*time.Minute)))
	next := record(again.CreatedAt.Add(30 * time.Minute))
	require.Len(t, next, 1)
	assert.Equal(t, models.SLANext, next[0].Kind)
	assert.Empty(t, record(again.CreatedAt.Add(31*time.Minute)))

	// A closed conversation, or one without a target, never breaches.
	_, closed, _ := factory.Conversation(t, db, factory.ConversationOpts{})
	require.NoError(t, db.Exec("UPDATE conversations SET status = 'closed', closed_at = now() WHERE id = ?", closed.ID).Error)
	assert.Empty(t, record(time.Now().Add(24*time.Hour)), "the desk has no default target; the closed one is closed")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The report's figures per day, per team and in total: volume by day of
// creation, median first response over the answered ones, median
// resolution by day of closing, breaches by day due; the range and team
// filter what counts.
func TestReportAggregates(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	a, err := models.CreateTeam(ctx, db, "A")
	require.NoError(t, err)
	b, err := models.CreateTeam(ctx, db, "B")
	require.NoError(t, err)
	d1 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	d2 := d1.AddDate(0, 0, 1)
	mk := func(team *int64, created time.Time, first, closed time.Duration) int64 {
		t.Helper()
		_, c, _ := factory.Conversation(t, db, factory.ConversationOpts{})
		var fr, cl any
		status := "open"
		if first > 0 {
			fr = created.Add(first)
		}
		if closed > 0 {
			cl, status = created.Add(closed), "closed"
		}
		require.NoError(t, db.Exec("UPDATE conversations SET team_id = ?, created_at = ?, first_response_at = ?, closed_at = ?, status = ? WHERE id = ?",
			team, created, fr, cl, status, c.ID).Error)
		return c.ID
	}
	c1 := mk(&a.ID, d1.Add(time.Hour), 2*time.Minute, 3*time.Hour)
	mk(&a.ID, d1.Add(2*time.Hour), 4*time.Minute, 0)
	mk(&b.ID, d1.Add(3*time.Hour), 6*time.Minute, 24*time.Hour) // closed on d2
	mk(nil, d2.Add(time.Hour), 0, 0)
	mk(nil, d2.AddDate(0, 0, 5), time.Minute, 0) // outside the range
	require.NoError(t, db.Exec(`INSERT INTO sla_breaches (conversation_id, kind, waiting_since, due_at, team_id)
		VALUES (?, 'first', ?, ?, ?), (?, 'next', ?, ?, ?)`,
		c1, d1, d1.Add(10*time.Minute), a.ID, c1, d2, d2.Add(time.Hour), a.ID).Error)

	q, err := models.ParseReportQuery(ctx, db, url.Values{"from": {"2026-05-01"}, "to": {"2026-05-02"}}, time.Now())
	require.NoError(t, err)
	r, err := models.LoadReport(ctx, db, q)
	require.NoError(t, err)
	require.Len(t, r.Days, 2)
	assert.Equal(t, models.ReportStats{Volume: 3, FirstCount: 3, FirstMedian: 4 * time.Minute, Resolved: 1, ResolveMedian: 3 * time.Hour, Breaches: 1}, r.Days[0].ReportStats)
	assert.Equal(t, models.ReportStats{Volume: 1, Resolved: 1, ResolveMedian: 24 * time.Hour, Breaches: 1}, r.Days[1].ReportStats)
	assert.Equal(t, models.ReportStats{Volume: 4, FirstCount: 3, FirstMedian: 4 * time.Minute, Resolved: 2, ResolveMedian: (3*time.Hour + 24*time.Hour) / 2, Breaches: 2}, r.Total)
	byName := map[string]models.ReportStats{}
	for _, tm := range r.Teams {
		byName[tm.Name] = tm.ReportStats
	}
	assert.Equal(t, models.ReportStats{Volume: 2, FirstCount: 2, FirstMedian: 3 * time.Minute, Resolved: 1, ResolveMedian: 3 * time.Hour, Breaches: 2}, byName["A"])
	assert.Equal(t, models.ReportStats{Volume: 1, FirstCount: 1, FirstMedian: 6 * time.Minute, Resolved: 1, ResolveMedian: 24 * time.Hour}, byName["B"])
	assert.Equal(t, models.ReportStats{Volume: 1}, byName[""], "no team")

	q.Team = b.ID
	r, err = models.LoadReport(ctx, db, q)
	require.NoError(t, err)
	require.Len(t, r.Teams, 1)
	assert.Equal(t, models.ReportStats{Volume: 1, FirstCount: 1, FirstMedian: 6 * time.Minute, Resolved: 1, ResolveMedian: 24 * time.Hour}, r.Total)

	// Bad parameters: the field at fault.
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v     url.Values
		field string
		code  string
	}{
		{url.Values{"from": {"2026-05-03"}, "to": {"2026-05-01"}}, "to", "report_order"},
		{url.Values{"from": {"2024-01-01"}, "to": {"2026-05-01"}}, "to", "report_too_long"},
		{url.Values{"from": {"May 1"}}, "from", "report_date"},
		{url.Values{"team": {"424242"}}, "team", "sla_team_unknown"},
		{url.Values{"team": {"x"}}, "team", "sla_team_unknown"},
		{url.Values{"colour": {"red"}}, "from", "report_unknown"},
	} {
		_, err := models.ParseReportQuery(ctx, db, c.v, now)
		assert.Equal(t, c.code, fieldCode(t, err, c.field), c.v)
	}
	q, err = models.ParseReportQuery(ctx, db, url.Values{}, now)
	require.NoError(t, err)
	assert.Equal(t, "2026-04-11", q.Values().Get("from"), "the last 30 days by default")
	assert.Equal(t, "2026-05-10", q.Values().Get("to"))
}
