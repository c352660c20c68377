package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// Brute force stays throttled — from one address, from one address over
// many accounts, from many addresses against one account, and with a known
// device's cookie — yet none of it locks the owner out: the right password
// gets in from another address, and from a known device even when many
// addresses hammer the account.
func TestSignInThrottlesWithoutLockingTheOwnerOut(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ada := mkUser(t, db, "ada@example.com", models.RoleAgent)
	mkUser(t, db, "bob@example.com", models.RoleAgent)
	limits := models.LoginLimits{Window: time.Minute, PerAccountIP: 3, PerIP: 6, PerAccount: 8, PerDevice: 3}
	try := func(email, password, ip, device string) (*models.SignInResult, error) {
		return models.SignIn(ctx, db, models.LoginAttempt{Email: email, Password: password, IP: ip, Device: device}, limits)
	}
	limited := func(err error, scope string) {
		t.Helper()
		var rl *models.RateLimitedError
		require.ErrorAs(t, err, &rl)
		require.Equal(t, scope, rl.Scope)
		require.True(t, rl.RetryAfter > 0 && rl.RetryAfter <= time.Minute)
	}

	// Ada's laptop signed in once: it is a known device of her account.
	res, err := try("ada@example.com", "correct horse", "198.51.100.1", "")
	require.NoError(t, err)
	require.Equal(t, ada.ID, res.User.ID)
	laptop := res.Device
	require.NotEmpty(t, laptop)

	// One address guessing: throttled after three, even with the right password.
	for range 3 {
		_, err := try("ada@example.com", "guess", "203.0.113.1", "")
		require.ErrorIs(t, err, models.ErrInvalidCredentials)
	}
	_, err = try("ada@example.com", "correct horse", "203.0.113.1", "")
	limited(err, models.LimitAccountIP)
	// …but the owner from another address, new browser, gets in.
	res, err = try("ada@example.com", "correct horse", "198.51.100.2", "")
	require.NoError(t, err)
	require.NotEqual(t, laptop, res.Device, "a new browser becomes a new known device")

	// The same address moving on to other accounts: its own total stops it.
	for _, email := range []string{"bob@example.com", "carl@example.com", "dora@example.com"} {
		_, err := try(email, "guess", "203.0.113.1", "")
		require.ErrorIs(t, err, models.ErrInvalidCredentials)
	}
	_, err = try("eve@example.com", "guess", "203.0.113.1", "")
	limited(err, models.LimitIP)
	_, err = try("bob@example.com", "correct horse", "198.51.100.3", "")
	require.NoError(t, err, "Bob is not locked out either")

	// Many addresses against Ada: unknown browsers are shut out of her
	// account, her laptop is not, from wherever it is.
	for i := range 5 {
		_, err := try("ada@example.com", "guess", fmt.Sprintf("203.0.113.%d", 10+i), "")
		require.ErrorIs(t, err, models.ErrInvalidCredentials)
	}
	_, err = try("ada@example.com", "correct horse", "198.51.100.4", "")
	limited(err, models.LimitAccount)
	res, err = try("ada@example.com", "correct horse", "203.0.113.1", laptop)
	require.NoError(t, err, "a known device gets in, even from the throttled address")
	require.Equal(t, laptop, res.Device)
	// A device cookie of another account counts for nothing here.
	bobs, err := try("bob@example.com", "correct horse", "198.51.100.3", "")
	require.NoError(t, err)
	_, err = try("ada@example.com", "correct horse", "198.51.100.4", bobs.Device)
	limited(err, models.LimitAccount)

	// Guessing with the device cookie itself: limited to that device.
	for range 3 {
		_, err := try("ada@example.com", "guess", "198.51.100.5", laptop)
		require.ErrorIs(t, err, models.ErrInvalidCredentials)
	}
	_, err = try("ada@example.com", "correct horse", "198.51.100.5", laptop)
	limited(err, models.LimitDevice)

	// Everything lifts as failures leave the window; expired devices go.
	require.NoError(t, db.Exec("UPDATE login_failures SET at = now() - interval '2 minutes'").Error)
	_, err = try("ada@example.com", "correct horse", "203.0.113.1", "")
	require.NoError(t, err)
	require.NoError(t, db.Exec("UPDATE login_devices SET expires_at = now() - interval '1 second' WHERE user_id = ?", ada.ID).Error)
	n, err := models.PruneLoginFailures(ctx, db, time.Minute)
	require.NoError(t, err)
	require.EqualValues(t, 14, n)
	var devices int64
	require.NoError(t, db.Raw("SELECT count(*) FROM login_devices WHERE user_id = ?", ada.ID).Scan(&devices).Error)
	require.Zero(t, devices)
}
