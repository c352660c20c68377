package app

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// A change made through write sees its own events and rolls back as a whole:
// the models operation runs in the writer's transaction (it has none of its
// own).
func TestWriteIsOneTransaction(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	cust, conv := e.customerConversation("Ann", "first")
	agent := e.user("Pat", "pat@example.com", models.RoleAgent, true)

	boom := errors.New("boom")
	var seen []models.Event
	err := e.app.write(ctx, func(tx models.Tx) error {
		if _, err := models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, models.MessageText, "never stored"); err != nil {
			return err
		}
		var err error
		seen, err = models.EventsOfThisTx(ctx, tx.DB())
		require.NoError(t, err)
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Len(t, seen, 1, "the transaction sees the event of its own message")
	require.Equal(t, models.EventMessage, seen[0].Kind)

	var n int64
	require.NoError(t, e.db.Model(&models.Message{}).Where("body = ?", "never stored").Count(&n).Error)
	require.Zero(t, n, "the message rolled back with the transaction")
	require.NoError(t, e.db.Model(&models.Event{}).Where("id = ?", seen[0].ID).Count(&n).Error)
	require.Zero(t, n, "and so did its event")

	require.NoError(t, e.app.write(ctx, func(tx models.Tx) error {
		_, err := models.PostMessage(ctx, tx, models.Actor{Customer: cust}, conv, models.MessageText, "kept")
		return err
	}))
	require.NoError(t, e.db.Model(&models.Message{}).Where("body = ?", "kept").Count(&n).Error)
	require.EqualValues(t, 1, n)
}
