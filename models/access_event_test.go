package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// accessEvents returns the reasons of the access events recorded for userID.
func accessEvents(t *testing.T, db *gorm.DB, userID int64) []string {
	t.Helper()
	var why []string
	require.NoError(t, db.Raw("SELECT data->>'why' FROM events WHERE kind = ? AND user_id = ? ORDER BY id", models.EventAccess, userID).Scan(&why).Error)
	return why
}

// Every change that revokes or narrows a user's access records an access
// event for that user with the change, so open desks on every instance
// recheck at once; edits that change no access record none.
func TestAccessChangesRecordAnEvent(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := mkUser(t, db, "ada@example.com", models.RoleAdmin)
	bob := mkUser(t, db, "bob@example.com", models.RoleAgent)

	token, _, err := models.CreateSession(ctx, db, bob.ID, models.SessionOpts{TTL: time.Hour})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.DeleteSession(ctx, tx, token) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.DeleteSession(ctx, tx, token) }), "signing out twice is no error")
	require.Equal(t, []string{"signed_out"}, accessEvents(t, db, bob.ID))

	_, err = factory.Write1(db, func(tx models.Tx) (*models.User, error) {
		return models.UpdateUser(ctx, tx, bob.ID, models.UserInput{Name: "Robert", Email: bob.Email, Role: models.RoleAgent})
	})
	require.NoError(t, err)
	require.Len(t, accessEvents(t, db, bob.ID), 1, "a new name changes no access")
	_, err = factory.Write1(db, func(tx models.Tx) (*models.User, error) {
		return models.UpdateUser(ctx, tx, bob.ID, models.UserInput{Name: "Robert", Email: bob.Email, Role: models.RoleAgent, CustomerSupport: true})
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetPassword(ctx, tx, bob.ID, "another horse") }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.DeactivateUser(ctx, tx, admin.ID, bob.ID) }))
	require.Equal(t, []string{"signed_out", "role", "password", "deactivated"}, accessEvents(t, db, bob.ID))
	require.Empty(t, accessEvents(t, db, admin.ID))
}
