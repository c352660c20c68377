package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/internal/wait"
	"github.com/parleydesk/parley/models"
)

// The Participants journey: a customer writes from the widget; agent Ana
// invites Bo, who is notified, and "Bo joined" shows live in Ana's desk and
// in the widget; Cy joins hidden: the widget shows no line, and Cy's reply
// reaches it under the desk's name; Bo leaves: "Bo left" in both.
func TestBrowserParticipantsJourney(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	ctx := context.Background()
	host := hostSite(t, e.srv.URL)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{DeskName: "Acme Support", BrandColor: "#0f766e", AllowedOrigins: host.URL})
	}))
	e.user("Ana Agent", "ana@example.com", models.RoleAgent, true)
	bo := e.user("Bo Buddy", "bo@example.com", models.RoleAgent, true)
	e.user("Cy Shadow", "cy@example.com", models.RoleAgent, true)

	// The customer starts a conversation in the widget.
	widget := browsertest.Tab(t, 120*time.Second)
	defer keepScreenshot(t, widget)
	require.NoError(t, chromedp.Do(widget,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	in := frameNode(t, widget)
	require.NoError(t, chromedp.Do(widget,
		chromedp.WaitVisible(chromedp.ID("w-start-body"), in),
		browsertest.Type("#w-start-body", "My parcel never arrived", inWidget),
		pressEnter,
		chromedp.WaitVisible(chromedp.CSS("#w-thread .w-msg-mine"), in),
	))
	var pid string
	require.NoError(t, e.db.Raw("SELECT public_id::text FROM conversations ORDER BY id DESC LIMIT 1").Scan(&pid).Error)
	convURL := e.srv.URL + "/conversations/" + pid

	tabB := deskTabFor(t, e, "bo@example.com", 120*time.Second)
	require.NoError(t, chromedp.Do(tabB, chromedp.Navigate(e.srv.URL+"/mine"), chromedp.WaitVisible(chromedp.CSS("#desk-stream"))))
	tabA := deskTabFor(t, e, "ana@example.com", 120*time.Second)
	require.NoError(t, chromedp.Do(tabA,
		chromedp.Navigate(convURL),
		chromedp.WaitVisible(chromedp.CSS("#conv-participants .participant-customer")),
		// Ana invites Bo.
		browsertest.SetValue("#f-invite", fmt.Sprint(bo.ID)),
		browsertest.Click("#participants-invite"),
	))
	// Ana's desk shows it live, in the thread and the panel.
	waitText(t, tabA, "#messages", "Bo Buddy joined the conversation (invited by Ana Agent)")
	waitText(t, tabA, "#conv-participants", "Bo Buddy")
	// Bo is told (the notify job): his bell counts it, live.
	wait.For(t, 30*time.Second, func() bool {
		var n int64
		require.NoError(t, e.db.Raw("SELECT count(*) FROM notifications WHERE user_id = ? AND reason = ?", bo.ID, models.ReasonInvited).Scan(&n).Error)
		return n == 1
	}, "Bo's invitation")
	unread, err := models.CountUnreadNotifications(ctx, e.db, bo)
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tabB, until(fmt.Sprintf(`document.getElementById('nav-notif-count').dataset.count === '%d'`, unread))))
	// The widget shows the line too, without who invited Bo.
	line := waitText(t, widget, "#w-thread", "Bo Buddy joined the conversation", in)
	assert.NotContains(t, line, "Ana")

	// Cy joins hidden: Ana's desk says so, the widget shows nothing.
	tabC := deskTabFor(t, e, "cy@example.com", 120*time.Second)
	require.NoError(t, chromedp.Do(tabC,
		chromedp.Navigate(convURL),
		chromedp.WaitVisible(chromedp.ID("participants-join-hidden")),
		browsertest.Click("#participants-join-hidden"),
		chromedp.WaitVisible(chromedp.ID("participants-leave")),
	))
	waitText(t, tabA, "#messages", "Cy Shadow joined hidden")
	waitText(t, tabA, "#conv-participants .participant-hidden", "Hidden")
	// Cy's reply reaches the widget under the desk's name.
	require.NoError(t, chromedp.Do(tabC,
		browsertest.Type("#f-body", "We are on it.\r"),
		until(`document.getElementById('f-body').value === ''`),
	))
	waitText(t, widget, "#w-thread .w-msg-team", "We are on it.", in)
	author, err := chromedp.Run(widget, browsertest.Text("#w-thread .w-msg-team .w-msg-author", inWidget))
	require.NoError(t, err)
	assert.Equal(t, "Acme Support", author)
	waitText(t, tabA, "#messages", "We are on it.")

	// Bo leaves: both say so.
	require.NoError(t, chromedp.Do(tabB,
		chromedp.Navigate(convURL),
		chromedp.WaitVisible(chromedp.ID("participants-leave")),
		browsertest.Click("#participants-leave"),
		chromedp.WaitVisible(chromedp.ID("participants-join")),
	))
	waitText(t, tabA, "#messages", "Bo Buddy left the conversation")
	waitText(t, widget, "#w-thread", "Bo Buddy left the conversation", in)

	// Nothing of Cy ever reached the widget.
	thread, err := chromedp.Run(widget, browsertest.Text("#w-thread", inWidget))
	require.NoError(t, err)
	assert.NotContains(t, thread, "Cy")
	assert.Equal(t, 2, strings.Count(thread, "Bo Buddy"), "Bo's two lines: %s", thread)
}
