package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Sign-in throttling that an attacker cannot turn into a lock-out.
//
// A failure counts against the pair (account, address) it came from, the
// address, and the account. An address that fails too often for one account
// is throttled for that account only, and one that fails too often overall is
// throttled for every account; neither stops the owner signing in from
// another address. Only failures spread over many addresses, past
// PerAccount, close the account to unknown browsers — and even then a
// browser that signed in to that account before (a "device cookie", as
// OWASP describes) still gets in: known devices skip those throttles and are
// held to their own failure count instead, so a stolen device cookie buys no
// guesses either. The counts live in PostgreSQL, so every instance behind a
// load balancer enforces the same limits.

// LoginLimits bound failed sign-ins in a sliding window. A zero limit is no
// limit of that kind.
type LoginLimits struct {
	Window time.Duration
	// PerAccountIP: failures for one email address from one client address;
	// past it that address may not try that account.
	PerAccountIP int
	// PerIP: failures from one client address, whatever the email; past it
	// that address may not try any account from an unknown browser.
	PerIP int
	// PerAccount: failures for one email address from all addresses (a
	// distributed attack); past it only known devices may try that account.
	PerAccount int
	// PerDevice: failures that came with one known device's cookie; past it
	// that device may not try.
	PerDevice int
}

// DefaultLoginLimits: in fifteen minutes, five wrong passwords for one
// account from one address, thirty from one address, fifty for one account
// from everywhere (at least ten addresses), ten from one known device.
var DefaultLoginLimits = LoginLimits{Window: 15 * time.Minute, PerAccountIP: 5, PerIP: 30, PerAccount: 50, PerDevice: 10}

// DeviceTTL is how long a browser stays a known device of an account after
// its last successful sign-in.
const DeviceTTL = 180 * 24 * time.Hour

// Rate-limit scopes of a refused sign-in (RateLimitedError.Scope).
const (
	LimitAccountIP = "account_ip"
	LimitIP        = "ip"
	LimitAccount   = "account" // only a known device may try this account now
	LimitDevice    = "device"
)

// LoginAttempt is one sign-in: the form's email and password, the client's
// address and the device cookie it sent, if any.
type LoginAttempt struct {
	Email, Password, IP string
	Device              string
}

// SignInResult is a successful sign-in: the user, and the device token the
// browser keeps (the same one when it was already known, a new one
// otherwise).
type SignInResult struct {
	User   *User
	Device string
}

