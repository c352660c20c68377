package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Participants: the agents in a customer conversation (the desk's
// Participants panel, after Chatwoot's participants and LogMeIn Rescue's
// hidden technician). An agent joins by themselves, visibly or hidden, or is
// invited by another (visibly; the invitee is notified); either may leave.
// Each join or leave is a status line: "X joined" / "X left" for a visible
// agent, which the customer sees too, and a staff-only line for a hidden one,
// whose replies the customer sees under the desk's name (AuthorHidden,
// CustomerAuthorName). Joining also follows the conversation (it shows in
// My conversations and its messages notify them) and leaving stops following
// it, like Chatwoot's participants, who are its watchers.
// Who may be a participant is CanJoinConversation (access.go).

// Participant is an agent's place in a conversation.
type Participant struct {
	ConversationID int64
	UserID         int64
	Hidden         bool
	InvitedBy      *int64
	JoinedAt       time.Time
	LeftAt         *time.Time

	User    *User `gorm:"foreignKey:UserID"`
	Inviter *User `gorm:"foreignKey:InvitedBy"`
}

// TableName maps Participant to its table.
func (Participant) TableName() string { return "conversation_participants" }

// Participants lists the agents now in conv (not left; a deactivated user
// is no longer anyone's teammate), in the order they joined, with their
// users.
func Participants(ctx context.Context, db *gorm.DB, conv *Conversation) ([]Participant, error) {
	var ps []Participant
	if err := pipelined(ctx, db, participantsRead(conv, &ps)); err != nil {
		return nil, fmt.Errorf("participants of conversation %d: %w", conv.ID, err)
	}
	if err := participantUsers(ctx, db, ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// participantsRead is Participants' statement (the rows, without their
// users: participantUsers).
func participantsRead(conv *Conversation, dst *[]Participant) pipelinedRead {
	return readInto(dst, `SELECT * FROM conversation_participants
		WHERE conversation_id = $1 AND left_at IS NULL AND user_id IN (SELECT id FROM users WHERE active)
		ORDER BY joined_at, user_id`, conv.ID)
}

// participantUsers reads the users of ps, and those who invited them, in
// one statement (none when ps is empty, as most conversations' is).
func participantUsers(ctx context.Context, db *gorm.DB, ps []Participant) error {
	if len(ps) == 0 {
		return nil
	}
	ids := make([]int64, 0, 2*len(ps))
	for _, p := range ps {
		ids = append(ids, p.UserID)
		if p.InvitedBy != nil {
			ids = append(ids, *p.InvitedBy)
		}
	}
	var us []User
	if err := db.WithContext(ctx).Where("id IN ?", ids).Find(&us).Error; err != nil {
		return fmt.Errorf("participants' users: %w", err)
	}
	byID := make(map[int64]*User, len(us))
	for i := range us {
		byID[us[i].ID] = &us[i]
	}
	for i := range ps {
		ps[i].User = byID[ps[i].UserID]
		if ps[i].InvitedBy != nil {
			ps[i].Inviter = byID[*ps[i].InvitedBy]
		}
	}
	return nil
}

// InvitableAgents lists the agents who may be invited into conv
// (CanJoinConversation, in its SQL form) and are not in it now, by name.
func InvitableAgents(ctx context.Context, db *gorm.DB, conv *Conversation) ([]User, error) {
	var us []User
	err := db.WithContext(ctx).Raw(`SELECT u.* FROM users u, conversations c
		WHERE c.id = ? AND `+usersMayJoinSQL("u", "c")+`
		  AND NOT EXISTS (SELECT 1 FROM conversation_participants p
		                  WHERE p.conversation_id = c.id AND p.user_id = u.id AND p.left_at IS NULL)
		ORDER BY lower(u.name), u.id`, conv.ID).Scan(&us).Error
	if err != nil {
		return nil, fmt.Errorf("invitable agents of conversation %d: %w", conv.ID, err)
	}
	return us, nil
}

// hiddenAuthorSQL says whether the user @user_id acts in the conversation
// @conv as a hidden participant: their row says hidden, whether they left
// or not, until they join visibly. Their messages (insertMessage), the
// status lines they cause (setStatus) and their typing never name them to
// the customer.
const hiddenAuthorSQL = `EXISTS (SELECT 1 FROM conversation_participants hp
	WHERE hp.conversation_id = @conv AND hp.user_id = @user_id AND hp.hidden)`

// HiddenIn reports whether the user acts in conv as a hidden participant
// (hiddenAuthorSQL): their typing is not announced to the customer.
func HiddenIn(ctx context.Context, db *gorm.DB, conv *Conversation, userID int64) (bool, error) {
	var hidden bool
	err := db.WithContext(ctx).Raw(`SELECT `+hiddenAuthorSQL, map[string]any{"conv": conv.ID, "user_id": userID}).Scan(&hidden).Error
	if err != nil {
		return false, fmt.Errorf("hidden in conversation %d: %w", conv.ID, err)
	}
	return hidden, nil
}

// JoinConversation puts u in conv, hidden or not. Joining twice is a
// ValidationError (leave first to change how one is in it).
func JoinConversation(ctx context.Context, t Tx, u *User, conv *Conversation, hidden bool) error {
	if conv.Kind != KindCustomer {
		return Invalid("participant", "participants_customer_only", nil)
	}
	if !CanJoinConversation(u, conv) {
		return ErrForbidden
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		return join(t, u, nil, conv, hidden)
	})
	return wrapUnlessDomain(err, "join conversation %d", conv.ID)
}

// InviteParticipant puts the agent inviteeID in conv on by's invitation,
// visibly, and notifies them. The invitee must be an active agent who may
// join it (CanJoinConversation) and not be in it already; each refusal is a
// ValidationError on user_id saying why, and stores nothing.
func InviteParticipant(ctx context.Context, t Tx, by *User, conv *Conversation, inviteeID int64) error {
	if conv.Kind != KindCustomer {
		return Invalid("user_id", "participants_customer_only", nil)
	}
	if !CanJoinConversation(by, conv) {
		return ErrForbidden
	}
	if inviteeID == by.ID {
		return Invalid("user_id", "invitee_self", nil)
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		var invitee User
		err := tx.Take(&invitee, inviteeID).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return Invalid("user_id", "invitee_unknown", nil)
		case err != nil:
			return err
		case !invitee.Active:
			return Invalid("user_id", "invitee_deactivated", map[string]any{"Name": invitee.Name})
		case !CanJoinConversation(&invitee, conv):
			return Invalid("user_id", "invitee_no_access", map[string]any{"Name": invitee.Name})
		}
		return join(t, &invitee, by, conv, false)
	})
	return wrapUnlessDomain(err, "invite into conversation %d", conv.ID)
}

