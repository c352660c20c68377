package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/parleydesk/parley/internal/dbtest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// setup returns a GORM handle on a migrated database that holds only what
// the migrations wrote, over a pool that goes to the next test with the
// database (dbtest.Pool).
func setup(t *testing.T) *gorm.DB {
	t.Helper()
	pool := dbtest.Pool(t, dbtest.URL(t), func(url string) (*pgxpool.Pool, error) {
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, err
		}
		cfg.MaxConns = 20 // tests of contention run many writers at once
		return pgxpool.NewWithConfig(context.Background(), cfg)
	})
	return gormOver(t, pool)
}

// gormOver is GORM over pool, as the app opens it (database/sql on pgx).
func gormOver(tb testing.TB, pool *pgxpool.Pool) *gorm.DB {
	tb.Helper()
	sqlDB := stdlib.OpenDBFromPool(pool)
	tb.Cleanup(func() { sqlDB.Close() })
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

func mkUser(t *testing.T, db *gorm.DB, email string, role models.Role) *models.User {
	t.Helper()
	return factory.User(t, db, factory.UserOpts{Email: email, Role: role})
}

func fieldCode(t *testing.T, err error, field string) string {
	t.Helper()
	var ve *models.ValidationError
	require.True(t, errors.As(err, &ve), "want a ValidationError, got %v", err)
	fe, ok := ve.Field(field)
	require.True(t, ok, "no error for %s in %v", field, err)
	return fe.Code
}

func TestPasswordHashing(t *testing.T) {
	t.Parallel()
	h, err := models.HashPasswordAtProductionCost("correct horse")
	require.NoError(t, err)
	// The production cost (TestMain lowers it for every other test).
	assert.Regexp(t, `^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`, h)
	assert.True(t, models.CheckPassword(h, "correct horse"))
	assert.False(t, models.CheckPassword(h, "correct horsE"))
	assert.False(t, models.CheckPassword("garbage", "correct horse"))
	h2, _ := models.HashPasswordAtProductionCost("correct horse")
	assert.NotEqual(t, h, h2, "salted")
}

func TestCreateUserValidation(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	cases := []struct {
		in    models.UserInput
		field string
		code  string
	}{
		{models.UserInput{Name: "", Email: "a@example.com", Password: "correct horse"}, "name", "name_required"},
		{models.UserInput{Name: "A", Email: "a@b", Password: "correct horse"}, "email", "email_invalid"},
		{models.UserInput{Name: "A", Email: "Ada <a@example.com>", Password: "correct horse"}, "email", "email_invalid"},
		{models.UserInput{Name: "A", Email: "a@example.com", Password: "1234567"}, "password", "password_too_short"},
		{models.UserInput{Name: "A", Email: "a@example.com", Password: "correct horse", Role: "root"}, "role", "role_invalid"},
		{models.UserInput{Name: "A", Email: "a@example.com", Password: "correct horse", Locale: "de"}, "locale", "locale_invalid"},
	}
	for _, tc := range cases {
		_, err := models.CreateUser(ctx, db, tc.in)
		assert.Equal(t, tc.code, fieldCode(t, err, tc.field))
	}
	mkUser(t, db, "ada@example.com", models.RoleAdmin)
	_, err := models.CreateUser(ctx, db, models.UserInput{Name: "B", Email: " ADA@example.com ", Password: "correct horse"})
	assert.Equal(t, "email_taken", fieldCode(t, err, "email"))
	var n int64
	db.Model(&models.User{}).Count(&n)
	assert.EqualValues(t, 1, n)
}

func TestLastAdminIsProtectedUnderConcurrency(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	a := mkUser(t, db, "a@example.com", models.RoleAdmin)
	b := mkUser(t, db, "b@example.com", models.RoleAdmin)
	// Two admins demote each other at the same time: one must fail.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, pair := range [][2]*models.User{{a, b}, {b, a}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := pair[1]
			_, errs[i] = factory.Write1(db, func(tx models.Tx) (*models.User, error) {
				return models.UpdateUser(ctx, tx, target.ID, models.UserInput{Name: target.Name, Email: target.Email, Role: models.RoleAgent})
			})
		}()
	}
	wg.Wait()
	failures := 0
	for _, err := range errs {
		if err != nil {
			assert.Equal(t, "last_admin", fieldCode(t, err, "role"))
			failures++
		}
	}
	assert.Equal(t, 1, failures)
	var admins int64
	db.Model(&models.User{}).Where("role = 'admin' AND active").Count(&admins)
	assert.EqualValues(t, 1, admins)
}

