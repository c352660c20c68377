package models

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"
)

// EventNotification tells a user's open desks that their notifications
// changed: a new one arrived (Data "id", and "replaces" when it stands in
// for an older unread one), or some were read (Data "read"). UserID is the
// recipient; nobody else hears of it.
const EventNotification = "notification"

// Notification is one entry of a staff user's bell: something that happened
// which concerns them (see AudienceOf), with what the entry shows as it was
// when it happened.
type Notification struct {
	ID             int64
	UserID         int64
	Reason         string
	ConversationID *int64
	ItemID         *int64
	MessageID      *int64
	EventID        int64
	// Count is how many messages a grouped message notification stands for.
	Count     int
	Data      JSONMap `gorm:"type:jsonb"`
	ReadAt    *time.Time
	CreatedAt time.Time
	// BroadcastID is the broadcast this is the user's entry of (see
	// notification_broadcast.go), nil for a notification of the user alone.
	BroadcastID *int64
	// Dismissed: a pruned entry of a broadcast still kept (never listed).
	Dismissed bool

	// ConversationPublicID is what the entry opens (empty for other kinds).
	ConversationPublicID string `gorm:"->"`
}

// Unread reports whether the user has not read n yet.
func (n *Notification) Unread() bool { return n.ReadAt == nil }

// Text returns a display field of n's data ("actor", "customer", "preview").
func (n *Notification) Text(key string) string {
	s, _ := n.Data[key].(string)
	return s
}

// Flag returns a boolean display field of n's data ("internal", "note").
func (n *Notification) Flag(key string) bool {
	b, _ := n.Data[key].(bool)
	return b
}

// CustomerID is the customer of the conversation n is about, if any (for
// naming anonymous visitors).
func (n *Notification) CustomerID() *int64 {
	if id := dataID(n.Data["customer_id"]); id != 0 {
		return &id
	}
	return nil
}