// join records u joining conv (invited by by, if any) with its status line,
// its follow and its event. tx is t's.
func join(t Tx, u, by *User, conv *Conversation, hidden bool) error {
	tx := t.db
	// Participant changes of one conversation take turns.
	if err := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Omit(clause.Associations).Take(conv, conv.ID).Error; err != nil {
		return err
	}
	var invitedBy *int64
	if by != nil {
		invitedBy = &by.ID
	}
	res := tx.Exec(`
		INSERT INTO conversation_participants (conversation_id, user_id, hidden, invited_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (conversation_id, user_id) DO UPDATE
		  SET hidden = EXCLUDED.hidden, invited_by = EXCLUDED.invited_by, joined_at = now(), left_at = NULL
		  WHERE conversation_participants.left_at IS NOT NULL`, conv.ID, u.ID, hidden, invitedBy)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		field := "participant"
		if by != nil {
			field = "user_id"
		}
		return Invalid(field, "already_participant", map[string]any{"Name": u.Name})
	}
	if err := setFollow(t, u, conv, true); err != nil {
		return err
	}
	event, data := SysJoined, JSONMap{"name": u.Name}
	if hidden {
		event = SysJoinedHidden
	}
	change := &ParticipantChange{UserID: u.ID, Joined: true, Hidden: hidden}
	if by != nil {
		data["by"], change.ByUserID = by.Name, by.ID
	}
	if _, err := insertSystemLine(t, conv, event, data); err != nil {
		return err
	}
	return appendEvent(t, Event{ConversationID: &conv.ID, Data: ConversationEvent{Participant: change}})
}

// LeaveConversation takes u out of conv. Someone not in it gets a
// ValidationError.
func LeaveConversation(ctx context.Context, t Tx, u *User, conv *Conversation) error {
	err := t.run(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Omit(clause.Associations).Take(conv, conv.ID).Error; err != nil {
			return err
		}
		var hidden []bool
		err := tx.Raw(`UPDATE conversation_participants SET left_at = greatest(now(), joined_at)
			WHERE conversation_id = ? AND user_id = ? AND left_at IS NULL RETURNING hidden`, conv.ID, u.ID).Scan(&hidden).Error
		if err != nil {
			return err
		}
		if len(hidden) == 0 {
			return Invalid("participant", "not_participant", nil)
		}
		if err := setFollow(t, u, conv, false); err != nil {
			return err
		}
		event := SysLeft
		if hidden[0] {
			event = SysLeftHidden
		}
		if _, err := insertSystemLine(t, conv, event, JSONMap{"name": u.Name}); err != nil {
			return err
		}
		ev := ConversationEvent{Participant: &ParticipantChange{UserID: u.ID, Hidden: hidden[0]}}
		return appendEvent(t, Event{ConversationID: &conv.ID, Data: ev})
	})
	return wrapUnlessDomain(err, "leave conversation %d", conv.ID)
}

// setFollow is SetFollowing inside a participant change: joining follows
// the conversation, leaving stops following it.
func setFollow(t Tx, u *User, conv *Conversation, follow bool) error {
	res := t.db.Exec(`
		INSERT INTO conversation_users (conversation_id, user_id, following) VALUES (?, ?, ?)
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET following = EXCLUDED.following
		WHERE conversation_users.following <> EXCLUDED.following`, conv.ID, u.ID, follow)
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	return appendEvent(t, Event{ConversationID: &conv.ID, UserID: &u.ID, Data: ConversationEvent{Following: &follow}})
}

// CustomerLineActor is who a status line the customer sees says did it
// ("Ana closed this conversation"): the actor's name, or desk (the desk's
// name) when they acted as a hidden participant (the line's by_hidden).
func CustomerLineActor(m *Message, desk string) string {
	if hidden, _ := m.EventData["by_hidden"].(bool); hidden {
		return desk
	}
	by, _ := m.EventData["by"].(string)
	return by
}

// ParticipantsView is what the Participants panel shows: the agents in the
// conversation. Who may be invited into it loads when the Invite menu is
// used (InvitableAgents).
type ParticipantsView struct {
	Participants []Participant
}

// In reports whether userID is in the conversation now, and hidden.
func (p *ParticipantsView) In(userID int64) (in, hidden bool) {
	for _, x := range p.Participants {
		if x.UserID == userID {
			return true, x.Hidden
		}
	}
	return false, false
}

// LoadParticipants returns conv's Participants panel (nil for a teammate
// chat, which has members instead).
func LoadParticipants(ctx context.Context, db *gorm.DB, conv *Conversation) (*ParticipantsView, error) {
	if conv.Kind != KindCustomer {
		return nil, nil
	}
	ps, err := Participants(ctx, db, conv)
	if err != nil {
		return nil, err
	}
	return &ParticipantsView{Participants: ps}, nil
}
