package app

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// TestBrowserTicketJourney is issue 4's journey: from a live customer
// conversation the agent creates a ticket (editing the pre-filled title),
// sees its details beside the conversation and resolves it there, finds it
// in the Tickets list with a filter, links a second conversation to it from
// that conversation's panel, sees both on the ticket's page and opens one;
// a teammate who follows the ticket finds its conversations in My
// conversations.
func TestBrowserTicketJourney(t *testing.T) {
	browsertest.SkipShort(t)
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
		browsertest.Click("#create-ticket"),
		chromedp.WaitVisible(chromedp.ID("f-title")),
	))
	require.Equal(t, "My parcel never arrived", jsText(t, sue, `document.getElementById('f-title').value`))
	require.Contains(t, jsText(t, sue, `document.getElementById('f-description').value`), "Carla Customer")
	require.NoError(t, chromedp.Do(sue,
		browsertest.SetValue("#f-title", ""),
		browsertest.Type("#f-title", "Lost parcel: carrier claim"),
		browsertest.Click("#item-save"),
		chromedp.WaitVisible(chromedp.ID("item-panel-link-t-1")),
	))
	require.Equal(t, "T-1", jsText(t, sue, `document.getElementById('item-panel-link-t-1').textContent`))
	require.Equal(t, "Lost parcel: carrier claim", jsText(t, sue, `document.querySelector('#conv-item .item-panel-title').textContent`))
	waitText(t, sue, "#messages", "Sue Support linked this conversation to T-1")

	// Resolve it from the details panel, in place.
	require.NoError(t, chromedp.Do(sue,
		chromedp.WaitVisible(chromedp.ID("item-f-status-t-1")),
		browsertest.SetValue("#item-f-status-t-1", "resolved"),
		until(`document.getElementById('item-f-status-t-1').value === 'resolved' &&
			[...document.querySelectorAll('#messages .msg-system')].some(el => el.textContent.includes('set T-1 to Resolved'))`),
	))

	// The Tickets list, filtered by status.
	require.NoError(t, chromedp.Do(sue,
		browsertest.Click("#nav-tickets"),
		chromedp.WaitVisible(chromedp.ID("item-filters")),
		browsertest.SetValue("#flt-status", "new"),
		browsertest.Click("#flt-apply"),
		chromedp.WaitVisible(chromedp.ID("items-empty")),
		browsertest.SetValue("#flt-status", "resolved"),
		browsertest.Click("#flt-apply"),
		chromedp.WaitVisible(chromedp.ID("item-T-1")),
	))
	loc, err := chromedp.Run(sue, chromedp.Location())
	require.NoError(t, err)
	require.Contains(t, loc, "status=resolved", "the filter is a link")

	// Link the second conversation to the same ticket: search as you type.
	require.NoError(t, chromedp.Do(sue,
		chromedp.Navigate(e.srv.URL+"/conversations/"+conv2.PublicID),
		chromedp.WaitVisible(chromedp.ID("item-link-q")),
		browsertest.Type("#item-link-q", "carrier"),
		chromedp.WaitVisible(chromedp.CSS(`.item-result[data-ref="T-1"]`)),
		browsertest.Click(`.item-result[data-ref="T-1"]`),
		chromedp.WaitVisible(chromedp.ID("item-panel-link-t-1")),
	))
	// The link's live update re-renders the panel (with #item-panel-link-t-1) a
	// moment after the response did: wait for it, so the click below acts on
	// the panel that stays (this click once hit the node the swap replaced).
	waitText(t, sue, "#messages", "Sue Support linked this conversation to T-1")

	// Both conversations on the ticket's page; open one to continue it.
	require.NoError(t, chromedp.Do(sue,
		browsertest.Click("#item-panel-link-t-1"),
		chromedp.WaitVisible(chromedp.ID("item-conversations")),
		until(`document.querySelectorAll('#item-conversations .item-conv').length === 2`),
	))
	require.Contains(t, jsText(t, sue, `document.getElementById('item-activity').textContent`), "changed the status from New to Resolved")
	require.NoError(t, chromedp.Do(sue,
		browsertest.Click(`#item-conversations a[href="/conversations/`+conv1.PublicID+`"]`),
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
		browsertest.Click(`#item-follow button`),
		chromedp.WaitVisible(chromedp.CSS(`#item-follow button[aria-pressed="true"]`)),
		chromedp.Navigate(e.srv.URL+"/mine"),
		chromedp.WaitVisible(chromedp.ID("row-"+conv1.PublicID)),
		chromedp.WaitVisible(chromedp.ID("row-"+conv2.PublicID)),
	))
}