// Notify records the notifications an event calls for, one per member of
// its audience (AudienceOf), and tells each recipient's open desks; a new
// customer conversation, which concerns every support agent, is one
// broadcast row and one event instead (notification_broadcast.go), and
// counts as one notification per agent it reaches. It is
// what the notify job does, and it is safe to run again for the same event:
// rows are keyed by (user, event) (a broadcast by its event), so a retried
// job creates no duplicates.
//
// The rules beyond the audience:
//   - a new conversation is not announced to someone who already read it;
//   - a message is not announced to someone whose read marker covers it
//     (they had the conversation open when it arrived: the desk marks an open,
//     visible conversation read), nor twice;
//   - messages are grouped: a user has at most one unread message
//     notification per conversation; a newer message replaces it with one
//     that counts both (and so comes first in the list).
//
// It returns how many notifications it created.
func Notify(ctx context.Context, t Tx, ev Event, a *Audience) (int, error) {
	if a == nil || len(a.UserIDs) == 0 {
		return 0, nil
	}
	if a.ItemID != 0 {
		return notifyItem(ctx, t, ev, a)
	}
	var n int
	err := t.run(ctx, func(tx *gorm.DB) error {
		var c struct {
			Kind           string
			CustomerID     *int64
			Customer       string
			FirstMessageID int64
			FirstPreview   string
			Preview        string
		}
		err := tx.Raw(`
			SELECT c.kind, c.customer_id, COALESCE(NULLIF(cu.name, ''), cu.email, '') AS customer,
			       COALESCE(f.id, 0) AS first_message_id, COALESCE(f.body, '') AS first_preview,
			       c.last_message_preview AS preview
			FROM conversations c
			LEFT JOIN customers cu ON cu.id = c.customer_id
			LEFT JOIN LATERAL (SELECT id, body FROM messages WHERE conversation_id = c.id AND kind = 'message' ORDER BY id LIMIT 1) f ON true
			WHERE c.id = ?`, a.ConversationID).Scan(&c).Error
		if err != nil {
			return err
		}
		if c.Kind == "" {
			return nil // deleted since
		}
		data := JSONMap{"internal": c.Kind == KindInternal, "customer": c.Customer}
		if c.CustomerID != nil {
			data["customer_id"] = *c.CustomerID
		}
		switch a.Reason {
		case ReasonNewConversation:
			// Every support agent: one broadcast, not a row each.
			data["preview"] = preview(c.FirstPreview)
			n, err = insertBroadcast(t, ev, a, data, c.FirstMessageID)
		case ReasonAssigned, ReasonInvited, ReasonTeamQueue:
			var by string
			if err := tx.Raw("SELECT name FROM users WHERE id = ?", byUserID(ev)).Scan(&by).Error; err != nil {
				return err
			}
			data["actor"], data["preview"] = by, c.Preview
			if ce, ok := ev.Data.(ConversationEvent); ok && ce.Auto {
				data["auto"] = true // auto-assign (team_queue.go)
			}
			n, err = insertNotifications(t, ev, a, data, math.MaxInt64)
		case ReasonSLABreach:
			b, _ := ev.Data.(SLABreachEvent)
			data["preview"], data["target"] = c.Preview, b.Target
			n, err = insertNotifications(t, ev, a, data, math.MaxInt64)
		case ReasonMessage:
			n, err = notifyMessage(t, ev, a, data)
		default:
			return fmt.Errorf("notify: unknown reason %q", a.Reason)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("notify of %s event %d: %w", ev.Kind, ev.ID, err)
	}
	return n, nil
}

// insertNotifications adds one notification per recipient who has not read
// the conversation up to message seen, with an event for each, in one
// statement.
// An item's audience (a.ItemID) has no read marker to check.
func insertNotifications(t Tx, ev Event, a *Audience, data JSONMap, seen int64) (int, error) {
	tx := t.db
	t.unreported() // one event per recipient, read back before the commit
	var n int
	err := tx.Raw(`
		WITH ins AS (
			INSERT INTO notifications (user_id, reason, conversation_id, item_id, event_id, data)
			SELECT u, @reason, NULLIF(CAST(@conv AS bigint), 0), NULLIF(CAST(@item AS bigint), 0), @event, @data
			FROM unnest(CAST(@users AS bigint[])) AS u
			WHERE NOT EXISTS (SELECT 1 FROM conversation_users r
			                  WHERE r.conversation_id = @conv AND r.user_id = u AND r.last_read_message_id >= @seen)
			ON CONFLICT (user_id, event_id) DO NOTHING
			RETURNING id, user_id, conversation_id, item_id
		), e AS (
			INSERT INTO events (kind, conversation_id, item_id, user_id, data)
			SELECT @kind, conversation_id, item_id, user_id, jsonb_build_object('id', id) FROM ins
		)
		SELECT count(*) FROM ins`,
		map[string]any{"reason": a.Reason, "conv": a.ConversationID, "item": a.ItemID, "event": ev.ID, "data": data,
			"users": pq.Int64Array(a.UserIDs), "seen": seen, "kind": EventNotification}).Scan(&n).Error
	return n, err
}

// notifyMessage applies the message rules for each recipient: skip what
// they have read or were already told of, else replace their unread message
// notification of this conversation with one counting this message too.
func notifyMessage(t Tx, ev Event, a *Audience, data JSONMap) (int, error) {
	tx := t.db
	var m struct {
		Kind         string
		Body         string
		Author       string
		FromCustomer bool
	}
	err := tx.Raw(`
		SELECT m.kind, m.body, COALESCE(u.name, NULLIF(cu.name, ''), cu.email, '') AS author,
		       m.author_type = 'customer' AS from_customer
		FROM messages m
		LEFT JOIN users u ON u.id = m.author_user_id
		LEFT JOIN customers cu ON cu.id = m.author_customer_id
		WHERE m.id = ?`, a.MessageID).Scan(&m).Error
	if err != nil || m.Kind == "" {
		return 0, err
	}
	data["actor"], data["preview"], data["note"] = m.Author, preview(m.Body), m.Kind == MessageNote
	if m.Kind == MessagePrivate {
		// Only its recipients are in the audience (AudienceOf).
		data["private"] = true
	}
	data["from_customer"] = m.FromCustomer
	created := 0
	for _, uid := range a.UserIDs {
		// Serialise with other notify jobs for this user and conversation:
		// the grouping reads, deletes and inserts.
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
			fmt.Sprintf("parley.notify:%d:%d", uid, a.ConversationID)).Error; err != nil {
			return 0, err
		}
		var skip bool
		err := tx.Raw(`
			SELECT EXISTS (SELECT 1 FROM conversation_users
			               WHERE conversation_id = @conv AND user_id = @u AND last_read_message_id >= @msg)
			    OR EXISTS (SELECT 1 FROM notifications
			               WHERE user_id = @u AND conversation_id = @conv AND reason = @reason AND message_id >= @msg)`,
			map[string]any{"conv": a.ConversationID, "u": uid, "msg": a.MessageID, "reason": ReasonMessage}).Scan(&skip).Error
		if err != nil {
			return 0, err
		}
		if skip {
			continue
		}
		var old struct {
			ID    int64
			Count int
		}
		err = tx.Raw(`DELETE FROM notifications WHERE user_id = ? AND conversation_id = ? AND reason = ? AND read_at IS NULL
			RETURNING id, count`, uid, a.ConversationID, ReasonMessage).Scan(&old).Error
		if err != nil {
			return 0, err
		}
		var id int64
		err = tx.Raw(`
			INSERT INTO notifications (user_id, reason, conversation_id, message_id, event_id, count, data)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id, event_id) DO NOTHING
			RETURNING id`, uid, ReasonMessage, a.ConversationID, a.MessageID, ev.ID, old.Count+1, data).Scan(&id).Error
		if err != nil {
			return 0, err
		}
		if id == 0 {
			continue
		}
		u, conv := uid, a.ConversationID
		if err := appendEvent(t, Event{ConversationID: &conv, UserID: &u, Data: NotificationEvent{ID: id, Replaces: old.ID}}); err != nil {
			return 0, err
		}
		created++
	}
	return created, nil
}

// notificationSelect reads notifications (alias n) of @me that they may
// still see: about a conversation they may open (or about no conversation)
// and an item they may see (or about no item). Broadcast entries are rows
// of @me once written (materializeEntries); pendingEntries reads the others.
var notificationSelect = `SELECT n.*, COALESCE(c.public_id::text, '') AS conversation_public_id
	FROM notifications n LEFT JOIN conversations c ON c.id = n.conversation_id
	WHERE n.user_id = @me AND NOT n.dismissed AND (n.conversation_id IS NULL OR ` + visibleToUser + `)
	  AND (n.item_id IS NULL OR EXISTS (SELECT 1 FROM items vi WHERE vi.id = n.item_id AND ` + userSeesItemSQL("vi") + `))`

// notificationOrder is where an entry stands in the list: a broadcast
// entry where its broadcast was made.
const notificationOrder = `COALESCE(n.broadcast_id, n.id)`

// ListNotifications returns u's newest notifications, newest first; before
// (an id, 0 for none) pages to older ones. The broadcast entries it lists
// get u's rows of them first (at most limit, once): a listed entry is then
// an ordinary row of u's.
func ListNotifications(ctx context.Context, db *gorm.DB, u *User, before int64, limit int) ([]Notification, error) {
	db = db.WithContext(ctx)
	key := before
	if b, _, ok := splitBroadcastEntryID(before); ok {
		key = b
	}
	args := map[string]any{"me": u.ID, "support": CanSeeCustomerData(u), "before": key, "limit": limit}
	// Only broadcasts above the limit-th of u's rows can make the page:
	// the scan stays within the page, however many u has read.
	if _, err := materializeEntries(db, pendingEntries(`b.user_id IS NULL AND (CAST(@before AS bigint) = 0 OR b.id < @before)
		AND b.id > COALESCE((SELECT `+notificationOrder+` FROM notifications n
			WHERE n.user_id = @me AND NOT n.dismissed AND (CAST(@before AS bigint) = 0 OR `+notificationOrder+` < @before)
			ORDER BY `+notificationOrder+` DESC OFFSET CAST(@limit AS int) - 1 LIMIT 1), 0)`)+
		` ORDER BY b.id DESC LIMIT @limit`, args, false); err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	var out []Notification
	err := db.Raw(notificationSelect+` AND (CAST(@before AS bigint) = 0 OR `+notificationOrder+` < @before)
		ORDER BY `+notificationOrder+` DESC LIMIT @limit`, args).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return out, nil
}

// NotificationsByID returns those of ids that are u's and visible to them,
// newest first (live updates render new entries with it).
func NotificationsByID(ctx context.Context, db *gorm.DB, u *User, ids []int64) ([]Notification, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// u's entries of broadcasts, with or without their rows.
	broadcasts := []int64{0}
	for _, id := range ids {
		if b, uid, ok := splitBroadcastEntryID(id); ok && uid == u.ID {
			broadcasts = append(broadcasts, b)
		}
	}
	var out []Notification
	err := db.WithContext(ctx).Raw(`SELECT * FROM (`+notificationSelect+` AND n.id IN @ids
		UNION ALL
		SELECT v.*, COALESCE(c.public_id::text, '') FROM (`+pendingEntries(`b.user_id IS NULL AND b.id IN @broadcasts`)+`) v
		LEFT JOIN conversations c ON c.id = v.conversation_id) n ORDER BY `+notificationOrder+` DESC`,
		map[string]any{"me": u.ID, "support": CanSeeCustomerData(u), "ids": ids, "broadcasts": broadcasts}).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("notifications by id: %w", err)
	}
	return out, nil
}

