package models

import (
	"context"
	"fmt"

	"github.com/lib/pq"
	"gorm.io/gorm"
)

// Reasons a staff user is told about an event (in the bell, by email).
const (
	ReasonNewConversation = "new_conversation" // a customer started a conversation (support agents)
	ReasonAssigned        = "assigned"         // a conversation was assigned to me
	ReasonMessage         = "message"          // a message or note in a conversation I'm in
	ReasonItemAssigned    = "item_assigned"    // a ticket or task was assigned to me
	ReasonItemChanged     = "item_changed"     // a ticket or task I follow changed
	ReasonInvited         = "invited"          // an agent invited me into a conversation (participant.go)
	ReasonTeamQueue       = "team_queue"       // an agent transferred a conversation to my team, and nobody took it (team_queue.go)
)

// Audience is who should hear of one event, and why.
type Audience struct {
	Reason  string
	UserIDs []int64
	// ConversationID is the conversation the event is about (0 for items).
	ConversationID int64
	// ItemID is the ticket or task the event is about (item reasons).
	ItemID int64
	// MessageID is the message that caused it (ReasonMessage), for read checks.
	MessageID int64
}

// AudienceOf returns the staff users an event concerns: the one place that
// says who is notified of what. Nobody is told of their own action.
//   - a new customer conversation: every active support agent, unless an
//     agent started it (a support session, assigned to them: ByUserID);
//   - an assignment: the new assignee, unless they assigned it themselves;
//   - a transfer to a team by an agent, still unassigned when told: the
//     team's support agents but the one who transferred it;
//   - an invitation (ConversationEvent.Participant with ByUserID): the
//     invitee, if still in it and still allowed to join it;
//   - a message or note (not a status line): the staff "in" the conversation
//     (assignee, members, those who wrote in it or follow it) except its
//     author; a private message: its recipients alone (Message.VisibleToUser),
//     who are told of it even if they left the conversation since. Whether they are looking at it is for the consumer to check
//     (their read marker), when it runs;
//   - a service-level breach: the conversation's assignee and its team's
//     members when it breached, if still support agents (sla.go).
//
// Other events concern nobody (a nil Audience).
func AudienceOf(ctx context.Context, db *gorm.DB, e Event) (*Audience, error) {
	if e.ConversationID == nil {
		return nil, nil
	}
	db = db.WithContext(ctx)
	a := &Audience{ConversationID: *e.ConversationID}
	conv, _ := e.Data.(ConversationEvent)
	breach, isBreach := e.Data.(SLABreachEvent)
	var err error
	switch {
	case isBreach:
		a.Reason = ReasonSLABreach
		a.UserIDs, err = slaBreachAudience(db, e, breach)
	case conv.Created && conv.ByUserID != 0:
		return nil, nil
	case conv.Created:
		a.Reason = ReasonNewConversation
		err = db.Raw(`
			SELECT u.id FROM users u, conversations c
			WHERE c.id = ? AND c.kind = 'customer' AND `+supportAgentSQL("u")+`
			ORDER BY u.id`, *e.ConversationID).Scan(&a.UserIDs).Error
	case conv.Assigned:
		if conv.AssigneeID == nil || *conv.AssigneeID == conv.ByUserID {
			return nil, nil
		}
		a.Reason = ReasonAssigned
		// Still assigned to them and still allowed to see it.
		err = db.Raw(`
			SELECT u.id FROM users u JOIN conversations c ON c.assignee_id = u.id
			WHERE c.id = ? AND u.id = ? AND `+supportAgentSQL("u"), *e.ConversationID, *conv.AssigneeID).Scan(&a.UserIDs).Error
	case conv.Participant != nil && conv.Participant.Joined && conv.Participant.ByUserID != 0:
		p := conv.Participant
		if p.ByUserID == p.UserID {
			return nil, nil
		}
		a.Reason = ReasonInvited
		err = db.Raw(`
			SELECT u.id FROM users u
			JOIN conversation_participants p ON p.user_id = u.id AND p.left_at IS NULL
			JOIN conversations c ON c.id = p.conversation_id
			WHERE c.id = ? AND u.id = ? AND `+usersMayJoinSQL("u", "c"), *e.ConversationID, p.UserID).Scan(&a.UserIDs).Error
	case conv.Transferred && conv.TeamID != nil && conv.ByUserID != 0:
		// Still in that team's queue, unassigned (auto-assign found nobody):
		// the team's support agents but who transferred it.
		a.Reason = ReasonTeamQueue
		err = db.Raw(`
			SELECT u.id FROM users u
			JOIN team_members m ON m.user_id = u.id
			JOIN conversations c ON c.team_id = m.team_id
			WHERE c.id = ? AND m.team_id = ? AND c.assignee_id IS NULL AND c.status = 'open'
			  AND u.id <> ? AND `+supportAgentSQL("u")+`
			ORDER BY u.id`, *e.ConversationID, *conv.TeamID, conv.ByUserID).Scan(&a.UserIDs).Error
	case e.Kind == EventMessage && e.MessageID != nil:
		a.Reason, a.MessageID = ReasonMessage, *e.MessageID
		// The candidates come from the conversation's own rows (its
		// assignee, its conversation_users, the message's recipients), each
		// an index lookup: tested per user instead (EXISTS for every active
		// user), PostgreSQL hashed every conversation and every
		// conversation_users row of the desk for each message (3 ms at 1,000
		// conversations, growing with the desk).
		err = db.Raw(`
			WITH m AS (SELECT * FROM messages WHERE id = ? AND kind IN ('message', 'note', 'private')),
			c AS (SELECT conversations.* FROM conversations JOIN m ON conversations.id = m.conversation_id),
			candidates AS (
				SELECT c.assignee_id AS id FROM c WHERE c.assignee_id IS NOT NULL
				UNION
				SELECT cu.user_id FROM conversation_users cu JOIN c ON cu.conversation_id = c.id
				WHERE cu.member OR cu.participated OR cu.following
				UNION
				SELECT mr.user_id FROM message_recipients mr JOIN m ON mr.message_id = m.id AND m.kind = 'private')
			SELECT u.id FROM candidates JOIN users u ON u.id = candidates.id AND u.active, m, c
			WHERE u.id IS DISTINCT FROM m.author_user_id
			  AND (c.kind = 'internal' OR `+usersSeeCustomerDataSQL("u")+`)
			  AND `+usersSeeMessageSQL("u", "m")+`
			ORDER BY u.id`, *e.MessageID).Scan(&a.UserIDs).Error
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audience of %s event %d: %w", e.Kind, e.ID, err)
	}
	if len(a.UserIDs) == 0 {
		return nil, nil
	}
	return a, nil
}

