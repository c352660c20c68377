package models

import (
	"fmt"
	"strconv"

	"github.com/lib/pq"
	"gorm.io/gorm"
)

// Broadcast notifications: a new customer conversation concerns every
// support agent, so it is written once, as one notifications row without a
// user (a broadcast), and one notification event without a user that every
// desk renders for its own viewer. What it costs to write does not grow
// with the desk. Each agent's entry of it is worked out on read:
//
//   - the agent may see it if they may join the conversation
//     (usersMayJoinSQL: an active support agent), existed when it was made,
//     and had not read the conversation before (a new conversation is not
//     announced to someone who already opened it);
//   - its state is the agent's own row of it (user_id, broadcast_id) if
//     there is one: written when the entry is listed, marked read, or its
//     conversation opened, so per-user rows grow with what agents do, not
//     with the desk; without one, it is read if it is at or below the
//     agent's watermark users.notify_read_upto (mark all read moves it;
//     reading moves it over everything the agent has handled).
//
// An entry has the same id with or without its row (BroadcastEntryID), so
// everything that takes a notification id (mark read, the live list, the
// panel) is unchanged, and another user's entry id is not yours.

// broadcastEntryBase marks the ids of broadcast entries: above every id the
// notifications sequence will hand out, with the broadcast in bits 24-61
// and the user in bits 0-23.
const (
	broadcastEntryBase = int64(1) << 62
	broadcastUserBits  = 24
	broadcastUserMask  = int64(1)<<broadcastUserBits - 1
)

// BroadcastEntryID is user's entry of broadcast: the id it has in their
// list, with or without its own row.
func BroadcastEntryID(broadcast, user int64) int64 {
	return broadcastEntryBase | broadcast<<broadcastUserBits | user
}

// splitBroadcastEntryID is BroadcastEntryID's inverse; ok is false for the
// id of an ordinary notification.
func splitBroadcastEntryID(id int64) (broadcast, user int64, ok bool) {
	if id < broadcastEntryBase {
		return 0, 0, false
	}
	id -= broadcastEntryBase
	return id >> broadcastUserBits, id & broadcastUserMask, true
}

// entryIDSQL is BroadcastEntryID of broadcast b and user usr in SQL.
var entryIDSQL = `(` + strconv.FormatInt(broadcastEntryBase, 10) + ` + (b.id << ` + strconv.Itoa(broadcastUserBits) + `) + usr.id)`

// broadcastPending is whether broadcast b (its conversation bc) is an entry
// of the user usr with no row of its own yet: usr may join bc (the audience
// of a new conversation, AudienceOf), existed when b was made, and had not
// read bc before b was made (reading it after writes usr's row: MarkRead).
//
// The checks are per broadcast (OFFSET 0 keeps the planner from turning
// them into joins, which it costs as if every broadcast were a candidate and
// answers by hashing whole tables): callers bound the candidates by an index
// range (above the watermark, within a page, one conversation).
var broadcastPending = `b.user_id IS NULL AND ` + usersMayJoinSQL("usr", "bc") + `
	AND b.created_at >= usr.created_at
	AND NOT EXISTS (SELECT 1 FROM notifications m WHERE m.id = ` + entryIDSQL + ` OFFSET 0)
	AND NOT EXISTS (SELECT 1 FROM conversation_users r
	                WHERE r.conversation_id = b.conversation_id AND r.user_id = usr.id AND r.last_read_message_id >= b.message_id OFFSET 0)`

// broadcastConversation joins b's conversation as bc, one lookup per
// broadcast (see broadcastPending).
const broadcastConversation = `CROSS JOIN LATERAL (SELECT * FROM conversations bc0 WHERE bc0.id = b.conversation_id OFFSET 0) bc`

// notificationColumns are the columns of notifications, in order.
const notificationColumns = `id, user_id, reason, conversation_id, item_id, message_id, event_id, count, data, read_at, created_at, broadcast_id, dismissed`

