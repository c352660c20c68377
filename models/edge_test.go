package models_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// A long User-Agent is cut on a character boundary: half of "é" is not
// UTF-8, and PostgreSQL refuses to store it.
func TestCreateSessionCutsUserAgentOnCharacter(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	u := mkUser(t, db, "ua@example.com", models.RoleAgent)
	ua := strings.Repeat("a", 499) + "é" + strings.Repeat("b", 20)
	_, s, err := models.CreateSession(ctx, db, u.ID, models.SessionOpts{TTL: time.Hour, UserAgent: ua})
	require.NoError(t, err)
	require.True(t, utf8.ValidString(s.UserAgent))
	require.Equal(t, strings.Repeat("a", 499), s.UserAgent)
}

// The largest id is a valid paging cursor, not a database error.
func TestListNotificationsBeforeLargestID(t *testing.T) {
	t.Parallel()
	db := setup(t)
	u := mkUser(t, db, "bell@example.com", models.RoleAgent)
	list, err := models.ListNotifications(context.Background(), db, u, math.MaxInt64, 20)
	require.NoError(t, err)
	require.Empty(t, list)
}
