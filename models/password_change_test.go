package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func TestChangePasswordNeedsTheCurrentOne(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	u := mkUser(t, db, "ann@example.com", models.RoleAgent)
	require.Equal(t, "current_password_wrong", fieldCode(t, factory.Write(db, func(tx models.Tx) error { return models.ChangePassword(ctx, tx, u, "wrong horse", "battery staple") }), "current_password"))
	require.Equal(t, "password_too_short", fieldCode(t, factory.Write(db, func(tx models.Tx) error { return models.ChangePassword(ctx, tx, u, "correct horse", "short") }), "password"))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.ChangePassword(ctx, tx, u, "correct horse", "battery staple") }))
	var hash string
	require.NoError(t, db.Raw("SELECT password_hash FROM users WHERE id = ?", u.ID).Scan(&hash).Error)
	require.True(t, models.CheckPassword(hash, "battery staple"))
}
