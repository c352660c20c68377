package models

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/lib/pq"
	"gorm.io/gorm"
)

// MaxPrivateRecipients bounds how many teammates one private message is for.
const MaxPrivateRecipients = 20

// teammatesSQL selects the users "in" the customer conversation @conv, who
// may receive a private message there: active support agents (IsSupportAgent)
// who are its assignee, its participants (the Participants panel, not
// left), or whose row says they wrote in it or follow it. It is the one
// definition (ConversationTeammates and privateRecipients read it).
// It starts from @conv's people (their ids, then each user by key), so it
// costs the same in a desk of 2,000 agents as in one of 5: written as a
// condition on every user, PostgreSQL read them all on each open. (Written
// as EXISTS correlated with the user, it hashed every conversation_users
// row of the desk: 9 ms at 10,000 conversations.)
var teammatesSQL = `SELECT u.* FROM users u
	WHERE u.id IN (
		SELECT c.assignee_id FROM conversations c WHERE c.id = @conv
		UNION ALL SELECT cu.user_id FROM conversation_users cu WHERE cu.conversation_id = @conv
			AND (cu.member OR cu.participated OR cu.following)
		UNION ALL SELECT p.user_id FROM conversation_participants p WHERE p.conversation_id = @conv AND p.left_at IS NULL)
	  AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = @conv AND c.kind = 'customer')
	  AND ` + supportAgentSQL("u")

// ConversationTeammates lists the agents in a customer conversation, by name:
// its assignee, the agents who wrote in it, its followers and its explicit
// participants, if they are still active support agents. The composer's "To"
// menu offers them (but the viewer) as recipients of a private message, and
// PostMessageWithOpts accepts no one else. A teammate chat has none.
func ConversationTeammates(ctx context.Context, db *gorm.DB, conv *Conversation) ([]User, error) {
	var us []User
	if conv == nil || conv.Kind != KindCustomer {
		return nil, nil
	}
	if err := pipelined(ctx, db, teammatesRead(conv, &us)); err != nil {
		return nil, fmt.Errorf("teammates of conversation %d: %w", conv.ID, err)
	}
	return us, nil
}

// teammatesRead is ConversationTeammates' statement, for a customer
// conversation.
func teammatesRead(conv *Conversation, dst *[]User) pipelinedRead {
	return readNamed(dst, teammatesSQL+` ORDER BY lower(u.name), u.id`, map[string]any{"conv": conv.ID})
}

// privateRecipients checks the "To" of a private message by author in conv
// (whose row the caller holds locked): at least one teammate besides the
// author, at most MaxPrivateRecipients, every one of them in the
// conversation (ConversationTeammates). It returns them by name.
func privateRecipients(ctx context.Context, tx *gorm.DB, conv *Conversation, author *User, ids []int64) ([]User, error) {
	want := map[int64]bool{}
	for _, id := range ids {
		if id != author.ID {
			want[id] = true
		}
	}
	switch {
	case len(want) == 0:
		return nil, Invalid("to", "private_to_required", nil)
	case len(want) > MaxPrivateRecipients:
		return nil, Invalid("to", "private_to_too_many", map[string]any{"Max": MaxPrivateRecipients})
	}
	in, err := ConversationTeammates(ctx, tx, conv)
	if err != nil {
		return nil, err
	}
	var out []User
	for _, u := range in {
		if want[u.ID] {
			out = append(out, u)
		}
	}
	if len(out) != len(want) {
		return nil, Invalid("to", "private_to_not_in_conversation", nil)
	}
	return out, nil
}

// addRecipients records who the private message m is for and moves each
// recipient's private marker (conversation_users.last_private_message_id),
// so the conversation is unread for them alone.
func addRecipients(tx *gorm.DB, m *Message, to []User) error {
	ids := make([]int64, len(to))
	for i, u := range to {
		ids[i] = u.ID
	}
	err := tx.Exec(`
		WITH r AS (
			INSERT INTO message_recipients (message_id, user_id) SELECT @msg, u FROM unnest(CAST(@users AS bigint[])) AS u
		)
		INSERT INTO conversation_users (conversation_id, user_id, last_private_message_id)
		SELECT @conv, u, @msg FROM unnest(CAST(@users AS bigint[])) AS u
		ON CONFLICT (conversation_id, user_id) DO UPDATE
		  SET last_private_message_id = GREATEST(conversation_users.last_private_message_id, EXCLUDED.last_private_message_id)`,
		map[string]any{"msg": m.ID, "conv": m.ConversationID, "users": pq.Int64Array(ids)}).Error
	if err != nil {
		return fmt.Errorf("recipients of message %d: %w", m.ID, err)
	}
	m.Recipients = to
	return nil
}

// loadRecipients fills Recipients of the private messages among ms (one
// query, none when there is no private message).
func loadRecipients(ctx context.Context, db *gorm.DB, ms []*Message) error {
	var ids []int64
	byID := map[int64]*Message{}
	for _, m := range ms {
		if m.Kind == MessagePrivate {
			ids = append(ids, m.ID)
			byID[m.ID] = m
			m.Recipients = nil
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		MessageID int64
		User
	}
	err := db.WithContext(ctx).Raw(`SELECT r.message_id, u.* FROM message_recipients r JOIN users u ON u.id = r.user_id
		WHERE r.message_id IN ? ORDER BY lower(u.name), u.id`, ids).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("load recipients: %w", err)
	}
	for _, r := range rows {
		if m := byID[r.MessageID]; m != nil {
			m.Recipients = append(m.Recipients, r.User)
		}
	}
	return nil
}

// RecipientNames is how a private message names who it is for ("Ana, Bruno").
func (m *Message) RecipientNames() string {
	names := make([]string, len(m.Recipients))
	for i, u := range m.Recipients {
		names[i] = u.Name
	}
	sort.SliceStable(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	return strings.Join(names, ", ")
}