func TestDeactivateEndsSessions(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := mkUser(t, db, "a@example.com", models.RoleAdmin)
	agent := mkUser(t, db, "b@example.com", models.RoleAgent)
	token, _, err := models.CreateSession(ctx, db, agent.ID, models.SessionOpts{TTL: time.Hour})
	require.NoError(t, err)
	_, _, err = models.LookupSession(ctx, db, token, time.Hour)
	require.NoError(t, err)

	assert.Equal(t, "cannot_deactivate_self", fieldCode(t, factory.Write(db, func(tx models.Tx) error { return models.DeactivateUser(ctx, tx, admin.ID, admin.ID) }), "user"))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.DeactivateUser(ctx, tx, admin.ID, agent.ID) }))
	_, _, err = models.LookupSession(ctx, db, token, time.Hour)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = models.Authenticate(ctx, db, "b@example.com", "correct horse", "10.0.0.1", models.DefaultLoginLimits)
	require.ErrorIs(t, err, models.ErrInvalidCredentials)
	require.ErrorIs(t, factory.Write(db, func(tx models.Tx) error { return models.DeactivateUser(ctx, tx, admin.ID, 424242) }), models.ErrNotFound)
}

func TestSessionSlidesAndExpires(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	u := mkUser(t, db, "a@example.com", models.RoleAgent)
	token, s, err := models.CreateSession(ctx, db, u.ID, models.SessionOpts{TTL: time.Hour})
	require.NoError(t, err)
	assert.Len(t, s.CSRFToken, 43)

	// Activity after the touch interval pushes the expiry forward.
	require.NoError(t, db.Exec("UPDATE sessions SET last_seen_at = now() - interval '2 minutes', expires_at = now() + interval '1 minute'").Error)
	s2, _, err := models.LookupSession(ctx, db, token, time.Hour)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(time.Hour), s2.ExpiresAt, 5*time.Second)

	require.NoError(t, db.Exec("UPDATE sessions SET expires_at = now() - interval '1 second'").Error)
	_, _, err = models.LookupSession(ctx, db, token, time.Hour)
	require.ErrorIs(t, err, models.ErrSessionExpired)
	_, _, err = models.LookupSession(ctx, db, token, time.Hour)
	require.ErrorIs(t, err, models.ErrNotFound, "an expired session is deleted")
	_, _, err = models.LookupSession(ctx, db, "forged", time.Hour)
	require.ErrorIs(t, err, models.ErrNotFound)
}

func TestAuthenticateLimits(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	mkUser(t, db, "a@example.com", models.RoleAgent)
	limits := models.LoginLimits{Window: time.Minute, PerAccount: 2, PerIP: 100}
	for range 2 {
		_, err := models.Authenticate(ctx, db, "a@example.com", "bad", "10.0.0.1", limits)
		require.ErrorIs(t, err, models.ErrInvalidCredentials)
	}
	_, err := models.Authenticate(ctx, db, "A@EXAMPLE.COM", "correct horse", "10.0.0.2", limits)
	var rl *models.RateLimitedError
	require.ErrorAs(t, err, &rl)
	assert.True(t, rl.RetryAfter > 0 && rl.RetryAfter <= time.Minute)

	// Old failures fall out of the window and are pruned.
	require.NoError(t, db.Exec("UPDATE login_failures SET at = now() - interval '2 minutes'").Error)
	_, err = models.Authenticate(ctx, db, "a@example.com", "correct horse", "10.0.0.1", limits)
	require.NoError(t, err)
	n, err := models.PruneLoginFailures(ctx, db, time.Minute)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
}

func TestPruneEventsRecordsHorizon(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	_, v, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, v.Customer, "old", models.SessionInfo{})
	})
	require.NoError(t, err)
	var maxXID uint64
	require.NoError(t, db.Raw("SELECT max(xid)::text::bigint FROM events").Scan(&maxXID).Error)
	before, err := models.PrunedBefore(ctx, db)
	require.NoError(t, err)
	assert.Zero(t, before)

	n, err := models.PruneEvents(ctx, db, time.Hour)
	require.NoError(t, err)
	assert.Zero(t, n, "recent events are kept")
	require.NoError(t, db.Exec("UPDATE events SET created_at = now() - interval '2 hours'").Error)
	n, err = models.PruneEvents(ctx, db, time.Hour)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	after, err := models.PrunedBefore(ctx, db)
	require.NoError(t, err)
	assert.Equal(t, maxXID+1, after, "resumes from before this reload instead")
}
