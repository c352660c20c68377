package app

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// TestBrowserMessengerJourney is the messenger end to end, with the real
// widget and the real desk: a host page on another origin embeds the
// widget; a visitor writes; a signed-in support agent sees the conversation
// appear live and replies; the visitor sees the reply live; the agent closes
// it; the visitor writes again; it reappears in the agent's Open tab live,
// with the system line. It runs on one instance, and on two instances on one
// database with the visitor on one and the agent on the other.
func TestBrowserMessengerJourney(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	for _, instances := range []int{1, 2} {
		t.Run(map[int]string{1: "one instance", 2: "two instances"}[instances], func(t *testing.T) {
			t.Parallel()
			visitorSide := setup(t)
			agentSide := visitorSide
			if instances == 2 {
				agentSide = setup(t, envOpts{url: visitorSide.url})
			}
			ctx := context.Background()
			host := hostSite(t, visitorSide.srv.URL)
			require.NoError(t, factory.Write(visitorSide.db, func(tx models.Tx) error {
				return models.UpdateSettings(ctx, tx, models.SettingsInput{
					DeskName: "Acme Support", BrandColor: "#0f766e", AllowedOrigins: host.URL, DemoEnabled: true})
			}))
			agentSide.user("Sue Support", "sue@example.com", models.RoleAgent, true)

			desk := deskTab(t, agentSide, "sue@example.com")
			require.NoError(t, chromedp.Do(desk,
				chromedp.Navigate(agentSide.srv.URL+"/inbox"),
				chromedp.WaitVisible(chromedp.CSS(".inbox-empty")),
			))

			// The visitor, on the shop's own site, writes.
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
				browsertest.Type("#w-start-body", "My parcel never arrived", inWidget),
				pressEnter,
			))
			waitText(t, visitor, "#w-thread", "My parcel never arrived", in)

			// It appears live in the agent's inbox; the agent answers.
			require.NoError(t, chromedp.Do(desk,
				chromedp.WaitVisible(chromedp.CSS(`#inbox-rows .inbox-row.is-unread`)),
				chromedp.WaitVisible(chromedp.CSS(`#toasts .desk-alert`)),
			))
			waitText(t, desk, `#inbox-rows .inbox-row`, "My parcel never arrived")
			require.NoError(t, chromedp.Do(desk,
				browsertest.Click(`#inbox-rows .inbox-row`),
				chromedp.WaitVisible(chromedp.CSS(`#messages .msg-in`)),
				browsertest.Type("#f-body", "Sorry! It ships today.\r"),
				chromedp.WaitVisible(chromedp.CSS(`#messages .msg-out`)),
			))

			// The visitor sees the reply live, and no message twice (the
			// stream's replay overlaps what the page already showed).
			waitText(t, visitor, "#w-thread .w-msg-team", "It ships today.", in)
			requireDistinct(t, visitor, "#w-thread [id]", 2, in)
			requireDistinct(t, desk, "#messages [id^='msg-']", 2)

			// The agent closes it; the visitor sees the status line.
			require.NoError(t, chromedp.Do(desk,
				browsertest.Click(`#conv-status .btn-close-conv`),
				chromedp.WaitVisible(chromedp.CSS(`#conv-status .btn-reopen-conv`)),
				chromedp.WaitNotPresent(chromedp.CSS(`#inbox-rows .inbox-row`)),
			))
			waitText(t, visitor, "#w-thread .w-sysline", "Sue Support closed this conversation.", in)

			// The visitor writes again: reopened, back in the Open tab, live,
			// with the system line.
			require.NoError(t, chromedp.Do(visitor,
				browsertest.Type("#w-body", "One more question", inWidget),
				pressEnter,
			))
			waitText(t, visitor, "#w-thread", "You reopened this conversation.", in)
			require.NoError(t, chromedp.Do(desk,
				chromedp.WaitVisible(chromedp.CSS(`#inbox-rows .inbox-row`)),
				chromedp.WaitVisible(chromedp.CSS(`#conv-status .btn-close-conv`)),
				until(`document.querySelectorAll('#messages .msg-system').length === 2`),
			))
			require.Equal(t, "Conversation reopened by the customer's reply",
				jsText(t, desk, `document.querySelectorAll('#messages .msg-system span')[1].textContent`))
			waitText(t, desk, "#messages", "One more question")
			requireDistinct(t, visitor, "#w-thread [id]", 5, in) // 3 messages, 2 status lines
			requireDistinct(t, desk, "#messages [id^='msg-']", 5)
		})
	}
}

// browserTabFor opens a fresh browser context (its own cookies and storage)
// that keeps a screenshot if the test fails.
func browserTabFor(t *testing.T) context.Context {
	t.Helper()
	tab := browsertest.Tab(t, 90*time.Second)
	t.Cleanup(func() { keepScreenshot(t, tab) })
	return tab
}

// requireDistinct checks that the elements matching sel have distinct ids,
// and that there are want of them: nothing shown twice, nothing missing.
func requireDistinct(t *testing.T, tab context.Context, sel string, want int, opts ...chromedp.QueryOption) {
	t.Helper()
	attrs, err := chromedp.Run(tab, chromedp.AttributesAll(chromedp.CSSAll(sel), opts...))
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, a := range attrs {
		require.False(t, seen[a["id"]], "%s shown twice", a["id"])
		seen[a["id"]] = true
	}
	require.Len(t, seen, want, "items in %s", sel)
}
