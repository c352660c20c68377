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

func day(s string) *time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestSessionReportQueryRoundTrip(t *testing.T) {
	t.Parallel()
	q := models.SessionReportQuery{From: day("2026-11-01"), To: day("2026-11-30"), Agent: 7, Team: 3, Channel: models.ChannelKey,
		Before: &models.InboxCursor{At: time.UnixMicro(1_700_000_000_000_001).UTC(), ID: 42}}
	got, err := models.ParseSessionReportQuery(q.Values())
	require.NoError(t, err)
	assert.Equal(t, q, got)
	empty, err := models.ParseSessionReportQuery(url.Values{"from": {""}, "agent": {" "}})
	require.NoError(t, err)
	assert.Equal(t, models.SessionReportQuery{}, empty)
	assert.Empty(t, q.WithoutPage().Values().Get("before"))
}

func TestSessionReportQueryBadInput(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		v           url.Values
		field, code string
	}{
		"bad date":       {url.Values{"from": {"2026-13-01"}}, "from", "report_bad_date"},
		"not a date":     {url.Values{"to": {"yesterday"}}, "to", "report_bad_date"},
		"year 0":         {url.Values{"to": {"0000-01-01"}}, "to", "report_bad_date"},
		"dates reversed": {url.Values{"from": {"2026-11-02"}, "to": {"2026-11-01"}}, "to", "report_dates_order"},
		"agent not id":   {url.Values{"agent": {"ann"}}, "agent", "report_unknown_agent"},
		"team negative":  {url.Values{"team": {"-1"}}, "team", "report_unknown_team"},
		"channel":        {url.Values{"channel": {"internal"}}, "channel", "report_bad_channel"},
		"cursor":         {url.Values{"before": {"x-1"}}, "report", "report_bad_cursor"},
		"unknown":        {url.Values{"sort": {"x"}}, "report", "report_unknown_param"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := models.ParseSessionReportQuery(tc.v)
			assert.Equal(t, tc.code, fieldCode(t, err, tc.field))
		})
	}
}

