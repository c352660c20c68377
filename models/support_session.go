package models

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Support-session channels (conversations.channel): a session the customer
// joins (or is awaited) on the support page by typing its key, or through
// its join link.
const (
	ChannelKey  = "key"
	ChannelLink = "link"
)

// Status lines of a support session. The customer sees the end (their next
// message reopens the conversation, as for any closed one); the start and
// the arrival are for the team.
const (
	SysSessionCreated = "session_created"
	SysSessionJoined  = "session_joined"
	SysSessionEnded   = "session_ended"
)

// Why a key does not open a session. Handlers tell the customer which (a
// clear message), since a key is short-lived and single use: knowing that a
// key existed gives a guesser nothing it can still use.
var (
	ErrKeyWrong   = errors.New("support key: no such session")
	ErrKeyExpired = errors.New("support key: expired")
	ErrKeyUsed    = errors.New("support key: already used or session ended")
)

// SupportKeyLen is the number of digits of a support key.
const SupportKeyLen = 6

// DefaultSupportKeyMinutes is how long an unused key stays valid unless an
// admin changed it (desk_settings.support_key_minutes).
const DefaultSupportKeyMinutes = 30

// MaxSessionRequestLen caps the request text the customer sees first.
const MaxSessionRequestLen = 1000

// SupportSession is a customer conversation an agent started with a support
// key: the key opens it once, before it expires and unless it was ended.
type SupportSession struct {
	ID             int64
	ConversationID int64
	Key            string
	LiveKey        *string
	CreatedBy      *int64
	ExpiresAt      time.Time
	JoinedAt       *time.Time
	JoinedVia      *string
	EndedAt        *time.Time
	CreatedAt      time.Time

	// Invitations sent for it, oldest first (FindSupportSession).
	Invitations []SupportInvitation `gorm:"-"`
}

// Live reports whether the key still opens the session at now.
func (s *SupportSession) Live(now time.Time) bool {
	return s.LiveKey != nil && now.Before(s.ExpiresAt)
}

// NormalizeSupportKey keeps the digits of what a customer typed ("123 456",
// "123-456"); ok is false unless exactly SupportKeyLen digits remain and
// nothing but spaces and dashes was dropped.
func NormalizeSupportKey(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '\t':
		default:
			return "", false
		}
		if b.Len() > SupportKeyLen {
			return "", false
		}
	}
	return b.String(), b.Len() == SupportKeyLen
}

// newSupportKey draws a key at random (a variable: tests replace it).
var newSupportKey = func() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// SupportKeyMinutes is how long a new session's key stays valid unused.
func SupportKeyMinutes(ctx context.Context, db *gorm.DB) (int, error) {
	var m int
	if err := db.WithContext(ctx).Raw("SELECT support_key_minutes FROM desk_settings WHERE id = 1").Scan(&m).Error; err != nil {
		return 0, fmt.Errorf("support key minutes: %w", err)
	}
	if m <= 0 {
		m = DefaultSupportKeyMinutes
	}
	return m, nil
}

// SetSupportKeyMinutes sets how long unused keys stay valid: a whole number
// of minutes from 1 to 1440 (a day).
func SetSupportKeyMinutes(ctx context.Context, db *gorm.DB, minutes string) error {
	n, err := strconv.Atoi(strings.TrimSpace(minutes))
	if err != nil || n < 1 || n > 1440 {
		return Invalid("support_key_minutes", "support_key_minutes_range", map[string]any{"Min": 1, "Max": 1440})
	}
	if err := db.WithContext(ctx).Exec("UPDATE desk_settings SET support_key_minutes = ?, updated_at = now() WHERE id = 1", n).Error; err != nil {
		return fmt.Errorf("set support key minutes: %w", err)
	}
	return nil
}

