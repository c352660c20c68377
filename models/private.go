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
// left), or whose row says they wrote in it or follow it. It is the one definition (ConversationTeammates
// and privateRecipients read it); a participants panel extends it here.
// The subqueries are @conv's rows only (not correlated with u): written as
// EXISTS over cu.conversation_id = c.id, PostgreSQL hashed every
// conversation_users row of the desk for each open (9 ms at 10,000
// conversations, the slowest statement of opening one).
var teammatesSQL = `SELECT u.* FROM users u JOIN conversations c ON c.id = @conv AND c.kind = 'customer'
	WHERE ` + supportAgentSQL("u") + ` AND ` + teammateSQL

// teammateSQL is teammatesSQL's condition on u, the conversation @conv
// joined as c.
const teammateSQL = `(u.id = c.assignee_id
	  OR u.id IN (SELECT cu.user_id FROM conversation_users cu WHERE cu.conversation_id = @conv
		  AND (cu.member OR cu.participated OR cu.following))
	  OR u.id IN (SELECT p.user_id FROM conversation_participants p
		WHERE p.conversation_id = @conv AND p.left_at IS NULL))`

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
	err := db.WithContext(ctx).Raw(teammatesSQL+` ORDER BY lower(u.name), u.id`, map[string]any{"conv": conv.ID}).Scan(&us).Error
	if err != nil {
		return nil, fmt.Errorf("teammates of conversation %d: %w", conv.ID, err)
	}
	return us, nil
}

// ConversationAgents is SupportAgents and ConversationTeammates of conv in
// one statement (opening a conversation shows both: the assignee menu and
// the composer's "To" menu), both by name.
func ConversationAgents(ctx context.Context, db *gorm.DB, conv *Conversation) (agents, teammates []User, err error) {
	var rows []struct {
		User     `gorm:"embedded"`
		Teammate bool
	}
	err = db.WithContext(ctx).Raw(`SELECT u.*, COALESCE(c.kind = 'customer' AND `+teammateSQL+`, false) AS teammate
		FROM users u LEFT JOIN conversations c ON c.id = @conv
		WHERE `+supportAgentSQL("u")+` ORDER BY lower(u.name), u.id`, map[string]any{"conv": conv.ID}).Scan(&rows).Error
	if err != nil {
		return nil, nil, fmt.Errorf("agents of conversation %d: %w", conv.ID, err)
	}
	agents = make([]User, 0, len(rows))
	for _, r := range rows {
		agents = append(agents, r.User)
		if r.Teammate {
			teammates = append(teammates, r.User)
		}
	}
	return agents, teammates, nil
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
