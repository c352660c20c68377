package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/internal/wait"
	"github.com/parleydesk/parley/models"
)

// A transfer to a team that auto-assigns an online agent: Bo, in the Billing
// team, sets himself available from the desk header (his My teams roster
// says so, live); Ana transfers a customer conversation to Billing with a
// note; her desk shows the transfer, the note and "Assigned to Bo", live;
// the conversation appears live in Bo's My teams, and Bo is notified.
func TestBrowserTransferToTeamAutoAssigns(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	ctx := context.Background()
	e.user("Ana Agent", "ana@example.com", models.RoleAgent, true)
	bo := e.user("Bo Buddy", "bo@example.com", models.RoleAgent, true)
	team, err := models.CreateTeam(ctx, e.db, "Billing")
	require.NoError(t, err)
	require.NoError(t, models.AddTeamMember(ctx, e.db, team.ID, bo.ID))
	_, conv, _ := factory.Conversation(t, e.db, factory.ConversationOpts{Body: "I was charged twice"})

	// Bo, away by default, comes online from the header.
	tabB := deskTabFor(t, e, "bo@example.com", 120*time.Second)
	require.NoError(t, chromedp.Do(tabB,
		chromedp.Navigate(e.srv.URL+"/inbox?filter=teams"),
		chromedp.WaitVisible(chromedp.CSS("#desk-stream")),
		chromedp.WaitVisible(chromedp.CSS("#team-roster")),
		until(`document.querySelector('#my-availability button').dataset.availability === 'away'`),
		browsertest.Click("#my-availability button"),
		until(`document.querySelector('#my-availability button').dataset.availability === 'online'`),
	))
	waitText(t, tabB, fmt.Sprintf("#mate-%d .team-mate-state", bo.ID), "Available")

	// Ana transfers the conversation to Billing, with a note.
	tabA := deskTabFor(t, e, "ana@example.com", 120*time.Second)
	require.NoError(t, chromedp.Do(tabA,
		chromedp.Navigate(e.srv.URL+"/conversations/"+conv.PublicID),
		chromedp.WaitVisible(chromedp.CSS("#conv-transfer")),
		browsertest.SetValue("#f-transfer-to", fmt.Sprintf("team:%d", team.ID)),
		browsertest.Type("#f-transfer-note", "Refund the second charge please"),
		browsertest.Click("#transfer-submit"),
	))
	waitText(t, tabA, "#messages", "Ana Agent transferred the conversation to the Billing team")
	waitText(t, tabA, "#messages", "Refund the second charge please")
	waitText(t, tabA, "#messages", "Assigned to Bo Buddy (Billing team, next available agent)")
	waitText(t, tabA, "#conv-team", "Billing")
	require.NoError(t, chromedp.Do(tabA,
		until(fmt.Sprintf(`document.getElementById('f-assignee').value === '%d'`, bo.ID)),
		until(`document.getElementById('f-transfer-note').value === ''`),
	))

	// Bo's My teams shows it live, assigned to him, and his roster counts it.
	waitText(t, tabB, "#row-"+conv.PublicID+" .row-assignee", "Bo Buddy")
	waitText(t, tabB, "#row-"+conv.PublicID+" .row-team", "Billing")
	waitText(t, tabB, fmt.Sprintf("#mate-%d .team-mate-load", bo.ID), "1 open")
	// And he is told (the notify job), in his bell.
	wait.For(t, 30*time.Second, func() bool {
		var n int64
		require.NoError(t, e.db.Raw("SELECT count(*) FROM notifications WHERE user_id = ? AND reason = ?", bo.ID, models.ReasonAssigned).Scan(&n).Error)
		return n == 1
	}, "Bo's assignment notification")
	require.NoError(t, chromedp.Do(tabB, until(`document.getElementById('nav-notif-count').dataset.count === '1'`)))
}
