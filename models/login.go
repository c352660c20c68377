package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// LoginLimits bound failed sign-ins in a sliding window. The counts live in
// PostgreSQL, so every instance behind a load balancer enforces the same
// limit.
type LoginLimits struct {
	Window     time.Duration
	PerAccount int // failures for one email address
	PerIP      int // failures from one client address, whatever the email
}

// DefaultLoginLimits: five wrong passwords for one account, or thirty from one
// address, in fifteen minutes.
var DefaultLoginLimits = LoginLimits{Window: 15 * time.Minute, PerAccount: 5, PerIP: 30}

// Authenticate checks an email and password for a sign-in from ip. It refuses
// with *RateLimitedError while too many recent failures exist for the email
// or the address, and with ErrInvalidCredentials for an unknown email, a wrong
// password or a deactivated account; each failure is recorded.
func Authenticate(ctx context.Context, db *gorm.DB, email, password, ip string, limits LoginLimits) (*User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	db = db.WithContext(ctx)
	if err := checkLoginLimits(db, email, ip, limits); err != nil {
		return nil, err
	}
	u, err := FindUserByEmail(ctx, db, email)
	if err != nil && err != ErrNotFound {
		return nil, err
	}
	ok := false
	if u != nil {
		ok = CheckPassword(u.PasswordHash, password) && u.Active
	} else {
		CheckPassword(dummyHash, password)
	}
	if !ok {
		if err := db.Exec("INSERT INTO login_failures (email, ip) VALUES (?, ?)", email, ip).Error; err != nil {
			return nil, fmt.Errorf("record login failure: %w", err)
		}
		return nil, ErrInvalidCredentials
	}
	return u, nil
}

func checkLoginLimits(db *gorm.DB, email, ip string, limits LoginLimits) error {
	var row struct {
		ByEmail, ByIP         int
		OldestEmail, OldestIP *time.Time
	}
	err := db.Raw(`
		SELECT
		  count(*) FILTER (WHERE lower(email) = ?)    AS by_email,
		  count(*) FILTER (WHERE ip = ?)              AS by_ip,
		  min(at)  FILTER (WHERE lower(email) = ?)    AS oldest_email,
		  min(at)  FILTER (WHERE ip = ?)              AS oldest_ip
		FROM login_failures
		WHERE at > now() - make_interval(secs => ?) AND (lower(email) = ? OR ip = ?)`,
		email, ip, email, ip, limits.Window.Seconds(), email, ip).Scan(&row).Error
	if err != nil {
		return fmt.Errorf("check login limits: %w", err)
	}
	retry := func(oldest *time.Time) error {
		wait := limits.Window
		if oldest != nil {
			wait = time.Until(oldest.Add(limits.Window))
		}
		return &RateLimitedError{RetryAfter: max(wait, time.Second)}
	}
	if row.ByEmail >= limits.PerAccount {
		return retry(row.OldestEmail)
	}
	if row.ByIP >= limits.PerIP {
		return retry(row.OldestIP)
	}
	return nil
}

// PruneLoginFailures forgets failures older than the window; a periodic job
// calls it so the table stays small.
func PruneLoginFailures(ctx context.Context, db *gorm.DB, window time.Duration) (int64, error) {
	res := db.WithContext(ctx).Exec("DELETE FROM login_failures WHERE at <= now() - make_interval(secs => ?)", window.Seconds())
	return res.RowsAffected, res.Error
}