// MaxUnreadCount caps the bell's count (it shows "99+" beyond 99), so
// counting stays cheap for someone who never reads their notifications.
const MaxUnreadCount = 100

// bellCountSQL counts @me's unread notifications, each part up to the cap.
var bellCountSQL = `SELECT
	(SELECT count(*) FROM (` + notificationSelect + ` AND n.read_at IS NULL
	 ORDER BY n.id DESC LIMIT ` + strconv.Itoa(MaxUnreadCount) + `) x) +
	(SELECT count(*) FROM (` + pendingEntries(`b.user_id IS NULL AND b.id > (SELECT notify_read_upto FROM users WHERE id = @me)`) + `
	 ORDER BY b.id DESC LIMIT ` + strconv.Itoa(MaxUnreadCount) + `) y) AS unread`

// CountUnreadNotifications is the number on u's bell, up to MaxUnreadCount.
func CountUnreadNotifications(ctx context.Context, db *gorm.DB, u *User) (int, error) {
	var n int
	read, done := bellCountRead(u, &n)
	if err := pipelined(ctx, db, read); err != nil {
		return 0, fmt.Errorf("count notifications: %w", err)
	}
	done()
	return n, nil
}

// bellCountRead is CountUnreadNotifications' statement, for a page that
// reads it with others; once the batch has run, done leaves the count in
// dst. Two index ranges, each stopping at the cap: u's unread rows
// (notifications_unread_idx) and the broadcasts above u's watermark
// without a row of u's (notifications_broadcast_idx).
func bellCountRead(u *User, dst *int) (read pipelinedRead, done func()) {
	var rows []struct{ Unread int }
	return readNamed(&rows, bellCountSQL, map[string]any{"me": u.ID, "support": CanSeeCustomerData(u)}), func() {
		*dst = 0
		if len(rows) > 0 {
			*dst = min(rows[0].Unread, MaxUnreadCount)
		}
	}
}

