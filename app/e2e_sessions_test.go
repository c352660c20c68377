package app

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// TestBrowserSupportSession is a support session end to end in two real
// browsers: an agent creates it from the desk, the customer types the key
// on /support and lands in the full-page chat with the request first; the
// desk sees the customer arrive and their first message live; the agent
// ends the session, the customer sees it ended, and the key stops working.
// It logs the time from "Create session" to the first message in the desk.
func TestBrowserSupportSession(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Ann Agent", "ann@example.com", models.RoleAgent, true)

	desk := deskTab(t, e, "ann@example.com")
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/inbox"),
		browsertest.Click("#nav-new-session"),
		browsertest.Type("#f-request", "Hi! Please tell me what the printer shows."),
	))
	start := time.Now()
	require.NoError(t, chromedp.Do(desk, browsertest.Click("#create-session")))
	key, err := chromedp.Run(desk, browsertest.Attr("#support-key", "data-key"))
	require.NoError(t, err)
	require.Regexp(t, `^[0-9]{6}$`, key)
	link, err := chromedp.Run(desk, browsertest.Value("#support-link"))
	require.NoError(t, err)
	require.Equal(t, e.srv.URL+"/s/"+key, link)
	t.Logf("key shown after %s", time.Since(start).Round(time.Millisecond))

	// The customer, in another browser, types the key (as read out: with a space).
	cust := browserTabFor(t)
	require.NoError(t, chromedp.Do(cust,
		chromedp.Navigate(e.srv.URL+"/support"),
		browsertest.Type("#f-key", key[:3]+" "+key[3:]),
		browsertest.Click("#join-session"),
		chromedp.WaitVisible(chromedp.CSS("#w-thread-view")),
	))
	waitText(t, cust, "#w-thread", "Please tell me what the printer shows.")
	t.Logf("customer in the chat after %s", time.Since(start).Round(time.Millisecond))
	waitText(t, desk, "#messages", "Customer joined on the support page")
	require.NoError(t, chromedp.Do(desk, until(`document.querySelector('#support-session[data-state="joined"]') !== null`)), "the panel follows, live")
	t.Logf("desk saw the customer join after %s", time.Since(start).Round(time.Millisecond))

	require.NoError(t, chromedp.Do(cust,
		browsertest.Type("#w-body", "It says paper jam"),
		pressEnter,
	))
	waitText(t, desk, "#messages", "It says paper jam")
	took := time.Since(start)
	t.Logf("support session: %s from Create session to the customer's first message in the desk (browser automation included)", took.Round(time.Millisecond))

	// The agent ends it: the customer sees it, the key stops working.
	require.NoError(t, chromedp.Do(desk,
		browsertest.Click("#end-session"),
		until(`document.querySelector('#support-session[data-state="ended"]') !== null`),
	))
	t.Logf("ended after %s", time.Since(start).Round(time.Millisecond))
	waitText(t, desk, "#messages", "Ann Agent ended the support session")
	waitText(t, cust, "#w-thread", "The support session has ended")
	t.Logf("customer saw the end after %s", time.Since(start).Round(time.Millisecond))

	again := browserTabFor(t)
	require.NoError(t, chromedp.Do(again,
		chromedp.Navigate(e.srv.URL+"/support"),
		browsertest.Type("#f-key", key),
		browsertest.Click("#join-session"),
	))
	waitText(t, again, ".alert-error", "already used, or the session has ended")
	require.NoError(t, chromedp.Do(again, chromedp.Navigate(link)))
	waitText(t, again, ".alert-error", "already used, or the session has ended")
}

// TestBrowserSupportSessionBySMS: the agent sends the invitation by SMS
// from the desk; it reaches the test gateway (a Twilio-compatible API in
// this process), the desk says when it left, and its link opens the chat
// on a phone-sized screen, where the customer writes to the desk.
func TestBrowserSupportSessionBySMS(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	tw := startFakeTwilio(t)
	e := setup(t, envOpts{startJobs: true, config: map[string]string{
		"PARLEY_SMS_PROVIDER": "twilio", "PARLEY_TWILIO_BASE_URL": tw.URL, "PARLEY_TWILIO_ACCOUNT_SID": "AC42",
		"PARLEY_TWILIO_AUTH_TOKEN": "tok", "PARLEY_TWILIO_FROM": "+15005550006", "PARLEY_SMS_REGION": "BR",
	}})
	e.user("Ann Agent", "ann@example.com", models.RoleAgent, true)

	desk := deskTab(t, e, "ann@example.com")
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/sessions/new"),
		browsertest.Click("#create-session"),
		browsertest.Type("#invite-phone", "(11) 98765-4321"),
		browsertest.Click(`#invite-sms button[type="submit"]`),
	))
	waitText(t, desk, "#messages", "Invitation sent by SMS to +5511987654321")
	sent := tw.messages()
	require.Len(t, sent, 1)
	body := sent[0].Get("Body")
	i := strings.Index(body, e.srv.URL+"/s/")
	require.GreaterOrEqual(t, i, 0, body)
	link := strings.Fields(body[i:])[0]

	phone := browserTabFor(t)
	require.NoError(t, chromedp.Do(phone,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(3)),
		chromedp.Navigate(link),
		browsertest.Click("#join-session"),
		chromedp.WaitVisible(chromedp.CSS("#w-thread-view")),
		until(`document.body.getBoundingClientRect().width <= 390 && document.documentElement.scrollWidth <= 390`),
		browsertest.Type("#w-body", "Hello from my phone"),
		pressEnter,
	))
	waitText(t, desk, "#messages", "Customer joined through the link")
	waitText(t, desk, "#messages", "Hello from my phone")
}
