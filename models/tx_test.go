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

// The events Transact hands on are those the inserts returned, with the ids,
// transaction id and payload they are stored with; an insert that wrote an
// event without reporting it fails the write in a test binary (every test
// that writes checks the list against the table), and one that declares
// itself unreported has its events read back.
func TestTransactTakesTheEventsTheInsertsReturned(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := mkUser(t, db, "reported@example.com", models.RoleAdmin)
	mate := mkUser(t, db, "reported-mate@example.com", models.RoleAgent)
	after := func(got *[]models.Event) models.AfterFunc {
		return func(_ context.Context, _ *gorm.DB, evs []models.Event) error { *got = evs; return nil }
	}

	var got []models.Event
	require.NoError(t, models.Transact(ctx, db, after(&got), func(tx models.Tx) error {
		_, _, err := models.StartInternalConversation(ctx, tx, admin, []int64{mate.ID}, "hello")
		return err
	}))
	var stored []models.Event
	require.NoError(t, db.Raw("SELECT id, xid::text::bigint AS xid, kind, conversation_id, message_id, user_id, item_id, data, created_at FROM events ORDER BY id").Scan(&stored).Error)
	require.NotEmpty(t, stored)
	require.Equal(t, stored, got)
	require.NotZero(t, got[0].XID)

	err := models.Transact(ctx, db, after(&got), func(tx models.Tx) error {
		if err := models.SetOnline(ctx, tx, admin.ID, false); err != nil {
			return err
		}
		return tx.DB().Exec("INSERT INTO events (kind, data) VALUES ('settings', '{}')").Error
	})
	require.ErrorContains(t, err, "reported events")
	s, err := models.GetSettings(ctx, db)
	require.NoError(t, err)
	require.True(t, s.Online, "the write rolled back")

	got = nil
	require.NoError(t, models.Transact(ctx, db, after(&got), func(tx models.Tx) error {
		if err := models.SetOnline(ctx, tx, admin.ID, false); err != nil {
			return err
		}
		models.Unreported(tx)
		return tx.DB().Exec("INSERT INTO events (kind, data) VALUES ('settings', '{}')").Error
	}))
	require.Len(t, got, 2, "read back: the switch's event and the unreported one")
	require.Equal(t, models.SettingsEvent{}, got[1].Data)
}