// MarkNotificationRead marks one of u's notifications read; another user's
// (or an unknown id) is ErrNotFound. Their other desks hear of it.
func MarkNotificationRead(ctx context.Context, t Tx, u *User, id int64) error {
	return t.run(ctx, func(tx *gorm.DB) error {
		broadcast, uid, isBroadcast := splitBroadcastEntryID(id)
		if isBroadcast {
			if uid != u.ID {
				return ErrNotFound
			}
			// Its row, if it is still pending: then it is an ordinary one.
			if _, err := materializeEntries(tx, pendingEntries(`b.user_id IS NULL AND b.id = @b`), map[string]any{"me": u.ID, "b": broadcast}, false); err != nil {
				return fmt.Errorf("mark notification read: %w", err)
			}
		}
		var state struct {
			Found  bool
			Unread bool
		}
		err := tx.Raw(`SELECT true AS found, read_at IS NULL AS unread FROM notifications WHERE id = ? AND user_id = ? FOR UPDATE`,
			id, u.ID).Scan(&state).Error
		if err != nil {
			return fmt.Errorf("mark notification read: %w", err)
		}
		if !state.Found {
			return ErrNotFound
		}
		if !state.Unread {
			return nil
		}
		if err := tx.Exec("UPDATE notifications SET read_at = now() WHERE id = ?", id).Error; err != nil {
			return fmt.Errorf("mark notification read: %w", err)
		}
		if isBroadcast {
			if err := advanceBroadcastWatermark(tx, u.ID); err != nil {
				return fmt.Errorf("mark notification read: %w", err)
			}
		}
		return appendEvent(t, Event{UserID: &u.ID, Data: NotificationEvent{Read: &NotificationsRead{IDs: []int64{id}}}})
	})
}

