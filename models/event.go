package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// Event kinds written to the event log. Each is the durable record of a
// change that open desks and widgets must hear about.
const (
	EventMessage = "message" // a message, note or status line was added (MessageID)
	// EventMessageChanged: staff edited or deleted a message or note
	// (MessageID; MessageChangedEvent). Threads show it again in place; no
	// one is notified or emailed of it.
	EventMessageChanged = "message_changed"
	EventConversation   = "conversation" // a conversation was created or changed state/assignee
	EventRead           = "read"         // UserID read a conversation: their unread counts changed
	EventDeskStatus     = "desk_status"  // the desk went online or offline
	EventSettings       = "settings"     // widget settings changed
	EventItem           = "item"         // a ticket or task changed (ItemID; ConversationID for each linked conversation)
	// EventAccess: UserID's access changed (deactivated, signed out, sessions
	// ended by a password reset, role or flags edited). Every open desk
	// stream of that user rechecks its session and flags before rendering
	// anything else of the batch, on every instance.
	EventAccess = "access"
	// EventRTC: a media session changed state or a signal was posted
	// (ConversationID; RTCEvent, rtc.go). Streams deliver it to the
	// conversation's customer and the staff who may see it.
	EventRTC = "rtc"
	// EventCobrowse: a co-browsing session changed state, got a chunk or
	// carries an agent's command (CobrowseEvent; cobrowse.go).
	EventCobrowse = "cobrowse"
	// EventAgent: UserID's availability or capacity changed (AgentEvent).
	EventAgent = "agent"
	// EventRouting: the routing rules changed (RoutingEvent).
	EventRouting = "routing"
	// EventArticle: an admin created, edited or deleted a knowledge-base
	// article (ArticleEvent). Desk-wide for staff; cards read the article
	// when shown, so nothing needs it live yet.
	EventArticle = "article"
)

// appendAccessEvent records in tx that userID's access changed.
func appendAccessEvent(tx Tx, userID int64, why string) error {
	return appendEvent(tx, Event{UserID: &userID, Data: AccessEvent{Why: why}})
}

// Event is one row of the event log. It is written in the same transaction as
// the change it announces, so a committed change is never lost to live
// clients and a rolled-back one is never announced.
type Event struct {
	ID             int64
	XID            uint64 `gorm:"column:xid;->"` // assigned by PostgreSQL: the writing transaction's id
	Kind           string
	ConversationID *int64
	MessageID      *int64
	UserID         *int64
	ItemID         *int64
	// Data is the kind's typed payload (see EventData); its Kind is the
	// event's Kind.
	Data      EventData `gorm:"column:data;serializer:eventdata"`
	CreatedAt time.Time
}

// appendEvent records e inside tx. Its kind is e.Data's. It is unexported
// and takes a Tx: only the domain operations of this package record events,
// and only inside Transact, which jobs.Writer alone calls. (insertMessage
// and insertNotifications write their events in their own statements, and
// take a Tx for the same reason.)
func appendEvent(tx Tx, e Event) error {
	if tx.db == nil {
		return errNoTx
	}
	if e.Data == nil {
		return errors.New("append event: no data")
	}
	e.Kind = e.Data.Kind()
	data, err := EncodeEventData(e.Data)
	if err != nil {
		return err
	}
	evs, err := scanEvents(tx.db.Raw("INSERT INTO events (kind, conversation_id, message_id, user_id, item_id, data) VALUES (?, ?, ?, ?, ?, ?) RETURNING "+eventColumns,
		e.Kind, e.ConversationID, e.MessageID, e.UserID, e.ItemID, string(data)))
	if err != nil {
		return fmt.Errorf("append %s event: %w", e.Kind, err)
	}
	tx.reported(evs...)
	return nil
}

// MarshalJSON encodes e with its payload in the stored form: jobs carry
// events (MailEventArgs), and their JSON must stay readable across versions.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	p := plain(e)
	if p.Data == nil {
		p.Data = UnknownEvent{EventKind: e.Kind}
	}
	return json.Marshal(p)
}

// UnmarshalJSON decodes what MarshalJSON (or an earlier version, whose Data
// was a JSON object) wrote.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var w struct {
		plain
		Data json.RawMessage
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	d, err := DecodeEventData(w.Kind, w.Data)
	if err != nil {
		return err
	}
	*e = Event(w.plain)
	e.Data = d
	return nil
}