// AudiencesOf returns every audience of an event: AudienceOf's for
// conversations, and for a ticket or task (EventItem, once per change, not
// the copies addressed to its linked conversations):
//   - created or reassigned: the new assignee (ReasonItemAssigned), unless
//     they did it themselves;
//   - any field changed, or a comment: its followers (ReasonItemChanged),
//     except who changed it, the new assignee and those mentioned (told
//     already);
//   - a comment: the agents it mentions (ReasonMentioned).
//
// Only users who may see the item are included: tickets need the
// customer-support flag. Following, linking and unlinking tell nobody.
func AudiencesOf(ctx context.Context, db *gorm.DB, e Event) ([]*Audience, error) {
	item, isItem := e.Data.(ItemEvent)
	if !isItem {
		a, err := AudienceOf(ctx, db, e)
		if a == nil || err != nil {
			return nil, err
		}
		return []*Audience{a}, nil
	}
	if e.ItemID == nil || e.ConversationID != nil {
		return nil, nil
	}
	field, created, by := item.Field, item.Created, item.ByUserID
	if !created && field == "" {
		return nil, nil
	}
	var assignee int64
	if item.AssigneeID != nil {
		assignee = *item.AssigneeID
	}
	if assignee == by || (!created && field != FieldAssignee) {
		assignee = 0
	}
	db = db.WithContext(ctx)
	mayRead := `u.active AND ` + usersSeeItemSQL("u", "i")
	var out []*Audience
	if assignee != 0 {
		a := &Audience{Reason: ReasonItemAssigned, ItemID: *e.ItemID}
		err := db.Raw(`SELECT u.id FROM users u JOIN items i ON i.assignee_id = u.id
			WHERE i.id = ? AND u.id = ? AND `+mayRead, *e.ItemID, assignee).Scan(&a.UserIDs).Error
		if err != nil {
			return nil, fmt.Errorf("audience of item event %d: %w", e.ID, err)
		}
		if len(a.UserIDs) > 0 {
			out = append(out, a)
		}
	}
	if created {
		return out, nil
	}
	if field == FieldComment && len(item.Mentioned) > 0 {
		m := &Audience{Reason: ReasonMentioned, ItemID: *e.ItemID}
		err := db.Raw(`SELECT u.id FROM users u JOIN items i ON i.id = ?
			WHERE u.id = ANY(?) AND u.id <> ? AND `+mayRead+` ORDER BY u.id`,
			*e.ItemID, pq.Int64Array(item.Mentioned), by).Scan(&m.UserIDs).Error
		if err != nil {
			return nil, fmt.Errorf("audience of item event %d: %w", e.ID, err)
		}
		if len(m.UserIDs) > 0 {
			out = append(out, m)
		}
	}
	a := &Audience{Reason: ReasonItemChanged, ItemID: *e.ItemID}
	// (Those mentioned were told already.)
	err := db.Raw(`SELECT u.id FROM item_followers f JOIN users u ON u.id = f.user_id JOIN items i ON i.id = f.item_id
		WHERE f.item_id = ? AND u.id <> ? AND u.id <> ? AND NOT (u.id = ANY(COALESCE(CAST(? AS bigint[]), '{}'))) AND `+mayRead+` ORDER BY u.id`,
		*e.ItemID, by, assignee, pq.Int64Array(item.Mentioned)).Scan(&a.UserIDs).Error
	if err != nil {
		return nil, fmt.Errorf("audience of item event %d: %w", e.ID, err)
	}
	if len(a.UserIDs) > 0 {
		out = append(out, a)
	}
	return out, nil
}