// CreateSupportSession starts a support session on agent's behalf: a new
// (anonymous) customer, a customer conversation assigned to the agent on
// channel "key", the optional request text as the agent's first message
// (what the customer reads first), and a key unique among live sessions
// that expires after the desk's SupportKeyMinutes if nobody uses it.
// Only support agents may start one (ErrForbidden).
func CreateSupportSession(ctx context.Context, t Tx, agent *User, request string, now time.Time) (*SupportSession, *Conversation, error) {
	if !IsSupportAgent(agent) {
		return nil, nil, ErrForbidden
	}
	request = strings.TrimSpace(strings.ReplaceAll(request, "\r\n", "\n"))
	if n := utf8.RuneCountInString(request); n > MaxSessionRequestLen {
		return nil, nil, Invalid("request", "message_too_long", map[string]any{"Max": MaxSessionRequestLen, "Count": n})
	}
	var s *SupportSession
	var conv *Conversation
	err := t.run(ctx, func(tx *gorm.DB) error {
		minutes, err := SupportKeyMinutes(ctx, tx)
		if err != nil {
			return err
		}
		cust := &Customer{}
		if err := tx.Omit(clause.Associations).Select("Name").Create(cust).Error; err != nil {
			return err
		}
		conv = &Conversation{Kind: KindCustomer, Status: StatusOpen, CustomerID: &cust.ID, AssigneeID: &agent.ID, CreatedBy: &agent.ID, Channel: ChannelKey}
		if err := tx.Omit(clause.Associations).Select("Kind", "Status", "CustomerID", "AssigneeID", "CreatedBy", "Channel").Create(conv).Error; err != nil {
			return err
		}
		if err := tx.Raw("SELECT public_id::text FROM conversations WHERE id = ?", conv.ID).Scan(&conv.PublicID).Error; err != nil {
			return err
		}
		conv.Customer = cust
		// Created by the agent: nobody else is alerted (AudienceOf).
		if err := appendEvent(t, Event{ConversationID: &conv.ID, Data: ConversationEvent{Created: true, ByUserID: agent.ID}}); err != nil {
			return err
		}
		if _, err := insertSystemLine(t, conv, SysSessionCreated, JSONMap{"by": agent.Name}); err != nil {
			return err
		}
		if request != "" {
			if _, err := insertMessage(t, conv, Actor{User: agent}, MessageText, request, "", ""); err != nil {
				return err
			}
		}
		expires := now.Add(time.Duration(minutes) * time.Minute)
		for range 20 {
			key := newSupportKey()
			// An expired, never used key is free again.
			if err := tx.Exec("UPDATE support_sessions SET live_key = NULL WHERE live_key = ? AND expires_at <= ?", key, now).Error; err != nil {
				return err
			}
			var rows []SupportSession
			err := tx.Raw(`
				INSERT INTO support_sessions (conversation_id, key, live_key, created_by, expires_at)
				VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (live_key) DO NOTHING
				RETURNING *`, conv.ID, key, key, agent.ID, expires).Scan(&rows).Error
			if err != nil {
				return err
			}
			if len(rows) == 1 {
				s = &rows[0]
				return nil
			}
		}
		return errors.New("no free support key after 20 tries")
	})
	if err != nil {
		if errors.Is(err, ErrForbidden) {
			return nil, nil, err
		}
		return nil, nil, wrapUnlessDomain(err, "create support session")
	}
	return s, conv, nil
}

// FindSupportSession returns conv's support session, or ErrNotFound if it
// was not started as one.
func FindSupportSession(ctx context.Context, db *gorm.DB, convID int64) (*SupportSession, error) {
	var s SupportSession
	err := db.WithContext(ctx).Where("conversation_id = ?", convID).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find support session: %w", err)
	}
	if err := db.WithContext(ctx).Where("session_id = ?", s.ID).Order("id").Find(&s.Invitations).Error; err != nil {
		return nil, fmt.Errorf("find support session invitations: %w", err)
	}
	return &s, nil
}

// keyProblem says why key does not open a session at now: its latest
// session was used or ended, or expired, or there is none.
func keyProblem(tx *gorm.DB, key string, now time.Time) error {
	var rows []SupportSession
	if err := tx.Where("key = ?", key).Order("id DESC").Limit(1).Find(&rows).Error; err != nil {
		return err
	}
	switch {
	case len(rows) == 0:
		return ErrKeyWrong
	case rows[0].JoinedAt != nil || rows[0].EndedAt != nil:
		return ErrKeyUsed
	case !now.Before(rows[0].ExpiresAt):
		return ErrKeyExpired
	}
	return ErrKeyWrong
}