// eventColumns are the columns of an Event, kind before data (see
// eventDataSerializer).
const eventColumns = `id, xid::text::bigint AS xid, kind, conversation_id, message_id, user_id, item_id, data, created_at`

func init() { schema.RegisterSerializer("eventdata", eventDataSerializer{}) }

// eventDataSerializer lets GORM load and store Event.Data through
// DecodeEventData and EncodeEventData, so an Event read by any query
// (Raw(…).Scan, Find, Take) has its typed payload. The payload's type
// depends on the row's kind, which GORM has set already when the kind
// column comes first (as in the table and eventColumns); a query that reads
// data without or before kind is an error, not a silent guess.
type eventDataSerializer struct{}

// Scan decodes the data column by the kind already scanned into dst.
func (eventDataSerializer) Scan(ctx context.Context, field *schema.Field, dst reflect.Value, dbValue any) error {
	kind := reflect.Indirect(dst).FieldByName("Kind").String()
	if kind == "" {
		return errors.New("scan event data: kind not read before data")
	}
	var raw []byte
	switch v := dbValue.(type) {
	case nil:
	case []byte:
		raw = v
	case string:
		raw = []byte(v)
	default:
		return fmt.Errorf("scan event data: cannot scan %T", dbValue)
	}
	d, err := DecodeEventData(kind, raw)
	if err != nil {
		return err
	}
	field.ReflectValueOf(ctx, dst).Set(reflect.ValueOf(&d).Elem())
	return nil
}

// Value encodes the payload.
func (eventDataSerializer) Value(_ context.Context, _ *schema.Field, _ reflect.Value, fieldValue any) (any, error) {
	d, _ := fieldValue.(EventData)
	raw, err := EncodeEventData(d)
	return string(raw), err
}

// scanEvents runs q, a query selecting eventColumns.
func scanEvents(q *gorm.DB) ([]Event, error) {
	var evs []Event
	if err := q.Scan(&evs).Error; err != nil {
		return nil, err
	}
	return evs, nil
}

// Horizon is how far the event log is final.
type Horizon struct {
	// XID: every transaction of this database with a smaller id has ended, and
	// every transaction that commits later has an id at least this large.
	XID uint64
	// InFlight reports whether write transactions of this database were
	// running: their events may appear below the next horizon.
	InFlight bool
}

// noEventsApp is the application_name a transaction takes, for its
// duration, when it writes no events (withoutEvents): background upkeep such
// as the search indexer or pruning, which may run for seconds.
const noEventsApp = "parley (no events)"

// withoutEvents runs fn in a transaction that declares, before it writes
// anything (and so before it has an id), that it records no events: the
// committed horizon does not wait for it. At -rate 200 a search-index run
// held one write transaction open 0.4-0.6 s, and every delivery that
// depends on the horizon (other instances, and a busy desk past its
// hand-off) waited for it: agents' post→delivery p99 1.2 s against 85 ms
// for visitors. fn gets a plain *gorm.DB, never a Tx, so it cannot call
// what appends events.
func withoutEvents(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// SET LOCAL: the name reverts when the transaction ends, and
		// pg_stat_activity shows it as soon as it is set.
		if err := tx.Exec("SET LOCAL application_name = '" + noEventsApp + "'").Error; err != nil {
			return err
		}
		return fn(tx)
	})
}

// notifyStatements send a NOTIFY (channel $1, payload $2) in a transaction
// that declares it writes no events. A NOTIFY gets a transaction id as it
// commits, and its commits wait for one another (PostgreSQL takes one lock
// for all of them, then flushes each): without the declaration every
// doorbell and typing signal held the committed horizon, and so every
// stream, while it queued and flushed.
var notifyStatements = []string{"BEGIN", "SET LOCAL application_name = '" + noEventsApp + "'", "SELECT pg_notify($1, $2)", "COMMIT"}

// QueueNotify queues on batch a NOTIFY on channel with payload that the
// committed horizon does not wait for (notifyStatements): sent with the
// batch, in one round trip.
func QueueNotify(batch *pgx.Batch, channel, payload string) {
	for _, q := range notifyStatements {
		if strings.Contains(q, "$1") {
			batch.Queue(q, channel, payload)
		} else {
			batch.Queue(q)
		}
	}
}

