package app

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// An agent clicks from conversation to conversation in the inbox: the list
// stays the same element (the server leaves it out, htmx keeps it), its
// current row follows the click, and it stays live. The shell (sidebar)
// stays too (the server sends the conversation's region only), the live
// stream follows the open conversation, and back shows the one before.
func TestBrowserClicksKeepTheList(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	_, first := e.customerConversation("Carla", "first question")
	dan, second := e.customerConversation("Dan", "second question")
	tab := deskTab(t, e, "ana@example.com")
	current := `(document.querySelector('#inbox-rows .inbox-row.is-current[aria-current="true"]')||{}).id`
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/inbox"),
		browsertest.WaitFor(`document.querySelectorAll('#inbox-rows .inbox-row').length === 2`),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('inbox-list').dataset.probe = 'kept'`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.sidebar').dataset.probe = 'shell'`),
		browsertest.Click(`#row-`+first.PublicID),
		browsertest.WaitFor(`(document.getElementById('messages')||{textContent:''}).textContent.includes('first question')`),
		browsertest.WaitFor(current+` === 'row-`+first.PublicID+`'`),
		browsertest.Click(`#row-`+second.PublicID),
		browsertest.WaitFor(`document.getElementById('messages').textContent.includes('second question')`),
		browsertest.WaitFor(current+` === 'row-`+second.PublicID+`'`),
	))
	require.Equal(t, "kept", jsText(t, tab, `document.getElementById('inbox-list').dataset.probe || ''`),
		"the list on the page is the one the agent clicked in")
	require.Equal(t, "1", jsText(t, tab, `String(document.querySelectorAll('#inbox-rows .is-current').length)`))
	require.Equal(t, "shell", jsText(t, tab, `document.querySelector('.sidebar').dataset.probe || ''`),
		"the sidebar on the page is the one the agent clicked in")
	require.Equal(t, "1", jsText(t, tab, `String(document.querySelectorAll('#desk-stream').length)`))
	require.Contains(t, jsText(t, tab, `document.getElementById('desk-stream').getAttribute('sse-connect')`), "c="+second.PublicID,
		"the stream follows the conversation open now")
	require.Contains(t, jsText(t, tab, `document.title`), "Dan")

	// The thread is live: the customer writes in the conversation open now.
	e.customerSays(dan, second, "are you there?")
	require.NoError(t, chromedp.Do(tab, browsertest.WaitFor(`document.getElementById('messages').textContent.includes('are you there?')`)))

	// The kept list is still live: a new conversation arrives in it.
	_, third := e.customerConversation("Eve", "third question")
	require.NoError(t, chromedp.Do(tab, browsertest.WaitFor(`!!document.getElementById('row-`+third.PublicID+`')`)))
	require.Equal(t, "kept", jsText(t, tab, `document.getElementById('inbox-list').dataset.probe || ''`))

	// Back: the whole page of the conversation before, as after a reload.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Evaluate[chromedp.Void](`history.back()`),
		browsertest.WaitFor(`(document.getElementById('messages')||{textContent:''}).textContent.includes('first question')`),
		browsertest.WaitFor(current+` === 'row-`+first.PublicID+`'`),
	))
	require.Contains(t, jsText(t, tab, `document.getElementById('desk-stream').getAttribute('sse-connect')`), "c="+first.PublicID)
}
