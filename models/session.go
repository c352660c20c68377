package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Session is a signed-in browser. The cookie carries a random token; only its
// SHA-256 is stored, so reading the table does not let anyone sign in.
type Session struct {
	TokenHash  []byte `gorm:"primaryKey"`
	UserID     int64
	CSRFToken  string `gorm:"column:csrf_token"`
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	IP         string `gorm:"column:ip"`
}

// ErrSessionExpired is returned for a token whose session timed out, so the
// sign-in page can say why the user has to sign in again.
var ErrSessionExpired = errors.New("session expired")

// touchEvery limits how often a busy session's expiry is pushed forward: one
// write a minute per session, not one per request.
const touchEvery = time.Minute

// RandomToken returns n random bytes, URL-safe base64 encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the kernel's CSPRNG does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// SessionOpts describe the browser a session is created for.
type SessionOpts struct {
	TTL       time.Duration // idle lifetime: each request within it extends the session
	UserAgent string
	IP        string
}

// CreateSession starts a session for an active user and returns the cookie
// token. The session has its own CSRF token, rotated with every sign-in.
func CreateSession(ctx context.Context, db *gorm.DB, userID int64, opts SessionOpts) (string, *Session, error) {
	token := RandomToken(32)
	// Cut on a character boundary: half a character is not UTF-8 and
	// PostgreSQL refuses it.
	ua := clip(opts.UserAgent, 500)
	s := &Session{
		TokenHash: hashToken(token), UserID: userID, CSRFToken: RandomToken(32),
		ExpiresAt: time.Now().Add(opts.TTL), UserAgent: ua, IP: opts.IP,
	}
	if err := db.WithContext(ctx).Select("TokenHash", "UserID", "CSRFToken", "ExpiresAt", "UserAgent", "IP").Create(s).Error; err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	return token, s, nil
}

// LookupSession returns the session and user for a cookie token. An unknown
// token or a deactivated user is ErrNotFound; a timed-out session is
// ErrSessionExpired (and is deleted). A live session's expiry slides forward
// by ttl, written at most once a minute.
func LookupSession(ctx context.Context, db *gorm.DB, token string, ttl time.Duration) (*Session, *User, error) {
	if token == "" {
		return nil, nil, ErrNotFound
	}
	db = db.WithContext(ctx)
	// One round trip for the session and its user: this runs on every request.
	var rows []struct {
		Session
		User `gorm:"embedded;embeddedPrefix:u_"`
	}
	err := pipelined(ctx, db, readInto(&rows, `
		SELECT s.*, u.id AS u_id, u.name AS u_name, u.email AS u_email, u.password_hash AS u_password_hash,
		       u.role AS u_role, u.customer_support AS u_customer_support, u.active AS u_active, u.locale AS u_locale,
		       u.notify_sound AS u_notify_sound, u.font_size AS u_font_size, u.spellcheck AS u_spellcheck,
		       u.can_view_reports AS u_can_view_reports,
		       u.created_at AS u_created_at, u.updated_at AS u_updated_at,
		       u.deactivated_at AS u_deactivated_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1`, hashToken(token)))
	if err != nil {
		return nil, nil, fmt.Errorf("lookup session: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil, ErrNotFound
	}
	s, u := rows[0].Session, rows[0].User
	now := time.Now()
	if !s.ExpiresAt.After(now) {
		db.Where("token_hash = ?", s.TokenHash).Delete(&Session{})
		return nil, nil, ErrSessionExpired
	}
	if !u.Active {
		return nil, nil, ErrNotFound
	}
	if now.Sub(s.LastSeenAt) > touchEvery {
		s.LastSeenAt, s.ExpiresAt = now, now.Add(ttl)
		if err := db.Model(&Session{}).Where("token_hash = ?", s.TokenHash).
			Updates(map[string]any{"last_seen_at": s.LastSeenAt, "expires_at": s.ExpiresAt}).Error; err != nil {
			return nil, nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return &s, &u, nil
}

// DeleteSession ends the session behind token (sign-out), and with it the
// desks open on that session (an access event in the same transaction).
// Unknown tokens are ignored: signing out twice is not an error.
func DeleteSession(ctx context.Context, t Tx, token string) error {
	return t.run(ctx, func(tx *gorm.DB) error {
		var users []int64
		if err := tx.Raw("DELETE FROM sessions WHERE token_hash = ? RETURNING user_id", hashToken(token)).Scan(&users).Error; err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		for _, id := range users {
			if err := appendAccessEvent(t, id, "signed_out"); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteExpiredSessions removes sessions past their expiry and returns how
// many; a periodic job calls it.
func DeleteExpiredSessions(ctx context.Context, db *gorm.DB) (int64, error) {
	res := db.WithContext(ctx).Where("expires_at <= now()").Delete(&Session{})
	return res.RowsAffected, res.Error
}
