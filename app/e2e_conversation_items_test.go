package app

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Issue 10 item 6: an agent links a ticket and then a task to one
// conversation from its side panel; a second agent with the same
// conversation open sees both appear in the panel live, without reloading.
func TestBrowserSeveralItemsLive(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue Support", "sue@example.com", models.RoleAgent, true)
	e.user("Max Support", "max@example.com", models.RoleAgent, true)
	for _, in := range []models.ItemInput{{Kind: models.ItemTicket, Title: "Refund the order"}, {Kind: models.ItemTask, Title: "Fix the shipping FAQ"}} {
		_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Item, error) { return models.CreateItem(t.Context(), tx, sue, in) })
		require.NoError(t, err)
	}
	_, conv := e.customerConversation("Carla Customer", "Refund me, and your FAQ is wrong")
	max := deskTab(t, e, "max@example.com")
	require.NoError(t, chromedp.Do(max,
		chromedp.Navigate(e.srv.URL+"/conversations/"+conv.PublicID),
		chromedp.WaitVisible(chromedp.ID("item-link-q")),
	))
	_, err := chromedp.Run(max, chromedp.Evaluate[bool](`window.__sameDesk = true`))
	require.NoError(t, err)
	s := deskTab(t, e, "sue@example.com")
	require.NoError(t, chromedp.Do(s,
		chromedp.Navigate(e.srv.URL+"/conversations/"+conv.PublicID),
		chromedp.WaitVisible(chromedp.ID("item-link-q")),
	))
	for _, step := range []struct{ query, ref, id string }{
		{"refund", "T-1", "item-panel-link-t-1"},
		{"faq", "K-1", "item-panel-link-k-1"},
	} {
		require.NoError(t, chromedp.Do(s,
			browsertest.Type("#item-link-q", step.query),
			chromedp.WaitVisible(chromedp.CSS(`.item-result[data-ref="`+step.ref+`"]`)),
			browsertest.Click(`.item-result[data-ref="`+step.ref+`"]`),
			chromedp.WaitVisible(chromedp.ID(step.id)),
			// The link's own live update re-renders Sue's panel: wait for the
			// status line, so the next search types into the panel that stays.
			until(`[...document.querySelectorAll('#messages .msg-system')].some(el => el.textContent.includes('to `+step.ref+`'))`),
		), step.ref)
	}
	require.NoError(t, chromedp.Do(s,
		until(`[...document.querySelectorAll('#conv-item .conv-item-entry')].map(el => el.dataset.ref).join() === 'T-1,K-1'`),
	))

	// Max's desk shows both, live: same page, no reload.
	require.NoError(t, chromedp.Do(max,
		until(`[...document.querySelectorAll('#conv-item .conv-item-entry')].map(el => el.dataset.ref).join() === 'T-1,K-1'`),
		until(`window.__sameDesk === true`),
	))
	require.Equal(t, "Refund the order", jsText(t, max, `document.querySelector('#conv-item-t-1 .item-panel-title').textContent`))
	require.Equal(t, "Fix the shipping FAQ", jsText(t, max, `document.querySelector('#conv-item-k-1 .item-panel-title').textContent`))
}
