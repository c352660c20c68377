package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Invitation channels.
const (
	InviteEmail = "email"
	InviteSMS   = "sms"
)

// Status lines of invitations, for the team only: when one left, or why it
// failed (the provider's message).
const (
	SysInviteSent   = "session_invite_sent"
	SysInviteFailed = "session_invite_failed"
)

// SupportInvitation is an invitation to join a support session, sent by a
// job (email or SMS).
type SupportInvitation struct {
	ID        int64
	SessionID int64
	Channel   string
	Address   string
	Language  string
	Status    string
	Error     string
	SentAt    *time.Time
	CreatedBy *int64
	CreatedAt time.Time
}

// Invite is an invitation as the agent asks for it.
type Invite struct {
	Channel string // InviteEmail or InviteSMS
	// Address is an email address, or a phone number as typed: in
	// international form, or national for Region.
	Address  string
	Language string // the invitation's language
	// Region is the ISO 3166 country a national phone number belongs to
	// (the desk's default; empty: international form only).
	Region string
}

// NormalizePhone validates a phone number and returns it in E.164
// ("+5511987654321"): a number in international form (+…), or national for
// region. Anything that is not a valid number is a ValidationError on
// "phone".
func NormalizePhone(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", Invalid("phone", "phone_required", nil)
	}
	if utf8.RuneCountInString(raw) > 32 {
		return "", Invalid("phone", "phone_invalid", nil)
	}
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" && !strings.HasPrefix(raw, "+") {
		return "", Invalid("phone", "phone_international", nil)
	}
	n, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", Invalid("phone", "phone_invalid", nil)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// InviteToSession records an invitation to conv's support session for a
// support agent, to be sent by a job the caller inserts in the same
// transaction: to an email address (InviteEmail), or a phone number
// normalised to E.164 (InviteSMS, NormalizePhone). A session whose key no
// longer works cannot be invited to (a ValidationError on "invite").
func InviteToSession(ctx context.Context, t Tx, agent *User, conv *Conversation, in Invite, now time.Time) (*SupportInvitation, error) {
	if !IsSupportAgent(agent) {
		return nil, ErrForbidden
	}
	address, channel, lang := strings.TrimSpace(in.Address), in.Channel, in.Language
	switch channel {
	case InviteEmail:
		v := &ValidationError{}
		validateEmail(v, "email", address)
		if err := v.Err(); err != nil {
			return nil, err
		}
	case InviteSMS:
		var err error
		if address, err = NormalizePhone(address, in.Region); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("invite: channel %q", channel)
	}
	var inv *SupportInvitation
	err := t.run(ctx, func(tx *gorm.DB) error {
		var s SupportSession
		err := tx.Clauses(clause.Locking{Strength: "SHARE"}).Where("conversation_id = ?", conv.ID).Take(&s).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !s.Live(now) {
			return Invalid("invite", "session_key_not_live", nil)
		}
		inv = &SupportInvitation{SessionID: s.ID, Channel: channel, Address: address, Language: clip(lang, 35), Status: "queued", CreatedBy: &agent.ID}
		return tx.Select("SessionID", "Channel", "Address", "Language", "Status", "CreatedBy").Create(inv).Error
	})
	if errors.Is(err, ErrForbidden) {
		return nil, err
	}
	return inv, wrapUnlessDomain(err, "invite to support session of conversation %d", conv.ID)
}

// InvitationToSend is what a job needs to send an invitation.
type InvitationToSend struct {
	Invitation SupportInvitation
	Key        string
	ExpiresAt  time.Time
	AgentName  string
	ConvID     int64
	// Done: already sent or failed (a rerun), or the key no longer works.
	Done bool
}

// LoadInvitation reads invitation id for its job.
func LoadInvitation(ctx context.Context, db *gorm.DB, id int64, now time.Time) (*InvitationToSend, error) {
	var r InvitationToSend
	if err := db.WithContext(ctx).Take(&r.Invitation, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load invitation %d: %w", id, err)
	}
	var s SupportSession
	if err := db.WithContext(ctx).Take(&s, r.Invitation.SessionID).Error; err != nil {
		return nil, fmt.Errorf("load invitation %d session: %w", id, err)
	}
	r.Key, r.ExpiresAt, r.ConvID = s.Key, s.ExpiresAt, s.ConversationID
	if r.Invitation.CreatedBy != nil {
		db.WithContext(ctx).Raw("SELECT name FROM users WHERE id = ?", *r.Invitation.CreatedBy).Scan(&r.AgentName)
	}
	r.Done = r.Invitation.Status != "queued" || !s.Live(now)
	return &r, nil
}

// FinishInvitation records how invitation id ended: sent (failure empty) or
// failed with the provider's message, with a status line for the team
// ("sent to … at 10:02", or the error). A finished invitation is left as it
// is.
func FinishInvitation(ctx context.Context, t Tx, id int64, failure string) error {
	failure = clip(strings.TrimSpace(failure), 500)
	err := t.run(ctx, func(tx *gorm.DB) error {
		var inv SupportInvitation
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&inv, id).Error; err != nil {
			return err
		}
		if inv.Status != "queued" {
			return nil
		}
		updates := map[string]any{"status": "sent", "sent_at": gorm.Expr("now()")}
		line, data := SysInviteSent, JSONMap{"channel": inv.Channel, "to": inv.Address}
		if failure != "" {
			updates = map[string]any{"status": "failed", "error": failure}
			line, data["error"] = SysInviteFailed, failure
		}
		if err := tx.Model(&SupportInvitation{}).Where("id = ?", id).Updates(updates).Error; err != nil {
			return err
		}
		var convID int64
		if err := tx.Raw("SELECT conversation_id FROM support_sessions WHERE id = ?", inv.SessionID).Scan(&convID).Error; err != nil {
			return err
		}
		_, err := insertSystemLine(t, &Conversation{ID: convID}, line, data)
		return err
	})
	return wrapUnlessDomain(err, "finish invitation %d", id)
}
