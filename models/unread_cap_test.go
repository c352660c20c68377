package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
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
		conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
		})
		require.NoError(t, err)
		if i == 0 {
			first = conv
			require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, me, conv, &me.ID) }))
		}
	}
	s, err := models.CountUnread(ctx, db, me)
	require.NoError(t, err)
	require.Equal(t, models.UnreadSummary{Customers: models.UnreadCap, Mine: 1, Total: models.UnreadCap}, s)

	set, err := models.LoadUnreadSet(ctx, db, me)
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.MarkRead(ctx, tx, me, first) }))
	set.Update(me, first.ID, nil)
	require.Equal(t, models.UnreadSummary{Customers: models.UnreadCap, Mine: 0, Total: models.UnreadCap}, set.Summary())
}