// MarkAllNotificationsRead marks every notification of u read and returns
// how many were unread.
func MarkAllNotificationsRead(ctx context.Context, t Tx, u *User) (int64, error) {
	var n int64
	err := t.run(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE notifications SET read_at = now() WHERE user_id = ? AND read_at IS NULL", u.ID)
		if res.Error != nil {
			return fmt.Errorf("mark all notifications read: %w", res.Error)
		}
		// Broadcasts without a row of u's: unread above the watermark,
		// which moves past them all.
		var pending int64
		err := tx.Raw(`SELECT count(*) FROM (`+pendingEntries(`b.user_id IS NULL AND b.id > usr.notify_read_upto`)+`) x`,
			map[string]any{"me": u.ID}).Scan(&pending).Error
		if err != nil {
			return fmt.Errorf("mark all notifications read: %w", err)
		}
		err = tx.Exec(`UPDATE users SET notify_read_upto = GREATEST(notify_read_upto,
			COALESCE((SELECT max(id) FROM notifications WHERE user_id IS NULL), 0)) WHERE id = ?`, u.ID).Error
		if err != nil {
			return fmt.Errorf("mark all notifications read: %w", err)
		}
		if n = res.RowsAffected + pending; n == 0 {
			return nil
		}
		return appendEvent(t, Event{UserID: &u.ID, Data: NotificationEvent{Read: &NotificationsRead{All: true}}})
	})
	return n, err
}

// viewerReadSQL is ReadUpToDate as a condition on conversation c and
// @me's conversation_users row r (outer-joined): @me's read marker is at
// c's newest message and the newest private message to them, and no
// notification of @me's about c is unread, which readConversationNotifications
// would read. (A broadcast without a row of @me's is pending, not unread,
// once @me's read marker covers the conversation: nothing to read.)
const viewerReadSQL = `(COALESCE(r.last_read_message_id >= GREATEST(c.last_message_id, COALESCE(r.last_private_message_id, 0)), false)
	AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = @me AND n.conversation_id = c.id AND n.read_at IS NULL))`

