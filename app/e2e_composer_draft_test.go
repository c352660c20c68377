package app

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// A half-written reply survives a reload of the conversation, Shift+Enter
// adds a line, and once sent the draft is gone: the next reload shows an
// empty composer.
func TestBrowserComposerDraft(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Sue", "sue@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Carla", "where is my parcel?")
	_, other := e.customerConversation("Dan", "another question")

	tab := deskTab(t, e, "sue@example.com")
	url := e.srv.URL + "/conversations/" + conv.PublicID
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("f-body")),
		browsertest.Type("#f-body", "It left the warehouse"),
		chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierShift)), // a new line, not a send
		browsertest.Type("#f-body", "yesterday"),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("f-body")),
		until(`document.getElementById('f-body').value === 'It left the warehouse\nyesterday'`),
	))
	require.Equal(t, "0", jsText(t, tab, `String(document.querySelectorAll('#messages .msg-out').length)`), "nothing was sent")

	// Another conversation has its own (empty) draft.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/conversations/"+other.PublicID),
		chromedp.WaitVisible(chromedp.ID("f-body")),
	))
	require.Equal(t, "", jsText(t, tab, `document.getElementById('f-body').value`))

	// Sent: the draft is cleared, and stays cleared after a reload.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("f-body")),
		until(`document.getElementById('f-body').value !== ''`),
		browsertest.Focus("#f-body"),
		chromedp.KeyEvent("\r"),
		until(`Array.from(document.querySelectorAll('#messages .msg-out .msg-body')).some(function(e){return e.textContent.includes('yesterday')})`),
		until(`document.getElementById('f-body').value === ''`),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("f-body")),
	))
	require.Equal(t, "", jsText(t, tab, `document.getElementById('f-body').value`))
	require.Equal(t, "null", jsText(t, tab, `String(localStorage.getItem('parley:draft:`+conv.PublicID+`'))`))
}
