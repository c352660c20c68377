package app

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// TestBrowserTypingAndSeen: with the visitor on one instance and the agent
// on another (one database), the agent types a reply and the widget shows
// "Sue Support is typing…"; the visitor types and the desk shows the
// customer typing; the visitor reads the reply and the desk shows "Seen"
// under it.
func TestBrowserTypingAndSeen(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	visitorSide := setup(t)
	agentSide := setup(t, envOpts{url: visitorSide.url})
	ctx := context.Background()
	host := hostSite(t, visitorSide.srv.URL)
	require.NoError(t, factory.Write(visitorSide.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{
			DeskName: "Acme Support", BrandColor: "#0f766e", AllowedOrigins: host.URL, DemoEnabled: true})
	}))
	agentSide.user("Sue Support", "sue@example.com", models.RoleAgent, true)
	desk := deskTab(t, agentSide, "sue@example.com")

	visitor := browserTabFor(t)
	require.NoError(t, chromedp.Do(visitor,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	in := frameNode(t, visitor)
	require.NoError(t, chromedp.Do(visitor,
		chromedp.WaitVisible(chromedp.ID("w-start-body"), in),
		browsertest.Type("#w-start-body", "Where is my parcel?", inWidget),
		pressEnter,
	))
	waitText(t, visitor, "#w-thread", "Where is my parcel?", in)

	var pid string
	require.NoError(t, agentSide.db.Table("conversations").Select("public_id").Take(&pid).Error)
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(agentSide.srv.URL+"/conversations/"+pid),
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-in`)),
		browsertest.Type("#f-body", "Let me check"),
	))
	waitText(t, visitor, "#w-typing", "Sue Support is typing…", in)

	require.NoError(t, chromedp.Do(visitor, browsertest.Type("#w-body", "Thanks", inWidget)))
	waitText(t, desk, "#conv-typing", "The customer is typing…")

	// The agent sends; the visitor (panel open, tab visible) reads it, and
	// the desk shows "Seen" under that reply.
	require.NoError(t, chromedp.Do(desk,
		browsertest.Type("#f-body", " right away.\r"),
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-out`)),
	))
	waitText(t, visitor, "#w-thread .w-msg-team", "right away.", in)
	require.NoError(t, chromedp.Do(desk, chromedp.WaitVisible(chromedp.CSS(`#messages .msg-out #conv-seen`))))
	waitText(t, desk, "#conv-seen", "Seen")
}