// readConversationNotifications marks u's notifications about a
// conversation read: reading a conversation reads what announced it. It
// runs before the read marker moves: a broadcast of the conversation still
// pending for u gets u's row, read (and so stays in u's list, read).
func readConversationNotifications(tx *gorm.DB, userID, convID int64) (int64, error) {
	res := tx.Exec("UPDATE notifications SET read_at = now() WHERE user_id = ? AND conversation_id = ? AND read_at IS NULL", userID, convID)
	if res.Error != nil {
		return 0, res.Error
	}
	var made int64
	err := tx.Raw(`SELECT count(*) FROM notifications WHERE conversation_id = ? AND user_id IS NULL`, convID).Scan(&made).Error
	if err != nil || made == 0 {
		return res.RowsAffected, err
	}
	n, err := materializeEntries(tx, pendingEntries(`b.user_id IS NULL AND b.conversation_id = @conv`),
		map[string]any{"me": userID, "conv": convID}, true)
	if err != nil {
		return 0, err
	}
	if err := advanceBroadcastWatermark(tx, userID); err != nil {
		return 0, err
	}
	return res.RowsAffected + n, nil
}

// PruneNotifications deletes notifications read longer ago than keepRead,
// and any older than keepAll, so the table stays small. A user's entry of a
// broadcast is dismissed instead (so it does not come back unread) and
// deleted with its broadcast, once that is older than keepAll.
func PruneNotifications(ctx context.Context, db *gorm.DB, keepRead, keepAll time.Duration) (int64, error) {
	var n int64
	err := withoutEvents(ctx, db, func(tx *gorm.DB) error {
		old := `(read_at < now() - make_interval(secs => @read) OR created_at < now() - make_interval(secs => @all))`
		args := map[string]any{"read": keepRead.Seconds(), "all": keepAll.Seconds()}
		res := tx.Exec(`UPDATE notifications SET dismissed = true, read_at = COALESCE(read_at, now())
			WHERE broadcast_id IS NOT NULL AND NOT dismissed AND `+old, args)
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		res = tx.Exec(`DELETE FROM notifications WHERE user_id IS NOT NULL AND broadcast_id IS NULL AND `+old, args)
		if res.Error != nil {
			return res.Error
		}
		n += res.RowsAffected
		return tx.Exec(`DELETE FROM notifications WHERE user_id IS NULL AND created_at < now() - make_interval(secs => @all)`, args).Error
	})
	if err != nil {
		return 0, fmt.Errorf("prune notifications: %w", err)
	}
	return n, nil
}

// notifyItem records item notifications: what the entry shows (the item's
// reference, title, who changed what) as it was, and an event per
// recipient; keyed by (user, event) like the others.
func notifyItem(ctx context.Context, t Tx, ev Event, a *Audience) (int, error) {
	var n int
	err := t.run(ctx, func(tx *gorm.DB) error {
		var it struct {
			Kind   string
			Number int64
			Title  string
			Actor  string
		}
		err := tx.Raw(`SELECT i.kind, i.number, i.title, COALESCE(u.name, '') AS actor
			FROM items i LEFT JOIN users u ON u.id = ? WHERE i.id = ?`, byUserID(ev), a.ItemID).Scan(&it).Error
		if err != nil || it.Kind == "" {
			return err // or deleted since
		}
		item, _ := ev.Data.(ItemEvent)
		field := item.Field
		data := JSONMap{"kind": it.Kind, "number": it.Number, "ref": (&Item{Kind: it.Kind, Number: it.Number}).Ref(),
			"title": it.Title, "actor": it.Actor, "field": field}
		if item.CommentID != 0 {
			var body string
			if err := tx.Raw("SELECT new_value FROM item_activities WHERE id = ?", item.CommentID).Scan(&body).Error; err != nil {
				return err
			}
			data["preview"] = preview(body)
		}
		n, err = insertNotifications(t, ev, a, data, 0)
		if err != nil {
			return fmt.Errorf("notify of item event %d: %w", ev.ID, err)
		}
		return nil
	})
	return n, err
}

// byUserID is who made the change ev announces (0 if it does not say).
func byUserID(ev Event) int64 {
	switch d := ev.Data.(type) {
	case ConversationEvent:
		if d.Participant != nil {
			return d.Participant.ByUserID
		}
		return d.ByUserID
	case ItemEvent:
		return d.ByUserID
	}
	return 0
}

// dataID reads an id stored in a notification's JSON data (numbers decode
// as float64).
func dataID(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case int64:
		return n
	case int:
		return int64(n)
	}
	return 0
}