// CommittedHorizon returns the horizon below which the event log is final:
// the oldest transaction of this database still running, or the next
// transaction id if none is. Only this database's transactions count (a long
// write elsewhere on a shared server does not hold delivery back); they are
// found in pg_stat_activity, which shows the xids of the role's own sessions,
// and Parley writes its events as that role. Transactions that declared they
// write no events (withoutEvents) do not count either.
func CommittedHorizon(ctx context.Context, db *gorm.DB) (Horizon, error) {
	var row struct {
		Horizon  string
		InFlight bool
	}
	err := db.WithContext(ctx).Raw(`
		WITH s AS (SELECT pg_current_snapshot() AS snap),
		mine AS (
			SELECT x FROM s, pg_snapshot_xip(s.snap) AS x
			WHERE (x::text::numeric % 4294967296)::bigint IN (
				SELECT backend_xid::text::bigint FROM pg_stat_activity
				WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
				  AND application_name IS DISTINCT FROM '` + noEventsApp + `'))
		SELECT COALESCE((SELECT min(x) FROM mine), (SELECT pg_snapshot_xmax(snap) FROM s))::text AS horizon,
		       EXISTS (SELECT 1 FROM mine) AS in_flight`).Scan(&row).Error
	if err != nil {
		return Horizon{}, fmt.Errorf("read committed horizon: %w", err)
	}
	x, err := strconv.ParseUint(row.Horizon, 10, 64)
	return Horizon{XID: x, InFlight: row.InFlight}, err
}

// EventsBetween returns the events written by transactions with ids in
// [from, to), in id order. With to = CommittedHorizon, the result is final:
// no event can later appear in that range.
func EventsBetween(ctx context.Context, db *gorm.DB, from, to uint64) ([]Event, error) {
	evs, err := scanEvents(db.WithContext(ctx).Raw(`
		SELECT `+eventColumns+` FROM events
		WHERE xid >= ?::text::xid8 AND xid < ?::text::xid8
		ORDER BY id`, strconv.FormatUint(from, 10), strconv.FormatUint(to, 10)))
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return evs, nil
}

// PrunedBefore returns the transaction id below which events may have been
// pruned. A client resuming from before it has missed events and must reload.
func PrunedBefore(ctx context.Context, db *gorm.DB) (uint64, error) {
	var n int64
	err := db.WithContext(ctx).Raw("SELECT before_xid FROM events_pruned WHERE id = 1").Scan(&n).Error
	return uint64(n), err
}

// PruneEvents deletes events older than keep and records how far it went.
func PruneEvents(ctx context.Context, db *gorm.DB, keep time.Duration) (int64, error) {
	var n int64
	err := withoutEvents(ctx, db, func(tx *gorm.DB) error {
		var deleted struct {
			N   int64
			Max *int64
		}
		err := tx.Raw(`
			WITH d AS (DELETE FROM events WHERE created_at < now() - make_interval(secs => ?) RETURNING xid)
			SELECT count(*) AS n, max(xid::text::bigint) AS max FROM d`, keep.Seconds()).Scan(&deleted).Error
		if err != nil || deleted.Max == nil {
			return err
		}
		n = deleted.N
		return tx.Exec("UPDATE events_pruned SET before_xid = GREATEST(before_xid, ?) WHERE id = 1", *deleted.Max+1).Error
	})
	return n, err
}

// EventsOfThisTx returns the events written so far by the transaction tx, in
// order: what the change being committed announces.
func EventsOfThisTx(ctx context.Context, tx *gorm.DB) ([]Event, error) {
	return eventsOfThisTx(ctx, tx, "")
}

// eventsCheck heads the read-back that test binaries make of every
// transaction's reported events (txEvents): statement counts leave it out.
const eventsCheck = "/* reported events check */ "

func eventsOfThisTx(ctx context.Context, tx *gorm.DB, head string) ([]Event, error) {
	evs, err := scanEvents(tx.WithContext(ctx).Raw(head + `
		SELECT ` + eventColumns + ` FROM events WHERE xid = pg_current_xact_id() ORDER BY id`))
	if err != nil {
		return nil, fmt.Errorf("read this transaction's events: %w", err)
	}
	return evs, nil
}