func TestSessionReport(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	bob := mkSupport(t, db, "bob@example.com")
	admin := mkUser(t, db, "admin@example.com", models.RoleAdmin)
	plain := mkSupport(t, db, "plain@example.com")
	team, err := models.CreateTeam(ctx, db, "Tier 2")
	require.NoError(t, err)
	now := time.Now()

	// A widget chat, taken by ann, in team Tier 2, closed after 10 minutes.
	_, widget, _ := factory.Conversation(t, db, factory.ConversationOpts{Body: "Hi"})
	require.NoError(t, db.Exec(`UPDATE conversations SET assignee_id = ?, team_id = ?, created_at = '2026-11-02 10:00Z',
		status = 'closed', closed_at = '2026-11-02 10:10Z' WHERE id = ?`, ann.ID, team.ID, widget.ID).Error)
	// Ann's session joined with the key, ended 25 minutes later.
	mkSession := func(agent *models.User, created string) (*models.SupportSession, *models.Conversation) {
		s, conv, err := factory.Write2(db, func(tx models.Tx) (*models.SupportSession, *models.Conversation, error) {
			return models.CreateSupportSession(ctx, tx, agent, "", now)
		})
		require.NoError(t, err)
		require.NoError(t, db.Exec("UPDATE conversations SET created_at = ? WHERE id = ?", created, conv.ID).Error)
		return s, conv
	}
	s1, keyed := mkSession(ann, "2026-11-03 09:00Z")
	_, _, err = factory.Write2(db, func(tx models.Tx) (string, *models.Conversation, error) {
		return models.RedeemSupportKey(ctx, tx, s1.Key, models.ChannelKey, models.SessionInfo{}, now)
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.EndSupportSession(ctx, tx, ann, keyed) }))
	require.NoError(t, db.Exec("UPDATE support_sessions SET joined_at = '2026-11-03 09:05Z', ended_at = '2026-11-03 09:30Z' WHERE id = ?", s1.ID).Error)
	// Bob's session joined through its link, still going on.
	s2, linked := mkSession(bob, "2026-11-03 11:00Z")
	_, _, err = factory.Write2(db, func(tx models.Tx) (string, *models.Conversation, error) {
		return models.RedeemSupportKey(ctx, tx, s2.Key, models.ChannelLink, models.SessionInfo{}, now)
	})
	require.NoError(t, err)
	// Bob's session nobody joined.
	_, waiting := mkSession(bob, "2026-11-05 08:00Z")
	// A teammate chat is no session.
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, ann, []int64{bob.ID}, "lunch?")
	})
	require.NoError(t, err)

	ids := func(rows []models.SessionRow) []int64 {
		var out []int64
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	list := func(q models.SessionReportQuery) []int64 {
		t.Helper()
		p, err := models.ListSessionReport(ctx, db, admin, q, 0)
		require.NoError(t, err)
		return ids(p.Rows)
	}

	all, err := models.ListSessionReport(ctx, db, admin, models.SessionReportQuery{}, 0)
	require.NoError(t, err)
	assert.Equal(t, []int64{waiting.ID, linked.ID, keyed.ID, widget.ID}, ids(all.Rows), "newest first, no teammate chat")
	assert.Nil(t, all.Next)
	byID := map[int64]*models.SessionRow{}
	for i := range all.Rows {
		byID[all.Rows[i].ID] = &all.Rows[i]
	}
	w := byID[widget.ID]
	assert.Equal(t, "widget", w.Channel)
	assert.Equal(t, ann.Name, w.AgentName)
	assert.Equal(t, "Tier 2", w.TeamName)
	d, ok := w.Duration()
	assert.True(t, ok)
	assert.Equal(t, 10*time.Minute, d)
	k := byID[keyed.ID]
	assert.Equal(t, "key", k.Channel)
	assert.Equal(t, s1.Key, k.Key)
	d, ok = k.Duration()
	assert.True(t, ok)
	assert.Equal(t, 25*time.Minute, d, "from joining to the end")
	assert.Equal(t, "ended", k.State(now))
	l := byID[linked.ID]
	assert.Equal(t, "link", l.Channel)
	_, ok = l.Duration()
	assert.False(t, ok, "still going on")
	assert.Equal(t, "ongoing", l.State(now))
	assert.Equal(t, "waiting", byID[waiting.ID].State(now))
	assert.Equal(t, "expired", byID[waiting.ID].State(now.Add(time.Hour)))

	// Filters.
	assert.Equal(t, []int64{waiting.ID, keyed.ID}, list(models.SessionReportQuery{Channel: models.ChannelKey}), "a session nobody joined yet is awaited on the key channel")
	assert.Equal(t, []int64{linked.ID}, list(models.SessionReportQuery{Channel: models.ChannelLink}))
	assert.Equal(t, []int64{widget.ID}, list(models.SessionReportQuery{Channel: models.ChannelWidget}))
	assert.Equal(t, []int64{waiting.ID, linked.ID}, list(models.SessionReportQuery{Agent: bob.ID}))
	assert.Equal(t, []int64{widget.ID}, list(models.SessionReportQuery{Team: team.ID}))
	assert.Equal(t, []int64{linked.ID, keyed.ID}, list(models.SessionReportQuery{From: day("2026-11-03"), To: day("2026-11-03")}), "to is inclusive")
	assert.Equal(t, []int64{waiting.ID, linked.ID, keyed.ID}, list(models.SessionReportQuery{From: day("2026-11-03")}))
	assert.Equal(t, []int64{keyed.ID, widget.ID}, list(models.SessionReportQuery{Agent: ann.ID, To: day("2026-11-04")}))
	assert.Empty(t, list(models.SessionReportQuery{Agent: ann.ID, Channel: models.ChannelLink}))

	// Keyset paging: two pages of two, then nothing lost or repeated.
	p1, err := models.ListSessionReport(ctx, db, admin, models.SessionReportQuery{}, 2)
	require.NoError(t, err)
	require.NotNil(t, p1.Next)
	p2, err := models.ListSessionReport(ctx, db, admin, models.SessionReportQuery{Before: p1.Next}, 2)
	require.NoError(t, err)
	assert.Equal(t, ids(all.Rows), append(ids(p1.Rows), ids(p2.Rows)...))
	assert.Nil(t, p2.Next)

	// The export walks every page in batches.
	var each []int64
	require.NoError(t, models.EachSessionReportRow(ctx, db, admin, models.SessionReportQuery{Before: p1.Next}, 1, func(r *models.SessionRow) error {
		each = append(each, r.ID)
		return nil
	}))
	assert.Equal(t, ids(all.Rows), each, "from the first page whatever the cursor")

	// Totals per day, zeros included, over the range asked for.
	ch, err := models.SessionTotalsPerDay(ctx, db, admin, models.SessionReportQuery{From: day("2026-11-01"), To: day("2026-11-05")}, now)
	require.NoError(t, err)
	var counts []int
	for _, d := range ch.Days {
		counts = append(counts, d.Count)
	}
	assert.Equal(t, []int{0, 1, 2, 0, 1}, counts)
	assert.Equal(t, 2, ch.Max)
	assert.Equal(t, 4, ch.Total)
	assert.Equal(t, *day("2026-11-01"), ch.Days[0].Day)
	ch, err = models.SessionTotalsPerDay(ctx, db, admin, models.SessionReportQuery{From: day("2026-11-01"), To: day("2026-11-05"), Agent: bob.ID}, now)
	require.NoError(t, err)
	assert.Equal(t, 2, ch.Total, "the chart follows the filters")
	ch, err = models.SessionTotalsPerDay(ctx, db, admin, models.SessionReportQuery{From: day("2025-01-01"), To: day("2026-11-05")}, now)
	require.NoError(t, err)
	assert.True(t, ch.Clipped)
	assert.Len(t, ch.Days, models.MaxReportChartDays)
	assert.Equal(t, *day("2026-11-05"), ch.Days[len(ch.Days)-1].Day)
	ch, err = models.SessionTotalsPerDay(ctx, db, admin, models.SessionReportQuery{}, now)
	require.NoError(t, err)
	assert.Len(t, ch.Days, models.DefaultReportChartDays)

	// Unknown agents and teams are named, not an empty report.
	assert.Equal(t, "report_unknown_agent", fieldCode(t, models.CheckSessionReportFilters(ctx, db, models.SessionReportQuery{Agent: 999999}), "agent"))
	assert.Equal(t, "report_unknown_team", fieldCode(t, models.CheckSessionReportFilters(ctx, db, models.SessionReportQuery{Team: 999999}), "team"))
	require.NoError(t, models.CheckSessionReportFilters(ctx, db, models.SessionReportQuery{Agent: ann.ID, Team: team.ID}))

	// Access: admins, and agents an admin allowed.
	_, err = models.ListSessionReport(ctx, db, plain, models.SessionReportQuery{}, 0)
	assert.ErrorIs(t, err, models.ErrNotFound)
	assert.ErrorIs(t, models.EachSessionReportRow(ctx, db, plain, models.SessionReportQuery{}, 0, func(*models.SessionRow) error { return nil }), models.ErrNotFound)
	_, err = models.SessionTotalsPerDay(ctx, db, plain, models.SessionReportQuery{}, now)
	assert.ErrorIs(t, err, models.ErrNotFound)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetReportAccess(ctx, tx, plain.ID, true) }))
	plain, err = models.FindUser(ctx, db, plain.ID)
	require.NoError(t, err)
	assert.True(t, plain.CanViewReports)
	assert.True(t, models.CanViewReports(plain))
	_, err = models.ListSessionReport(ctx, db, plain, models.SessionReportQuery{}, 0)
	require.NoError(t, err)
	var access int64
	require.NoError(t, db.Model(&models.Event{}).Where("kind = ? AND user_id = ?", models.EventAccess, plain.ID).Count(&access).Error)
	assert.EqualValues(t, 1, access, "the change is an access event for the user's desks")
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetReportAccess(ctx, tx, plain.ID, true) }))
	require.NoError(t, db.Model(&models.Event{}).Where("kind = ? AND user_id = ?", models.EventAccess, plain.ID).Count(&access).Error)
	assert.EqualValues(t, 1, access, "no change, no event")
	assert.ErrorIs(t, factory.Write(db, func(tx models.Tx) error { return models.SetReportAccess(ctx, tx, 999999, true) }), models.ErrNotFound)
	plain.Active = false
	assert.False(t, models.CanViewReports(plain), "deactivated")
	assert.True(t, models.CanViewReports(admin))
	assert.False(t, models.CanViewReports(nil))
}