// SignIn checks an attempt. It refuses with *RateLimitedError while the
// throttles that apply to it are exceeded (see the package comment above),
// and with ErrInvalidCredentials for an unknown email, a wrong password or a
// deactivated account; each failure is recorded.
func SignIn(ctx context.Context, db *gorm.DB, in LoginAttempt, limits LoginLimits) (*SignInResult, error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	db = db.WithContext(ctx)
	u, err := FindUserByEmail(ctx, db, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var device []byte // the hash of a device cookie known for this account
	if u != nil && in.Device != "" {
		var owner []int64
		if err := db.Raw("SELECT user_id FROM login_devices WHERE token_hash = ? AND expires_at > now()", hashToken(in.Device)).Scan(&owner).Error; err != nil {
			return nil, fmt.Errorf("check device: %w", err)
		}
		if len(owner) == 1 && owner[0] == u.ID {
			device = hashToken(in.Device)
		}
	}
	if device != nil {
		err = checkDeviceLimit(db, device, limits)
	} else {
		err = checkLoginLimits(db, email, in.IP, limits)
	}
	if err != nil {
		return nil, err
	}
	ok := false
	if u != nil {
		ok = CheckPassword(u.PasswordHash, in.Password) && u.Active
	} else {
		CheckPassword(dummyHash, in.Password)
	}
	if !ok {
		if err := db.Exec("INSERT INTO login_failures (email, ip, device_hash) VALUES (?, ?, ?)", email, in.IP, device).Error; err != nil {
			return nil, fmt.Errorf("record login failure: %w", err)
		}
		return nil, ErrInvalidCredentials
	}
	res := &SignInResult{User: u, Device: in.Device}
	expires := time.Now().Add(DeviceTTL)
	if device != nil {
		err = db.Exec("UPDATE login_devices SET last_used_at = now(), expires_at = ? WHERE token_hash = ?", expires, device).Error
	} else {
		res.Device = RandomToken(32)
		// (The hash is not first: GORM would expand a byte slice right after "(".)
		err = db.Exec("INSERT INTO login_devices (user_id, token_hash, expires_at) VALUES (?, ?, ?)", u.ID, hashToken(res.Device), expires).Error
	}
	if err != nil {
		return nil, fmt.Errorf("record device: %w", err)
	}
	return res, nil
}

// Authenticate is SignIn from an unknown browser, for callers that keep no
// device cookie.
func Authenticate(ctx context.Context, db *gorm.DB, email, password, ip string, limits LoginLimits) (*User, error) {
	res, err := SignIn(ctx, db, LoginAttempt{Email: email, Password: password, IP: ip}, limits)
	if err != nil {
		return nil, err
	}
	return res.User, nil
}

// limitErr is the refusal for a throttle whose oldest counted failure is at
// oldest: it lifts once that failure leaves the window.
func limitErr(scope string, oldest *time.Time, window time.Duration) error {
	wait := window
	if oldest != nil {
		wait = time.Until(oldest.Add(window))
	}
	return &RateLimitedError{RetryAfter: max(wait, time.Second), Scope: scope}
}

func exceeded(count, limit int) bool { return limit > 0 && count >= limit }

func checkLoginLimits(db *gorm.DB, email, ip string, limits LoginLimits) error {
	var row struct {
		Pair, ByIP, ByEmail               int
		OldestPair, OldestIP, OldestEmail *time.Time
	}
	err := db.Raw(`
		SELECT
		  count(*) FILTER (WHERE lower(email) = @email AND ip = @ip) AS pair,
		  count(*) FILTER (WHERE ip = @ip)                           AS by_ip,
		  count(*) FILTER (WHERE lower(email) = @email)              AS by_email,
		  min(at)  FILTER (WHERE lower(email) = @email AND ip = @ip) AS oldest_pair,
		  min(at)  FILTER (WHERE ip = @ip)                           AS oldest_ip,
		  min(at)  FILTER (WHERE lower(email) = @email)              AS oldest_email
		FROM login_failures
		WHERE at > now() - make_interval(secs => @secs) AND (lower(email) = @email OR ip = @ip)`,
		map[string]any{"email": email, "ip": ip, "secs": limits.Window.Seconds()}).Scan(&row).Error
	if err != nil {
		return fmt.Errorf("check login limits: %w", err)
	}
	switch {
	case exceeded(row.Pair, limits.PerAccountIP):
		return limitErr(LimitAccountIP, row.OldestPair, limits.Window)
	case exceeded(row.ByIP, limits.PerIP):
		return limitErr(LimitIP, row.OldestIP, limits.Window)
	case exceeded(row.ByEmail, limits.PerAccount):
		return limitErr(LimitAccount, row.OldestEmail, limits.Window)
	}
	return nil
}

func checkDeviceLimit(db *gorm.DB, device []byte, limits LoginLimits) error {
	var row struct {
		N      int
		Oldest *time.Time
	}
	err := db.Raw(`SELECT count(*) AS n, min(at) AS oldest FROM login_failures
		WHERE device_hash = ? AND at > now() - make_interval(secs => ?)`, device, limits.Window.Seconds()).Scan(&row).Error
	if err != nil {
		return fmt.Errorf("check device limit: %w", err)
	}
	if exceeded(row.N, limits.PerDevice) {
		return limitErr(LimitDevice, row.Oldest, limits.Window)
	}
	return nil
}

// PruneLoginFailures forgets failures older than the window, and devices
// past their expiry; a periodic job calls it so the tables stay small.
func PruneLoginFailures(ctx context.Context, db *gorm.DB, window time.Duration) (int64, error) {
	db = db.WithContext(ctx)
	if err := db.Exec("DELETE FROM login_devices WHERE expires_at <= now()").Error; err != nil {
		return 0, err
	}
	res := db.Exec("DELETE FROM login_failures WHERE at <= now() - make_interval(secs => ?)", window.Seconds())
	return res.RowsAffected, res.Error
}
