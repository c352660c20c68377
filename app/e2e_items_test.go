package app

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// chooseOption picks value in a select as a person would: the change event
// fires (and data-autosubmit forms submit).
func chooseOption(sel, value string) chromedp.Action[chromedp.Void] {
	return script(`const el = document.querySelector(` + jsString(sel) + `);
		el.value = ` + jsString(value) + `; el.dispatchEvent(new Event('change', {bubbles: true}));`)
}

// script runs JavaScript statements in the tab.
func script(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("(() => { "+js+"; return true })()")(ctx, tg)
		return err
	})
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// TestBrowserTicketJourney is issue 4's journey: from a live customer
// conversation the agent creates a ticket (editing the pre-filled title),
// sees its details beside the conversation and resolves it there, finds it
// in the Tickets list with a filter, links a second conversation to it from
// that conversation's panel, sees both on the ticket's page and opens one;
// a teammate who follows the ticket finds its conversations in My
// conversations.
func TestBrowserTicketJourney(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sue Support", "sue@example.com", models.RoleAgent, true)
	e.user("Fay Follower", "fay@example.com", models.RoleAgent, true)
	_, conv1 := e.customerConversation("Carla Customer", "My parcel never arrived")
	_, conv2 := e.customerConversation("Dan Customer", "Same here, no parcel")
	sue := deskTab(t, e, "sue@example.com")

	// Create the ticket from the conversation; the title comes pre-filled.
	require.NoError(t, chromedp.Do(sue,
		chromedp.Navigate(e.srv.URL+"/conversations/"+conv1.PublicID),
		chromedp.WaitVisible(chromedp.ID("create-ticket")),
		chromedp.Click(chromedp.ID("create-ticket")),
		chromedp.WaitVisible(chromedp.ID("f-title")),
	))
	require.Equal(t, "My parcel never arrived", jsText(t, sue, `document.getElementById('f-title').value`))
	require.Contains(t, jsText(t, sue, `document.getElementById('f-description').value`), "Carla Customer")
	require.NoError(t, chromedp.Do(sue,
		script(`document.getElementById('f-title').value = ''`),
		chromedp.SendKeys(chromedp.ID("f-title"), "Lost parcel: carrier claim"),
		chromedp.Click(chromedp.ID("item-save")),
		chromedp.WaitVisible(chromedp.ID("item-panel-link")),
	))
	require.Equal(t, "T-1", jsText(t, sue, `document.getElementById('item-panel-link').textContent`))
	require.Equal(t, "Lost parcel: carrier claim", jsText(t, sue, `document.querySelector('#conv-item .item-panel-title').textContent`))
	waitText(t, sue, "#messages", "Sue Support linked this conversation to T-1")

	// Resolve it from the details panel, in place.
	require.NoError(t, chromedp.Do(sue,
		chromedp.WaitVisible(chromedp.ID("item-f-status")),
		chooseOption("#item-f-status", "resolved"),
		until(`document.getElementById('item-f-status').value === 'resolved' &&
			[...document.querySelectorAll('#messages .msg-system')].some(el => el.textContent.includes('set T-1 to Resolved'))`),
	))

	// The Tickets list, filtered by status.
	require.NoError(t, chromedp.Do(sue,
		chromedp.Click(chromedp.ID("nav-tickets")),
		chromedp.WaitVisible(chromedp.ID("item-filters")),
		chooseOption("#flt-status", "new"),
		chromedp.Click(chromedp.ID("flt-apply")),
		chromedp.WaitVisible(chromedp.ID("items-empty")),
		chooseOption("#flt-status", "resolved"),
		chromedp.Click(chromedp.ID("flt-apply")),
		chromedp.WaitVisible(chromedp.ID("item-T-1")),
	))
	loc, err := chromedp.Run(sue, chromedp.Location())
	require.NoError(t, err)
	require.Contains(t, loc, "status=resolved", "the filter is a link")

	// Link the second conversation to the same ticket: search as you type.
	require.NoError(t, chromedp.Do(sue,
		chromedp.Navigate(e.srv.URL+"/conversations/"+conv2.PublicID),
		chromedp.WaitVisible(chromedp.ID("item-link-q")),
		chromedp.SendKeys(chromedp.ID("item-link-q"), "carrier"),
		chromedp.WaitVisible(chromedp.CSS(`.item-result[data-ref="T-1"]`)),
		chromedp.Click(chromedp.CSS(`.item-result[data-ref="T-1"]`)),
		chromedp.WaitVisible(chromedp.ID("item-panel-link")),
	))

	// Both conversations on the ticket's page; open one to continue it.
	require.NoError(t, chromedp.Do(sue,
		chromedp.Click(chromedp.ID("item-panel-link")),
		chromedp.WaitVisible(chromedp.ID("item-conversations")),
		until(`document.querySelectorAll('#item-conversations .item-conv').length === 2`),
	))
	require.Contains(t, jsText(t, sue, `document.getElementById('item-activity').textContent`), "changed the status from New to Resolved")
	require.NoError(t, chromedp.Do(sue,
		chromedp.Click(chromedp.CSS(`#item-conversations a[href="/conversations/`+conv1.PublicID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#conv[data-conversation="`+conv1.PublicID+`"]`)),
		chromedp.WaitVisible(chromedp.ID("f-body")),
	))

	// A teammate follows the ticket: its conversations join their My
	// conversations.
	fay := deskTab(t, e, "fay@example.com")
	require.NoError(t, chromedp.Do(fay,
		chromedp.Navigate(e.srv.URL+"/mine"),
		chromedp.WaitVisible(chromedp.CSS(".inbox-empty")),
		chromedp.Navigate(e.srv.URL+"/tickets/1"),
		chromedp.WaitVisible(chromedp.CSS(`#item-follow button[aria-pressed="false"]`)),
		chromedp.Click(chromedp.CSS(`#item-follow button`)),
		chromedp.WaitVisible(chromedp.CSS(`#item-follow button[aria-pressed="true"]`)),
		chromedp.Navigate(e.srv.URL+"/mine"),
		chromedp.WaitVisible(chromedp.ID("row-"+conv1.PublicID)),
		chromedp.WaitVisible(chromedp.ID("row-"+conv2.PublicID)),
	))
}
