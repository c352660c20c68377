package app

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// An agent opens a long conversation on its newest messages, clicks "Load
// earlier" and reads the first message, without losing their place.
func TestBrowserDeskLoadEarlier(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	cust, conv := e.customerConversation("Carla", "the very first question")
	e.fillThread(conv, cust, sue, "msg", 80) // newest page: msg 31..80

	tab := deskTab(t, e, "sue@example.com")
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/conversations/"+conv.PublicID),
		chromedp.WaitVisible(chromedp.CSS(`#messages #load-earlier`)),
		until(`(function(){var t=document.getElementById('messages');return t.scrollHeight-t.scrollTop-t.clientHeight<5})()`),
	))
	require.NotContains(t, jsText(t, tab, `document.getElementById('messages').textContent`), "the very first question")
	firstShown := jsText(t, tab, `document.querySelector('#messages .msg').id`)

	require.NoError(t, chromedp.Do(tab,
		browsertest.Click(`#load-earlier`),
		until(`document.getElementById('messages').textContent.includes('the very first question')`),
	))
	// The whole thread is there once, in order, with no link left, and the
	// message that headed it before is still in view.
	require.Equal(t, "the very first question|msg 1|msg 2", jsText(t, tab,
		`Array.from(document.querySelectorAll('#messages .msg-body')).slice(0,3).map(function(e){return e.textContent.trim()}).join('|')`))
	require.Equal(t, "81", jsText(t, tab, `String(document.querySelectorAll('#messages .msg-body').length)`))
	require.Equal(t, "0", jsText(t, tab, `String(document.querySelectorAll('#load-earlier').length)`))
	require.Equal(t, "true", jsText(t, tab, `(function(){var t=document.getElementById('messages'),m=document.getElementById('`+firstShown+`');
		var a=t.getBoundingClientRect(),b=m.getBoundingClientRect();return String(b.bottom>a.top&&b.top<a.bottom)})()`))

	// A message arriving while the reader is up there does not pull them
	// down; back at the bottom, the next one keeps them at the newest.
	e.customerSays(cust, conv, "a new question while reading")
	require.NoError(t, chromedp.Do(tab, until(`document.getElementById('messages').textContent.includes('a new question while reading')`)))
	require.Equal(t, "false", jsText(t, tab, `(function(){var t=document.getElementById('messages');return String(t.scrollHeight-t.scrollTop-t.clientHeight<40)})()`),
		"the reader who scrolled up keeps their place")
	require.NoError(t, chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`(function(){var t=document.getElementById('messages');t.scrollTop=t.scrollHeight})()`)))
	e.customerSays(cust, conv, "and one more")
	require.NoError(t, chromedp.Do(tab,
		until(`document.getElementById('messages').textContent.includes('and one more')`),
		until(`(function(){var t=document.getElementById('messages');return t.scrollHeight-t.scrollTop-t.clientHeight<5})()`),
	))
}

// Scrolling up to the top of a long thread loads the earlier pages by
// itself, one by one. (Its own test and tab: under a loaded machine three
// pages on scroll take a while, and the click journey above has its own.)
func TestBrowserDeskLoadEarlierOnScroll(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	cust2, long := e.customerConversation("Dan", "where it all began")
	e.fillThread(long, cust2, sue, "line", 120) // three pages
	tab := deskTabFor(t, e, "sue@example.com", 150*time.Second)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/conversations/"+long.PublicID),
		chromedp.WaitVisible(chromedp.CSS(`#messages #load-earlier`)),
		until(`(function(){var t=document.getElementById('messages');return t.scrollHeight-t.scrollTop-t.clientHeight<5})()`),
	))
	// The reader scrolls up to the top, and on down and up again, until the
	// first message is there (as long as the tab lives: a loaded machine
	// renders slowly).
	var reached bool
	for i := 0; !reached; i++ {
		var err error
		reached, err = chromedp.Run(tab, chromedp.Evaluate[bool](
			`(function(){var t=document.getElementById('messages');return t.textContent.includes('where it all began')})()`))
		require.NoError(t, err, "scrolled up to the first message")
		if reached {
			break
		}
		to := "0"
		if i%20 == 19 { // now and then a scroll down, as a reader does
			to = "t.scrollHeight"
		}
		_, err = chromedp.Run(tab, chromedp.Evaluate[bool](`(function(){var t=document.getElementById('messages');t.scrollTop=`+to+`;return true})()`))
		require.NoError(t, err)
		time.Sleep(50 * time.Millisecond)
	}
	// Each once and in order, even where the stream had already appended
	// some of them (its resume point may trail the page by a moment).
	require.Equal(t, "121", jsText(t, tab, `String(document.querySelectorAll('#messages .msg-body').length)`))
	require.Equal(t, "where it all began|line 1|line 2|line 119|line 120", jsText(t, tab,
		`(function(){var a=Array.from(document.querySelectorAll('#messages .msg-body')).map(function(e){return e.textContent.trim()});return a.slice(0,3).concat(a.slice(-2)).join('|')})()`))
}

// In the widget a visitor scrolls up a long thread and reaches their first
// message; the agents' notes never show.
func TestBrowserWidgetLoadEarlier(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	host := hostSite(t, e.srv.URL)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{DeskName: "Acme Support", BrandColor: "#0f766e", AllowedOrigins: host.URL, DemoEnabled: true})
	}))
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	tab := browsertest.Tab(t, 90*time.Second)
	defer keepScreenshot(t, tab)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/"),
		browsertest.Click(".parley-launcher"),
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
		browsertest.Type("#w-start-body", "my very first words", inWidget),
		pressEnter,
		browsertest.WaitFor(`document.querySelector('#w-thread .w-msg-mine')`, inWidget),
	))
	var cust models.Customer
	var conv models.Conversation
	require.NoError(t, e.db.Order("id DESC").Take(&cust).Error)
	require.NoError(t, e.db.Order("id DESC").Take(&conv).Error)
	e.fillThread(&conv, &cust, sue, "line", 120) // 80 the customer sees, 40 notes
	e.app.rt.Ring()

	// Back to the list and into the conversation again: its newest page.
	require.NoError(t, chromedp.Do(tab,
		browsertest.WaitFor(`document.getElementById('w-thread').textContent.includes('line 120')`, inWidget),
		browsertest.Click(".w-back", inWidget),
		browsertest.Click(".w-conv-row", inWidget),
		browsertest.WaitFor(`document.querySelector('#w-thread > #w-earlier')`, inWidget),
		browsertest.WaitFor(`(function(){var t=document.getElementById('w-thread');t.scrollTop=0;return t.textContent.includes('my very first words')})()`, inWidget),
	))
	require.NoError(t, chromedp.Do(tab,
		browsertest.WaitFor(`document.querySelectorAll('#w-thread .w-msg-body').length === 81 && !document.getElementById('w-earlier')`, inWidget),
		browsertest.WaitFor(`!Array.from(document.querySelectorAll('#w-thread .w-msg-body')).some(function(e){var m=/^line (\d+)$/.exec(e.textContent.trim());return m&&m[1]%3==2})`, inWidget),
	))
}