// pendingEntries selects @me's pending broadcast entries (broadcastPending)
// as rows of notifications, read if at or below @me's watermark; cond (on
// b) narrows them, order and limit follow it.
func pendingEntries(cond string) string {
	return `SELECT ` + entryIDSQL + ` AS id, usr.id AS user_id, b.reason, b.conversation_id, b.item_id,
		CAST(NULL AS bigint) AS message_id, b.event_id, b.count, b.data,
		CASE WHEN b.id <= usr.notify_read_upto THEN now() END AS read_at, b.created_at, b.id AS broadcast_id, false AS dismissed
		FROM users usr
		JOIN notifications b ON ` + cond + `
		` + broadcastConversation + `
		WHERE usr.id = @me AND ` + broadcastPending
}

// materializeEntries writes @me's rows of the pending entries sel selects
// (pendingEntries): from then on the row holds the entry's state. It
// returns how many of them were unread.
func materializeEntries(tx *gorm.DB, sel string, args map[string]any, markRead bool) (int64, error) {
	readAt := "v.read_at"
	if markRead {
		readAt = "COALESCE(v.read_at, now())"
	}
	var n int64
	err := tx.Raw(`WITH v AS (`+sel+`), ins AS (
		INSERT INTO notifications (`+notificationColumns+`) OVERRIDING SYSTEM VALUE
		SELECT id, user_id, reason, conversation_id, item_id, message_id, event_id, count, data, `+readAt+`, created_at, broadcast_id, dismissed FROM v
		ON CONFLICT DO NOTHING
		RETURNING id)
		SELECT count(*) FROM v JOIN ins USING (id) WHERE v.read_at IS NULL`, args).Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("broadcast entries: %w", err)
	}
	return n, nil
}

// advanceBroadcastWatermark moves userID's watermark up to the first
// broadcast still pending and unread for them (or the newest broadcast): so
// the bell's broadcast part scans only what the agent has not handled yet,
// however many conversations they opened. Each broadcast is passed over
// once per user.
func advanceBroadcastWatermark(tx *gorm.DB, userID int64) error {
	return tx.Exec(`UPDATE users usr SET notify_read_upto = COALESCE(
		(SELECT b.id - 1 FROM notifications b `+broadcastConversation+`
		 WHERE b.user_id IS NULL AND b.id > usr.notify_read_upto AND `+broadcastPending+`
		 ORDER BY b.id LIMIT 1),
		(SELECT max(b.id) FROM notifications b WHERE b.user_id IS NULL AND b.id > usr.notify_read_upto),
		usr.notify_read_upto)
		WHERE usr.id = ?`, userID).Error
}

// insertBroadcast records a broadcast notification of ev (one row, one
// event, whatever the audience's size) and returns how many of the
// audience it reaches (those who had not read the conversation up to seen);
// a retried job finds it made and returns 0.
func insertBroadcast(t Tx, ev Event, a *Audience, data JSONMap, seen int64) (int, error) {
	t.unreported() // read back before the commit
	var n int
	err := t.db.Raw(`
		WITH ins AS (
			INSERT INTO notifications (user_id, reason, conversation_id, message_id, event_id, data)
			VALUES (NULL, @reason, @conv, NULLIF(CAST(@seen AS bigint), 0), @event, @data)
			ON CONFLICT (event_id) WHERE user_id IS NULL DO NOTHING
			RETURNING id, conversation_id
		), e AS (
			INSERT INTO events (kind, conversation_id, data)
			SELECT @kind, conversation_id, jsonb_build_object('id', id, 'broadcast', true) FROM ins
		)
		-- The audience but those who read it already: counted from the
		-- conversation's own rows (a few), not per agent.
		SELECT CASE WHEN EXISTS (SELECT 1 FROM ins) THEN cardinality(CAST(@users AS bigint[])) - (
			SELECT count(*) FROM conversation_users r
			WHERE r.conversation_id = @conv AND r.last_read_message_id >= @seen AND r.user_id = ANY(CAST(@users AS bigint[])))
		ELSE 0 END`,
		map[string]any{"reason": a.Reason, "conv": a.ConversationID, "event": ev.ID, "data": data,
			"users": pq.Int64Array(a.UserIDs), "seen": seen, "kind": EventNotification}).Scan(&n).Error
	return n, err
}
