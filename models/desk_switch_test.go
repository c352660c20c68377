package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Who may switch the desk online or offline: admins and support agents,
// active ones.
func TestCanSwitchDesk(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		u    *models.User
		want bool
	}{
		{"admin", &models.User{Role: models.RoleAdmin, Active: true}, true},
		{"support agent", &models.User{Role: models.RoleAgent, CustomerSupport: true, Active: true}, true},
		{"agent without the support flag", &models.User{Role: models.RoleAgent, Active: true}, false},
		{"deactivated support agent", &models.User{Role: models.RoleAgent, CustomerSupport: true}, false},
		{"nobody", nil, false},
	} {
		assert.Equal(t, tc.want, models.CanSwitchDesk(tc.u), tc.name)
	}
}

// SetOnline refuses those who may not switch the desk and records every
// real switch (who, when, to what); setting it to what it is records nothing.
func TestSetOnlineRecordsWhoSwitched(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	sue := mkSupport(t, db, "sue@example.com")
	pat, err := models.CreateUser(ctx, db, models.UserInput{Name: "Pat", Email: "pat@example.com", Password: "correct horse", Role: models.RoleAgent})
	require.NoError(t, err)

	require.ErrorIs(t, factory.Write(db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, pat.ID, false) }), models.ErrNotAllowed)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, sue.ID, false) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, sue.ID, false) })) // already offline
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, sue.ID, true) }))
	changes, err := models.RecentDeskStatusChanges(ctx, db, 10)
	require.NoError(t, err)
	require.Len(t, changes, 2)
	assert.True(t, changes[0].Online)
	assert.False(t, changes[1].Online)
	assert.Equal(t, "sue@example.com", changes[1].UserName)
	assert.Equal(t, sue.ID, *changes[1].UserID)
	assert.False(t, changes[1].CreatedAt.IsZero())
}
