package app

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// An agent pushes a URL: a javascript: one is refused beside the field, a
// good one shows in the customer's widget as a card with an Open button;
// the customer opens it and the agent's desk shows "opened" live, once. A
// push that arrives right after the customer typed (the browser allows a
// tab then) opens at once and is reported the same way. Then the customer
// saves the chat from the link under the thread: the file it points to
// holds the session details and the chat, not the agent's note.
func TestBrowserPushURLAndTranscript(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	pid := w.start("Where is the guide?")
	require.NoError(t, e.db.Model(&models.Customer{}).Where("id = ?", w.visitor().CustomerID).Update("name", "Chloé").Error)

	// The customer's messenger as a full-page chat (the standalone frame).
	boot, err := json.Marshal(map[string]string{"t": w.token, "c": pid})
	require.NoError(t, err)
	widget := browsertest.Tab(t, 120*time.Second)
	defer keepScreenshot(t, widget)
	require.NoError(t, chromedp.Do(widget,
		chromedp.Navigate(e.srv.URL+"/widget/frame?view=page#"+url.PathEscape(string(boot))),
		browsertest.WaitFor(`document.querySelector('#w-thread') && document.querySelector('#w-thread').textContent.includes('Where is the guide?')`),
	))

	desk := deskTabFor(t, e, "sam@example.com", 120*time.Second)
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/conversations/"+pid),
		browsertest.Click("#push-url-box summary"),
		browsertest.WaitReady("#f-push-url"),
		browsertest.SetValue("#f-body", "INTERNAL NOTE do not share"),
		browsertest.Click(`#composer input[name=kind][value=note]`),
		browsertest.Click(`#composer button[type=submit]`),
		until(`[...document.querySelectorAll('#messages .msg-note')].some(m => m.textContent.includes('INTERNAL NOTE'))`),
		// A javascript: URL: the reason beside the field, nothing sent.
		browsertest.SetValue("#f-push-url", "javascript:alert(document.cookie)"),
		browsertest.Click("#push-url button[type=submit]"),
		until(`document.querySelector('#push-url #e-url') && document.querySelector('#push-url #e-url').textContent.includes('https://')`),
	))
	assert.Zero(t, pushCount(t, e, "link_pushed"))

	target := e.srv.URL + "/healthz?from=push"
	require.NoError(t, chromedp.Do(desk,
		browsertest.SetValue("#f-push-url", target),
		browsertest.Click("#push-url button[type=submit]"),
		until(`!document.querySelector('#push-url #e-url') && document.getElementById('f-push-url').value === ''`),
		until(`[...document.querySelectorAll('#messages .push-card a.link-card')].some(a => a.getAttribute('href') === `+jsString(target)+`)`),
	))

	// The customer's widget shows the card live; Open opens it in a new tab.
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`document.querySelector('#w-thread .w-push a[data-push-open]')`),
	))
	href, err := chromedp.Run(widget, browsertest.Attr("#w-thread .w-push a[data-push-open]", "href"))
	require.NoError(t, err)
	assert.Equal(t, target, href)
	assert.Contains(t, jsText(t, widget, `document.querySelector('#w-thread .w-push').textContent`), "Sam sent you a link")
	assert.Equal(t, "false", jsText(t, widget, `String(document.querySelector('#w-thread .w-push').hasAttribute('data-opened'))`), "not opened by itself: no click came first")
	require.NoError(t, chromedp.Do(widget, browsertest.Click("#w-thread .w-push a[data-push-open]")))

	// The desk hears of it live.
	require.NoError(t, chromedp.Do(desk,
		until(`[...document.querySelectorAll('#messages .msg-system')].some(m => m.textContent.includes('Chloé opened the pushed URL'))`),
	))
	assert.EqualValues(t, 1, pushCount(t, e, "event = ?", models.SysURLOpened))
	assert.NotContains(t, jsText(t, widget, `document.getElementById('w-thread').textContent`), "opened the pushed URL", "the customer never sees the line")

	// Right after typing, the browser lets the frame open a tab: a push
	// arriving then opens at once (and is reported).
	second := e.srv.URL + "/healthz?from=auto"
	require.NoError(t, chromedp.Do(widget, browsertest.Type("#w-body", "ok")))
	require.NoError(t, chromedp.Do(desk,
		browsertest.SetValue("#f-push-url", second),
		browsertest.Click("#push-url button[type=submit]"),
	))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`[...document.querySelectorAll('#w-thread a[data-push-open]')].some(a => a.getAttribute('href') === `+jsString(second)+`)`),
	))
	require.Eventually(t, func() bool {
		return pushCount(t, e, "link_pushed AND link_opened_at IS NOT NULL") == 2
	}, 10*time.Second, 100*time.Millisecond, "the second push opened by itself")
	require.NoError(t, chromedp.Do(desk,
		until(`[...document.querySelectorAll('#messages .msg-system')].filter(m => m.textContent.includes('opened the pushed URL')).length === 2`),
	))

	// The customer saves the chat: the link under the thread, with their
	// time zone added as it is followed.
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitReady("#w-transcript-link"),
		chromedp.Evaluate[chromedp.Void](`(function(){var a=document.getElementById('w-transcript-link'); a.addEventListener('click', function(e){e.preventDefault();}, {once:true}); a.click();})()`),
	))
	link, err := chromedp.Run(widget, browsertest.Attr("#w-transcript-link", "href"))
	require.NoError(t, err)
	assert.Contains(t, link, "tz=")
	assert.Equal(t, "Save this chat (.txt)", strings.TrimSpace(jsText(t, widget, `document.getElementById('w-transcript-link').textContent`)))
	u, err := url.Parse(link)
	require.NoError(t, err)
	res := e.fetch(u.RequestURI())
	require.Equal(t, 200, res.StatusCode, res.body)
	assert.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, res.Header.Get("Content-Disposition"), "attachment;")
	assert.Contains(t, res.body, "First request: Where is the guide?")
	assert.Contains(t, res.body, "You: Where is the guide?")
	assert.Contains(t, res.body, "Sam: Sent a link: "+target)
	assert.NotContains(t, res.body, "INTERNAL NOTE")
	assert.NotContains(t, res.body, "opened the pushed URL")
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