// CheckSupportKey reports whether key would open a session at now, without
// using it: nil, or ErrKeyWrong, ErrKeyExpired, ErrKeyUsed.
func CheckSupportKey(ctx context.Context, db *gorm.DB, key string, now time.Time) error {
	key, ok := NormalizeSupportKey(key)
	if !ok {
		return ErrKeyWrong
	}
	var n int64
	db = db.WithContext(ctx)
	if err := db.Model(&SupportSession{}).Where("live_key = ? AND expires_at > ?", key, now).Count(&n).Error; err != nil {
		return fmt.Errorf("check support key: %w", err)
	}
	if n == 1 {
		return nil
	}
	return keyProblem(db, key, now)
}

// RedeemSupportKey opens a session in the customer's browser, once: the
// key stops working, the conversation records how it was joined (via:
// ChannelKey on the support page, ChannelLink through the link) and the
// browser's details, the team gets a "customer joined" status line, and a
// visitor scoped to that one conversation is created. It returns the
// visitor's token. A key that does not open a session is ErrKeyWrong,
// ErrKeyExpired or ErrKeyUsed, and nothing is stored.
func RedeemSupportKey(ctx context.Context, t Tx, key, via string, info SessionInfo, now time.Time) (string, *Conversation, error) {
	if via != ChannelKey && via != ChannelLink {
		return "", nil, fmt.Errorf("redeem support key: channel %q", via)
	}
	key, ok := NormalizeSupportKey(key)
	if !ok {
		return "", nil, ErrKeyWrong
	}
	var token string
	var conv *Conversation
	err := t.run(ctx, func(tx *gorm.DB) error {
		var ids []int64
		// One statement takes the key: two browsers racing for it cannot
		// both win.
		err := tx.Raw(`
			UPDATE support_sessions SET live_key = NULL, joined_at = ?, joined_via = ?
			WHERE live_key = ? AND expires_at > ?
			RETURNING conversation_id`, now, via, key, now).Scan(&ids).Error
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return keyProblem(tx, key, now)
		}
		conv = &Conversation{}
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(conv, ids[0]).Error; err != nil {
			return err
		}
		info = info.Clean()
		updates := map[string]any{
			"channel": via, "user_agent": clip(info.UserAgent, 500), "browser": clip(info.Browser, 100),
			"os": clip(info.OS, 100), "language": clip(info.Language, 35), "timezone": clip(info.Timezone, 64),
		}
		if err := tx.Model(&Conversation{}).Where("id = ?", conv.ID).Updates(updates).Error; err != nil {
			return err
		}
		conv.Channel, conv.UserAgent, conv.Browser, conv.OS, conv.Language = via, info.UserAgent, info.Browser, info.OS, info.Language
		cust := &Customer{}
		if err := tx.Take(cust, *conv.CustomerID).Error; err != nil {
			return err
		}
		conv.Customer = cust
		if _, err := insertSystemLine(t, conv, SysSessionJoined, JSONMap{"via": via, "browser": conv.Browser, "os": conv.OS}); err != nil {
			return err
		}
		token, _, err = CreateVisitorFor(ctx, tx, cust, conv)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrKeyWrong) || errors.Is(err, ErrKeyExpired) || errors.Is(err, ErrKeyUsed) {
			return "", nil, err
		}
		return "", nil, fmt.Errorf("redeem support key: %w", err)
	}
	return token, conv, nil
}

// EndSupportSession ends conv's support session on a support agent's
// behalf: the key stops working (if still unused), and the conversation is
// closed with a status line the customer sees; their next message reopens
// it like any closed conversation. Ending an ended session changes nothing.
func EndSupportSession(ctx context.Context, t Tx, agent *User, conv *Conversation) error {
	if !IsSupportAgent(agent) {
		return ErrForbidden
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		var s SupportSession
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("conversation_id = ?", conv.ID).Take(&s).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if s.EndedAt != nil {
			return nil
		}
		if err := tx.Exec("UPDATE support_sessions SET live_key = NULL, ended_at = now() WHERE id = ?", s.ID).Error; err != nil {
			return err
		}
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(conv, conv.ID).Error; err != nil {
			return err
		}
		if conv.Status == StatusOpen {
			return setStatus(t, conv, Actor{User: agent}, StatusClosed, SysSessionEnded)
		}
		_, err = insertSystemLine(t, conv, SysSessionEnded, JSONMap{"by": agent.Name})
		return err
	})
	if errors.Is(err, ErrForbidden) {
		return err
	}
	return wrapUnlessDomain(err, "end support session of conversation %d", conv.ID)
}
