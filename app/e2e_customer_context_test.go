package app

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// An agent opens a conversation and sees, beside it, the customer's other
// conversation and ticket; edits the customer's name and phone (a bad phone
// first: the reason beside the field) and sees the audit lines.
func TestBrowserCustomerContext(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	sam := e.user("Sam", "sam@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	pid := w.start("Where is my order?")
	cust := w.visitor().Customer
	_, older, _ := factory.Conversation(t, e.db, factory.ConversationOpts{Customer: cust, Body: "An older question"})
	ticket, err := factory.Write1(e.db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(context.Background(), tx, sam, models.ItemInput{Kind: models.ItemTicket, Title: "Lost parcel", Conversation: older})
	})
	require.NoError(t, err)

	desk := deskTabFor(t, e, "sam@example.com", 90*time.Second)
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/conversations/"+pid),
		browsertest.WaitReady(`#cc-conversations a[href="/conversations/`+older.PublicID+`"]`),
		browsertest.WaitReady(`#cc-items a[href="/tickets/`+idStr(ticket.Number)+`"]`),
	))
	items, err := chromedp.Run(desk, browsertest.Text("#cc-items"))
	require.NoError(t, err)
	assert.Contains(t, items, "Lost parcel")

	require.NoError(t, chromedp.Do(desk,
		browsertest.Click("#cc-edit summary"),
		browsertest.WaitReady("#f-phone"),
		browsertest.SetValue("#f-name", "Chloé Martin"),
		browsertest.SetValue("#f-phone", "call me"),
		browsertest.Click("#cc-form button[type=submit]"),
		until(`document.querySelector('#customer-context #e-phone') !== null`),
	))
	assert.Zero(t, customerChanges(t, e, cust.ID), "nothing stored")
	require.NoError(t, chromedp.Do(desk,
		browsertest.SetValue("#f-phone", "+33 6 12 34 56 78"),
		browsertest.Click("#cc-form button[type=submit]"),
		until(`document.querySelector('#cc-phone') && document.querySelector('#cc-phone').textContent.includes('+33612345678')`),
		browsertest.Click("#cc-history summary"),
	))
	name, err := chromedp.Run(desk, browsertest.Text("#cc-name"))
	require.NoError(t, err)
	assert.Equal(t, "Chloé Martin", name)
	history, err := chromedp.Run(desk, browsertest.Text("#cc-history"))
	require.NoError(t, err)
	assert.Contains(t, history, "Sam changed Phone")
	assert.Contains(t, history, "+33612345678")
	assert.Contains(t, history, "Sam changed Name")
	assert.EqualValues(t, 2, customerChanges(t, e, cust.ID))
}
