package app

import (
	"context"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/jobs"
	"github.com/parleydesk/parley/models"
)

// Issue 10's service-level journey: a waiting conversation assigned to Sue
// shows "First reply due in" on her inbox row, turning to "overdue" as the
// desk's clock passes the target (an explicit clock: clockOffset); when the
// wait really passes it, the sla_check job (run for real, with its notify
// follow-up) records the breach and Sue's bell rises, the popover naming
// the customer; her teammate is told too, once.
func TestBrowserServiceLevelBreach(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	ctx := context.Background()
	admin := e.user("Ada Admin", "ada@example.com", models.RoleAdmin, true)
	sue := e.user("Sue Support", "sue@example.com", models.RoleAgent, true)
	bob := e.user("Bob Backup", "bob@example.com", models.RoleAgent, true)
	team, err := models.CreateTeam(ctx, e.db, "Tier 1")
	require.NoError(t, err)
	require.NoError(t, models.AddTeamMember(ctx, e.db, team.ID, bob.ID))
	require.NoError(t, e.app.write(ctx, func(tx models.Tx) error {
		return models.SetSLATargets(ctx, tx, admin, models.SLAInput{Team: strconv.FormatInt(team.ID, 10), First: "10", Next: "30"})
	}))
	_, conv := e.customerConversation("Carla", "My parcel never arrived")
	require.NoError(t, e.db.Exec("UPDATE conversations SET team_id = ? WHERE id = ?", team.ID, conv.ID).Error)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, admin, conv, &sue.ID) }))
	e.waitJobs("notify")
	require.NoError(t, e.db.Exec("UPDATE notifications SET read_at = now()").Error)

	tab := deskTab(t, e, "sue@example.com")
	row := "#row-" + conv.PublicID + " .sla-clock"
	require.NoError(t, chromedp.Do(tab,
		chromedp.WaitVisible(chromedp.CSS(row)),
		until(`document.querySelector('`+row+`').classList.contains('sla-ok')`),
	))
	require.Contains(t, jsText(t, tab, `document.querySelector('`+row+`').textContent`), "First reply due in")
	require.True(t, jsBool(t, tab, `document.getElementById('nav-notif-count').hidden`), "nothing yet")

	// The desk's clock, 11 minutes on: overdue, in words and colour.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Evaluate[chromedp.Void](`window.ParleyDesk.clockOffset = 11 * 60 * 1000; window.ParleyDesk.tick()`),
		until(`document.querySelector('`+row+`').classList.contains('sla-over')`),
	))
	require.Contains(t, jsText(t, tab, `document.querySelector('`+row+`').textContent.replace(/\s+/g, ' ')`), "First reply overdue by 1 min")

	// The wait really passes the target; the check runs (twice: once is
	// what counts).
	require.NoError(t, e.db.Exec("UPDATE conversations SET waiting_since = now() - interval '11 minutes' WHERE id = ?", conv.ID).Error)
	for range 2 {
		require.NoError(t, models.Transaction(context.Background(), e.db, func(tx *gorm.DB) error {
			return e.app.InsertJobsTx(ctx, tx, []river.InsertManyParams{{Args: jobs.SLACheckArgs{}}})
		}))
		e.waitJobs("sla_check", "notify")
	}
	require.NoError(t, chromedp.Do(tab,
		until(`!document.getElementById('nav-notif-count').hidden && document.getElementById('nav-notif-count').textContent === '1'`),
		browsertest.Click("#nav-bell"),
		chromedp.WaitVisible(chromedp.CSS(`#notif-panel .notif-entry.is-unread`)),
	))
	require.Equal(t, "Carla has waited past the first-reply target", jsText(t, tab, `document.querySelector('#notif-panel .notif-headline').textContent`))

	var counts []struct {
		UserID int64
		N      int
	}
	require.NoError(t, e.db.Raw("SELECT user_id, count(*) AS n FROM notifications WHERE reason = ? GROUP BY user_id ORDER BY user_id",
		models.ReasonSLABreach).Scan(&counts).Error)
	require.Equal(t, []struct {
		UserID int64
		N      int
	}{{sue.ID, 1}, {bob.ID, 1}}, counts, "the assignee and the team, once each")
	var breaches int64
	require.NoError(t, e.db.Table("sla_breaches").Count(&breaches).Error)
	require.EqualValues(t, 1, breaches)
}
