package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
)

// The zero Tx records nothing: an operation given one fails before writing.
func TestZeroTxRecordsNothing(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := mkUser(t, db, "zero-tx@example.com", models.RoleAdmin)
	require.Error(t, models.AppendEvent(models.Tx{}, models.Event{Data: models.SettingsEvent{}}))
	require.Error(t, models.SetOnline(ctx, models.Tx{}, admin.ID, false))
	_, err := models.OpenConversation(ctx, models.Tx{}, admin, "00000000-0000-0000-0000-000000000000", models.InboxQuery{})
	require.Error(t, err)
	var n int64
	require.NoError(t, db.Model(&models.Event{}).Count(&n).Error)
	require.Zero(t, n)
}

// Transact gives after the events its transaction wrote, in order, before
// the commit; an error from after rolls the change back; it refuses to run
// without an after function.
func TestTransactHandsTheEventsToAfter(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := mkUser(t, db, "transact@example.com", models.RoleAdmin)

	called := false
	err := models.Transact(ctx, db, nil, func(models.Tx) error { called = true; return nil })
	require.Error(t, err)
	require.False(t, called, "without after, fn does not run")

	var got []models.Event
	require.NoError(t, models.Transact(ctx, db, func(_ context.Context, _ *gorm.DB, evs []models.Event) error {
		got = evs
		return nil
	}, func(tx models.Tx) error {
		if err := models.SetOnline(ctx, tx, admin.ID, false); err != nil {
			return err
		}
		return models.AppendEvent(tx, models.Event{Data: models.SettingsEvent{}})
	}))
	require.Len(t, got, 2)
	require.Equal(t, models.DeskStatusEvent{}, got[0].Data)
	require.Equal(t, models.SettingsEvent{}, got[1].Data)

	boom := errors.New("boom")
	err = models.Transact(ctx, db, func(context.Context, *gorm.DB, []models.Event) error { return boom }, func(tx models.Tx) error {
		return models.SetOnline(ctx, tx, admin.ID, true)
	})
	require.ErrorIs(t, err, boom)
	s, err := models.GetSettings(ctx, db)
	require.NoError(t, err)
	require.False(t, s.Online, "after's error rolled the switch back")
}
