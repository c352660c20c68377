package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// Unread counts stop at the cap (the nav shows "99+"), and a saturated live
// set stays at the cap when one conversation is read, until it is reloaded.
func TestUnreadCountsStopAtTheCap(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	var first *models.Conversation
	for i := range models.UnreadCap + 5 {
		_, cust := mkCustomer(t, db)
		conv, _, err := models.StartCustomerConversation(ctx, db, cust, "hello", models.SessionInfo{})
		require.NoError(t, err)
		if i == 0 {
			first = conv
			require.NoError(t, models.Assign(ctx, db, me, conv, &me.ID))
		}
	}
	s, err := models.CountUnread(ctx, db, me)
	require.NoError(t, err)
	require.Equal(t, models.UnreadSummary{Customers: models.UnreadCap, Mine: 1, Total: models.UnreadCap}, s)

	set, err := models.LoadUnreadSet(ctx, db, me)
	require.NoError(t, err)
	require.NoError(t, models.MarkRead(ctx, db, me, first))
	set.Update(me, first.ID, nil)
	require.Equal(t, models.UnreadSummary{Customers: models.UnreadCap, Mine: 0, Total: models.UnreadCap}, set.Summary())
}
