package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Inbox sections and filters.
const (
	SectionCustomers = "customers" // customer conversations: support agents only
	SectionMine      = "mine"      // assigned to me, written in, followed, or internal with me

	FilterAll        = "all"
	FilterUnassigned = "unassigned"
	FilterMine       = "mine"
	// FilterUnanswered keeps the conversations whose customer waits for a
	// reply (waiting_since set).
	FilterUnanswered = "unanswered"
	// FilterTeams keeps the conversations in the queues of the viewer's
	// teams ("My teams", team_queue.go).
	FilterTeams = "teams"

	// SortActivity lists newest activity first (the default); SortWaiting
	// lists the customers who have waited longest first, then the
	// conversations nobody waits on.
	SortActivity = "activity"
	SortWaiting  = "waiting"
)

// InboxQuery selects one page of an inbox list, newest activity first.
// Before is the keyset cursor: the last row of the previous page.
type InboxQuery struct {
	Viewer  *User
	Section string
	Status  string
	Filter  string
	// Sort is SortActivity (also "") or SortWaiting.
	Sort string
	// Team keeps one team's queue (customers section; 0: any team).
	Team   int64
	Limit  int
	Before *InboxCursor
	// ViewerTeams are the ids of the viewer's teams (FilterTeams), set by
	// the handler like Viewer; not part of a link.
	ViewerTeams []int64
}

// InboxCursor marks a position in an inbox list: the row's last activity,
// or in the waiting sort its waiting_since (zero: a row nobody waits on,
// which sort after every waiting one).
type InboxCursor struct {
	At time.Time
	ID int64
}

// InboxRow is one conversation in a list, with what the row shows.
type InboxRow struct {
	Conversation
	CustomerName  string
	CustomerEmail string
	AssigneeName  string
	// TeamName is the name of the team whose queue it is in ("": none).
	TeamName string
	Unread   int
	// MemberNames lists an internal conversation's other members (not the
	// viewer), by name.
	MemberNames string
	// Mine reports whether the row belongs in the viewer's "My conversations".
	Mine bool
	// ViewerFollowing: the viewer follows the conversation.
	ViewerFollowing bool
	// ViewerRead: the viewer has read it all (ReadUpToDate); read by
	// OpenRowFor only, false elsewhere.
	ViewerRead bool
}

// Title is what a row or page calls the conversation: the customer, or for
// an internal conversation the viewer's teammates in it.
func (r *InboxRow) Title() string {
	if r.Kind == KindInternal {
		return r.MemberNames
	}
	if r.CustomerName != "" {
		return r.CustomerName
	}
	return r.CustomerEmail
}

// mineCondition selects "My conversations" for @me: assigned to me, or my
// row says I am a member, wrote in it, follow it, or am involved in its item
// (created, assigned or follow it: via_item, kept by item.go).
const mineCondition = `(c.assignee_id = @me OR EXISTS (
	SELECT 1 FROM conversation_users m WHERE m.conversation_id = c.id AND m.user_id = @me
	  AND (m.member OR m.participated OR m.following OR m.via_item)))`

// mineFromRow is mineCondition read from @me's own conversation_users row
// r, which rowSelect joins already (one row at most: its key is
// conversation and user): no subquery, which PostgreSQL plans as a hash of
// every conversation @me ever touched, built again for a single row.
const mineFromRow = `(c.assignee_id = @me OR COALESCE(r.member OR r.participated OR r.following OR r.via_item, false))`

// mineIDs selects the ids of @me's "My conversations" (mineCondition, as a
// set): found from @me's own rows, so a list or count of them never scans
// every conversation.
const mineIDs = `(SELECT id FROM conversations WHERE assignee_id = @me
	UNION
	SELECT conversation_id FROM conversation_users
	WHERE user_id = @me AND (member OR participated OR following OR via_item))`

// unreadCount counts (up to 99) messages and notes by others after u's read
// marker, and private messages to u; a subquery per row of a page, each an
// index range scan.
var unreadCount = `(SELECT count(*) FROM (
	SELECT 1 FROM messages um
	WHERE um.conversation_id = c.id AND um.id > COALESCE(r.last_read_message_id, 0)
	  AND um.kind IN ('message', 'note', 'private') AND um.author_user_id IS DISTINCT FROM @me
	  AND ` + userSeesMessageSQL("um") + `
	LIMIT 99) u)`

// unreadMarker is whether @me's row r is behind the conversation c: its
// newest message, or the newest private message to @me (which does not move
// c.last_message_id).
const unreadMarker = `(c.last_message_id > COALESCE(r.last_read_message_id, 0)
	  OR COALESCE(r.last_private_message_id, 0) > COALESCE(r.last_read_message_id, 0))`

// memberNames lists the other members of an internal conversation.
const memberNames = `(SELECT COALESCE(string_agg(mu.name, ', ' ORDER BY lower(mu.name), mu.id), '')
	FROM conversation_users mm JOIN users mu ON mu.id = mm.user_id
	WHERE mm.conversation_id = c.id AND mm.member AND mm.user_id <> @me)`

// rowSelect reads conversations (alias c) as InboxRows for @me; r is @me's
// read marker.
var rowSelect = `SELECT ` + rowColumns + ` FROM conversations c ` + rowJoins

// rowColumns are an InboxRow's columns, for @me.
var rowColumns = `c.*, c.public_id::text AS public_id,
		       COALESCE(cu.name, '') AS customer_name, COALESCE(cu.email, '') AS customer_email,
		       COALESCE(a.name, '') AS assignee_name, COALESCE(qt.name, '') AS team_name, ` + unreadCount + ` AS unread,
		       CASE WHEN c.kind = 'internal' THEN ` + memberNames + ` ELSE '' END AS member_names,
		       ` + mineFromRow + ` AS mine, COALESCE(r.following, false) AS viewer_following`

// rowJoins join what rowColumns read to conversations c.
const rowJoins = `
		LEFT JOIN customers cu ON cu.id = c.customer_id
		LEFT JOIN users a ON a.id = c.assignee_id
		LEFT JOIN teams qt ON qt.id = c.team_id
		LEFT JOIN conversation_users r ON r.conversation_id = c.id AND r.user_id = @me`

// limitSQL is a LIMIT clause for n rows, n written into the statement (see
// visibleToUserAs): with it and the viewer's kind in the text, PostgreSQL
// keeps one plan for the inbox's rows after five calls (planning 0.01 ms)
// and runs it in 0.45 ms, where each call's own plan took 1.1-2.3 ms to
// make and 1.1-1.3 to run. n is a bounded count the code chooses, never
// the request's text.
func limitSQL(n int) string {
	return "LIMIT " + strconv.Itoa(n)
}

// ListInbox returns one page of conversations for q.
func ListInbox(ctx context.Context, db *gorm.DB, q InboxQuery) ([]InboxRow, error) {
	var rows []InboxRow
	read, ok, err := listInboxRead(q, &rows)
	if err != nil || !ok {
		return nil, err
	}
	if err := pipelined(ctx, db, read); err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	return rows, nil
}

// listInboxRead is ListInbox's statement, reading into dst; ok is false
// when the viewer may see nothing of the section (no statement to run).
func listInboxRead(q InboxQuery, dst *[]InboxRow) (_ pipelinedRead, ok bool, _ error) {
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = 50
	}
	args := map[string]any{"me": q.Viewer.ID, "status": q.Status}
	where := "c.status = @status AND " + visibleToUserAs(CanSeeCustomerData(q.Viewer))
	switch q.Section {
	case SectionCustomers:
		if !CanSeeCustomerData(q.Viewer) {
			return pipelinedRead{}, false, nil
		}
		where += " AND c.kind = 'customer'"
		switch q.Filter {
		case FilterUnassigned:
			where += " AND c.assignee_id IS NULL"
		case FilterMine:
			where += " AND c.assignee_id = @me"
		case FilterUnanswered:
			where += " AND c.waiting_since IS NOT NULL"
		case FilterTeams:
			where += " AND c.team_id IN (SELECT team_id FROM team_members WHERE user_id = @me)"
		}
		if q.Team > 0 {
			where += " AND c.team_id = @team"
			args["team"] = q.Team
		}
	case SectionMine:
		where += " AND c.id IN " + mineIDs
	default:
		return pipelinedRead{}, false, fmt.Errorf("list inbox: unknown section %q", q.Section)
	}
	order := "c.last_message_at DESC, c.id DESC"
	if q.Sort == SortWaiting {
		// One expression for the sort, the cursor and the index
		// (conversations_waiting_idx): rows nobody waits on come last.
		order = "COALESCE(c.waiting_since, 'infinity'), c.id"
	}
	if q.Before != nil {
		args["before_id"] = q.Before.ID
		if q.Sort == SortWaiting {
			where += " AND (COALESCE(c.waiting_since, 'infinity'), c.id) > (COALESCE(CAST(@before_at AS timestamptz), 'infinity'), @before_id)"
			args["before_at"] = (*time.Time)(nil)
			if !q.Before.At.IsZero() {
				args["before_at"] = q.Before.At
			}
		} else {
			where += " AND (c.last_message_at, c.id) < (@before_at, @before_id)"
			args["before_at"] = q.Before.At
		}
	}
	// The page's conversations first, then what their rows show: the
	// joins and per-row subqueries run for the page only, not for every
	// conversation the section holds (My conversations of an agent in
	// 2,832 of them, 666 open: 16 ms, 11 ms so).
	return readNamed(dst, `
		SELECT `+rowColumns+`
		FROM (SELECT * FROM conversations c WHERE `+where+` ORDER BY `+order+` `+limitSQL(q.Limit)+`) c `+rowJoins+`
		ORDER BY `+order, args), true, nil
}

// InboxRowFor returns conv as a row of u's lists (for live updates), or
// ErrNotFound when u may not see it.
func InboxRowFor(ctx context.Context, db *gorm.DB, u *User, convID int64) (*InboxRow, error) {
	var rows []InboxRow
	err := db.WithContext(ctx).Raw(`
		`+rowSelect+`
		WHERE c.id = @id AND `+visibleToUserAs(CanSeeCustomerData(u)),
		map[string]any{"me": u.ID, "id": convID}).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("inbox row: %w", err)
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	return &rows[0], nil
}

// openRowSelect is rowSelect with ReadUpToDate's test (viewerReadSQL) and
// which sessions a customer conversation has (SessionsOf).
var openRowSelect = `SELECT ` + rowColumns + `,
		       ` + viewerReadSQL + ` AS viewer_read,
		       c.kind = 'customer' AND EXISTS (SELECT 1 FROM support_sessions WHERE conversation_id = c.id) AS has_support,
		       c.kind = 'customer' AND EXISTS (SELECT 1 FROM rtc_sessions WHERE conversation_id = c.id) AS has_media,
		       c.kind = 'customer' AND EXISTS (SELECT 1 FROM cobrowse_sessions WHERE conversation_id = c.id AND state IN ('requested', 'active')) AS has_cobrowse
		FROM conversations c ` + rowJoins

// OpenRowFor is InboxRowFor for a page that opens conv: the row also says
// whether u has read it all (InboxRow.ViewerRead), and which sessions the
// conversation has, so opening a conversation already read asks two
// statements fewer than reading the read state, the row and the sessions
// apart. A row that is not read goes stale once the page marks it
// read: read it again then (its sessions do not change by a read).
func OpenRowFor(ctx context.Context, db *gorm.DB, u *User, convID int64) (*InboxRow, SessionsOf, error) {
	var rows []struct {
		InboxRow
		HasSupport, HasMedia, HasCobrowse bool
	}
	err := pipelined(ctx, db, readNamed(&rows, `
		`+openRowSelect+`
		WHERE c.id = @id AND `+visibleToUserAs(CanSeeCustomerData(u)),
		map[string]any{"me": u.ID, "id": convID}))
	if err != nil {
		return nil, SessionsOf{}, fmt.Errorf("open row: %w", err)
	}
	if len(rows) == 0 {
		return nil, SessionsOf{}, ErrNotFound
	}
	r := &rows[0]
	return &r.InboxRow, SessionsOf{Support: r.HasSupport, Media: r.HasMedia, Cobrowse: r.HasCobrowse}, nil
}

// IsMine reports whether conv belongs in u's "My conversations".
func IsMine(ctx context.Context, db *gorm.DB, u *User, convID int64) (bool, error) {
	var ok bool
	err := db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM conversations c WHERE c.id = @id AND `+mineCondition+`)`,
		map[string]any{"me": u.ID, "id": convID}).Scan(&ok).Error
	return ok, err
}

// UnreadCap bounds the unread counts of the navigation: past it the desk
// shows "99+". Counting stops there, so a page view never counts over all
// of a large desk's conversations.
const UnreadCap = 100

// UnreadSummary counts conversations with unread messages for the navigation:
// open customer conversations (support agents) and My conversations. Each
// count stops at UnreadCap.
type UnreadSummary struct {
	Customers int
	Mine      int
	// Total counts the conversations of either section once (a customer
	// conversation assigned to me is in both), for the browser tab's title.
	Total int
}

// unreadCustomers selects (up to @cap) open customer conversations unread by
// @me, newest first: the inbox index, stopping at the cap.
var unreadCustomers = `SELECT c.id FROM conversations c
	LEFT JOIN conversation_users r ON r.conversation_id = c.id AND r.user_id = @me
	WHERE @support AND c.kind = 'customer' AND c.status = 'open'
	  AND ` + unreadMarker + `
	ORDER BY c.last_message_at DESC, c.id DESC LIMIT @cap`

// mineBehind is whether @me's row r puts its conversation in My
// conversations and is behind it (r.conv_last_message_id mirrors
// c.last_message_id, kept by a trigger: migration 00030): the predicate of
// conversation_users_unread_idx, which holds only such rows.
const mineBehind = `(r.member OR r.participated OR r.following OR r.via_item)
	AND (r.conv_last_message_id > r.last_read_message_id OR r.last_private_message_id > r.last_read_message_id)`

// unreadMine selects (up to @cap) conversations in @me's My conversations
// with unread messages: @me's rows that are behind (one range of
// conversation_users_unread_idx, however many conversations @me ever wrote
// in or followed) and the conversations assigned to @me; never by scanning
// every conversation @me touched.
var unreadMine = `SELECT c.id FROM (
		SELECT r.conversation_id AS id FROM conversation_users r WHERE r.user_id = @me AND ` + mineBehind + `
		UNION
		SELECT id FROM conversations WHERE assignee_id = @me) mi
	JOIN conversations c ON c.id = mi.id
	LEFT JOIN conversation_users r ON r.conversation_id = c.id AND r.user_id = @me
	WHERE ` + unreadMarker + `
	  AND ` + visibleToUser + `
	LIMIT @cap`

// unreadSetSQL selects @me's unread conversations by section.
var unreadSetSQL = `
	(SELECT id, 'customers' AS section FROM (` + unreadCustomers + `) uc)
	UNION ALL
	(SELECT id, 'mine' AS section FROM (` + unreadMine + `) um)`

// CountUnread returns u's unread summary.
func CountUnread(ctx context.Context, db *gorm.DB, u *User) (UnreadSummary, error) {
	set, err := LoadUnreadSet(ctx, db, u)
	if err != nil {
		return UnreadSummary{}, fmt.Errorf("count unread: %w", err)
	}
	return set.Summary(), nil
}

// UnreadSet is which conversations u has unread, by section: what the nav
// counts are made of. A live desk keeps one and updates it from the rows of
// each batch (Update) instead of counting over all conversations again.
// A section that reached UnreadCap when loaded is saturated: it keeps
// counting as "99+" until the next load.
type UnreadSet struct {
	Customers map[int64]bool
	Mine      map[int64]bool

	customersFull, mineFull bool
}

// LoadUnreadSet returns u's unread conversations, up to UnreadCap per
// section.
func LoadUnreadSet(ctx context.Context, db *gorm.DB, u *User) (*UnreadSet, error) {
	var rows []struct {
		ID      int64
		Section string
	}
	err := db.WithContext(ctx).Raw(unreadSetSQL,
		map[string]any{"me": u.ID, "support": CanSeeCustomerData(u), "cap": UnreadCap}).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load unread: %w", err)
	}
	set := &UnreadSet{Customers: map[int64]bool{}, Mine: map[int64]bool{}}
	for _, r := range rows {
		if r.Section == "customers" {
			set.Customers[r.ID] = true
		} else {
			set.Mine[r.ID] = true
		}
	}
	set.customersFull, set.mineFull = len(set.Customers) >= UnreadCap, len(set.Mine) >= UnreadCap
	return set, nil
}

// Update applies the current state of a conversation, as u's row (nil: u
// may no longer see it).
func (s *UnreadSet) Update(u *User, id int64, r *InboxRow) {
	delete(s.Customers, id)
	delete(s.Mine, id)
	if r == nil || r.Unread == 0 {
		return
	}
	if r.Kind == KindCustomer && r.Status == StatusOpen && CanSeeCustomerData(u) {
		s.Customers[id] = true
	}
	if r.Mine {
		s.Mine[id] = true
	}
}

// Summary counts the set like CountUnread does: each count stops at
// UnreadCap, and a saturated section stays at the cap.
func (s *UnreadSet) Summary() UnreadSummary {
	total := len(s.Customers)
	for id := range s.Mine {
		if !s.Customers[id] {
			total++
		}
	}
	capped := func(n int, full bool) int {
		if full || n > UnreadCap {
			return UnreadCap
		}
		return n
	}
	return UnreadSummary{
		Customers: capped(len(s.Customers), s.customersFull),
		Mine:      capped(len(s.Mine), s.mineFull),
		Total:     capped(total, s.customersFull || s.mineFull),
	}
}

// FindConversationForUser returns the conversation with publicID if u may
// open it; otherwise ErrNotFound, the same answer as for an unknown id.
func FindConversationForUser(ctx context.Context, db *gorm.DB, u *User, publicID string) (*Conversation, error) {
	return conversationByPublicID(db.WithContext(ctx), publicID, userArgs(u), userSeesConversationSQL("conversations"))
}

// conversationByPublicID finds, on q, the conversation publicID that the
// access condition sees (its named arguments in args): one query with the
// customer and assignee joined. Any other id is ErrNotFound.
func conversationByPublicID(q *gorm.DB, publicID string, args map[string]any, sees string) (*Conversation, error) {
	if !validPublicID(publicID) {
		return nil, ErrNotFound
	}
	var cs []Conversation
	err := pipelined(q.Statement.Context, q, conversationByPublicIDRead(&cs, publicID, args, sees))
	return firstConversation(cs, err)
}

// conversationByPublicIDRead is conversationByPublicID's statement (the
// public id already checked), reading into dst.
func conversationByPublicIDRead(dst *[]Conversation, publicID string, args map[string]any, sees string) pipelinedRead {
	args["pid"] = publicID
	return readNamed(dst, conversationWithPeople+" WHERE conversations.public_id = @pid AND "+sees, args)
}

// firstConversation is what a lookup found: its first row, ErrNotFound if
// none, or the lookup's error.
func firstConversation(cs []Conversation, err error) (*Conversation, error) {
	if err != nil {
		return nil, fmt.Errorf("find conversation: %w", err)
	}
	if len(cs) == 0 {
		return nil, ErrNotFound
	}
	return &cs[0], nil
}

// FindConversationForCustomer returns the customer's own conversation with
// publicID; any other id, internal or someone else's, is ErrNotFound.
func FindConversationForCustomer(ctx context.Context, db *gorm.DB, customerID int64, publicID string) (*Conversation, error) {
	return FindConversationForVisitor(ctx, db, &Visitor{CustomerID: customerID}, publicID)
}

// FindConversationForVisitor returns the conversation with publicID if v
// may see it (Visitor.Sees, in its SQL form): its customer's own and, for a
// visitor started by a chat link, only that link's conversation. Anything
// else is ErrNotFound.
func FindConversationForVisitor(ctx context.Context, db *gorm.DB, v *Visitor, publicID string) (*Conversation, error) {
	return conversationByPublicID(db.WithContext(ctx), publicID, visitorArgs(v), visitorSeesSQL("conversations"))
}

// LockConversationForUser is FindConversationForUser inside a write: the
// conversation's row stays locked (FOR UPDATE) until the write commits, so
// the post that follows in the same transaction (PostOpts.Locked) need not
// read it again. One round trip fewer on every reply (issue 12 item 3).
func LockConversationForUser(ctx context.Context, t Tx, u *User, publicID string) (*Conversation, error) {
	return lockConversation(ctx, t, publicID, userArgs(u), userSeesConversationSQL("conversations"))
}

// LockConversationForVisitor is FindConversationForVisitor inside a write,
// the row locked as LockConversationForUser locks it.
func LockConversationForVisitor(ctx context.Context, t Tx, v *Visitor, publicID string) (*Conversation, error) {
	if !validPublicID(publicID) {
		return nil, ErrNotFound
	}
	// The desk settings the visitor's write decides by (settingsForWrite)
	// are held with the conversation, in the same round trip.
	var (
		cs       []Conversation
		settings []DeskSettings
	)
	err := t.run(ctx, func(tx *gorm.DB) error {
		return pipelined(ctx, tx,
			conversationByPublicIDRead(&cs, publicID, visitorArgs(v), visitorSeesSQL("conversations")+" FOR UPDATE OF conversations"),
			settingsForWriteRead(&settings))
	})
	if err == nil && len(settings) > 0 && t.held != nil {
		t.held.settings = &settings[0]
	}
	return firstConversation(cs, err)
}

// lockConversation finds and locks the conversation publicID that the
// access condition sees (its named arguments in args).
// Only the conversation's row is locked, not the customer and assignee
// read with it.
func lockConversation(ctx context.Context, t Tx, publicID string, args map[string]any, sees string) (*Conversation, error) {
	var conv *Conversation
	err := t.run(ctx, func(tx *gorm.DB) (err error) {
		conv, err = conversationByPublicID(tx, publicID, args, sees+" FOR UPDATE OF conversations")
		return err
	})
	return conv, err
}

// VisitorConversations lists the conversations v may see (Visitor.Sees),
// newest first.
func VisitorConversations(ctx context.Context, db *gorm.DB, v *Visitor, limit int) ([]Conversation, error) {
	var cs []Conversation
	args := visitorArgs(v)
	args["limit"] = limit
	err := db.WithContext(ctx).Raw(`
		SELECT c.*, c.public_id::text AS public_id FROM conversations c
		WHERE `+visitorSeesSQL("c")+`
		ORDER BY c.last_message_at DESC, c.id DESC LIMIT @limit`, args).Scan(&cs).Error
	if err != nil {
		return nil, fmt.Errorf("visitor conversations: %w", err)
	}
	return cs, nil
}

// MergeVisitorConversations brings list, what VisitorConversations
// returned for a visitor (newest first, at most limit), up to date with
// changed, those of the visitor's conversations read again after a change:
// each takes its place by its newest message, and the list keeps its
// order and limit. A conversation's newest message only moves forward, so
// the list stays what VisitorConversations would return now; a widget's
// live home view merges each batch's conversations instead of asking again.
func MergeVisitorConversations(list []Conversation, changed []*Conversation, limit int) []Conversation {
	out := make([]Conversation, 0, len(list)+len(changed))
	for _, c := range list {
		if !slices.ContainsFunc(changed, func(n *Conversation) bool { return n.ID == c.ID }) {
			out = append(out, c)
		}
	}
	for _, c := range changed {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Conversation) int {
		if c := b.LastMessageAt.Compare(a.LastMessageAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out[:min(len(out), limit)]
}

// uuidRe matches the canonical text form of a UUID.
var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validPublicID reports whether s can be a conversation's public id. Lookups
// compare the uuid column itself (so its unique index is used), which needs a
// well-formed value; anything else simply names no conversation.
func validPublicID(s string) bool { return uuidRe.MatchString(s) }

// findConversation runs a scoped conversation lookup: no row is ErrNotFound,
// whether the conversation does not exist or the asker may not see it.
// The query is conversationWithPeople and its WHERE (at most one row).
func findConversation(q *gorm.DB, query string, args map[string]any) (*Conversation, error) {
	var cs []Conversation
	err := pipelined(q.Statement.Context, q, readNamed(&cs, query, args))
	return firstConversation(cs, err)
}

// ConversationMembers lists the staff members of an internal conversation.
func ConversationMembers(ctx context.Context, db *gorm.DB, convID int64) ([]User, error) {
	var us []User
	err := db.WithContext(ctx).Raw(`
		SELECT u.* FROM users u JOIN conversation_users m ON m.user_id = u.id
		WHERE m.conversation_id = ? AND m.member ORDER BY lower(u.name), u.id`, convID).Scan(&us).Error
	return us, err
}

// MessageLimit is how many messages a page of a thread holds: a thread opens
// on its newest page, and "Load earlier" fetches the page before its oldest.
const MessageLimit = 50

// MessagePage is a page of a thread, oldest first. More reports that older
// messages exist (visible to the same reader), so the page offers "Load
// earlier" from Messages[0].
type MessagePage struct {
	Messages []Message
	More     bool
}

// ListMessages returns the newest messages of conv in order, with authors;
// for a customer, only what customers may see (no notes, no staff-only
// status lines). For staff it leaves out every private message: a desk
// lists a thread for its viewer with ListMessagesFor.
func ListMessages(ctx context.Context, db *gorm.DB, conv *Conversation, forCustomer bool) ([]Message, error) {
	p, err := ListMessagesBefore(ctx, db, conv, forCustomer, 0, MessageLimit)
	return p.Messages, err
}

// ListMessagesBefore returns the page of conv's messages just before the
// message id before (0: the newest page), at most limit of them, oldest
// first, with authors. It pages by keyset on the id (ids grow with each
// message of a conversation, and messages_conversation_idx serves the
// range), so a page costs the same at any depth. For a customer it keeps to
// what customers may see, like ListMessages; for staff in general (no
// viewer) it leaves out private messages.
func ListMessagesBefore(ctx context.Context, db *gorm.DB, conv *Conversation, forCustomer bool, before int64, limit int) (MessagePage, error) {
	return listMessages(ctx, db, conv, nil, forCustomer, before, limit)
}

// ListMessagesFor is ListMessagesBefore for the staff user u, who may see
// conv: the private messages u wrote or received are in it, with their
// recipients (Message.VisibleToUser, in its SQL form).
func ListMessagesFor(ctx context.Context, db *gorm.DB, conv *Conversation, u *User, before int64, limit int) (MessagePage, error) {
	if u == nil {
		return MessagePage{}, errors.New("list messages: no viewer")
	}
	return listMessages(ctx, db, conv, u, false, before, limit)
}

func listMessages(ctx context.Context, db *gorm.DB, conv *Conversation, u *User, forCustomer bool, before int64, limit int) (MessagePage, error) {
	var ms []Message
	read, limit := messagesRead(conv, u, forCustomer, before, limit, &ms)
	if err := pipelined(ctx, db, read); err != nil {
		return MessagePage{}, fmt.Errorf("list messages: %w", err)
	}
	return messagePage(ctx, db, ms, limit)
}

// messagesRead is listMessages' statement: the page of conv's messages
// before the message id before (0: the newest), newest first, one more than
// limit (which it returns, as bounded) to tell whether there are more.
func messagesRead(conv *Conversation, u *User, forCustomer bool, before int64, limit int, dst *[]Message) (pipelinedRead, int) {
	if limit <= 0 || limit > MessageLimit*4 {
		limit = MessageLimit
	}
	// One query with both authors joined, like MessagesByID.
	where := "messages.conversation_id = @conv"
	args := map[string]any{"conv": conv.ID}
	if before > 0 {
		where += " AND messages.id < @before"
		args["before"] = before
	}
	switch {
	case forCustomer:
		where += " AND " + customerSeesMessageSQL("messages")
		args["customer_events"] = customerEvents
	case u != nil:
		where += " AND " + userSeesMessageSQL("messages")
		args["me"] = u.ID
	default:
		where += " AND messages.kind <> @private"
		args["private"] = MessagePrivate
	}
	return readNamed(dst, messageWithAuthors+" WHERE "+where+" ORDER BY messages.id DESC "+limitSQL(limit+1), args), limit
}

// messagePage makes the page of the messages messagesRead read: oldest
// first, with their recipients, files and articles.
func messagePage(ctx context.Context, db *gorm.DB, ms []Message, limit int) (MessagePage, error) {
	p := MessagePage{More: len(ms) > limit}
	if p.More {
		ms = ms[:limit]
	}
	slices.Reverse(ms)
	ptrs := make([]*Message, len(ms))
	for i := range ms {
		ptrs[i] = &ms[i]
	}
	if err := loadRecipients(ctx, db, ptrs); err != nil {
		return MessagePage{}, err
	}
	if err := loadFiles(ctx, db, ptrs); err != nil {
		return MessagePage{}, err
	}
	if err := loadArticles(ctx, db, ptrs); err != nil {
		return MessagePage{}, err
	}
	p.Messages = ms
	return p, nil
}

// MessagesByID loads messages with their authors, keyed by id
// (MessagesAndConversations, without conversations).
func MessagesByID(ctx context.Context, db *gorm.DB, ids []int64) (map[int64]*Message, error) {
	ms, _, err := MessagesAndConversations(ctx, db, ids, nil)
	return ms, err
}

// MessagesAndConversations loads the messages msgIDs with their authors,
// recipients, files and articles, and the conversations convIDs with their
// customer and assignee, each keyed by id, in one round trip: the realtime
// broker loads each batch's once for all subscribers.
func MessagesAndConversations(ctx context.Context, db *gorm.DB, msgIDs, convIDs []int64) (map[int64]*Message, map[int64]*Conversation, error) {
	var (
		ms    []Message
		cs    []Conversation
		reads []pipelinedRead
	)
	if len(msgIDs) > 0 {
		reads = append(reads, readInto(&ms, messageWithAuthors+" WHERE messages.id = ANY($1::bigint[])", msgIDs))
	}
	if len(convIDs) > 0 {
		reads = append(reads, readInto(&cs, conversationWithPeople+" WHERE conversations.id = ANY($1::bigint[])", convIDs))
	}
	if err := pipelined(ctx, db, reads...); err != nil {
		return nil, nil, fmt.Errorf("load messages and conversations: %w", err)
	}
	msgs := make(map[int64]*Message, len(ms))
	ptrs := make([]*Message, len(ms))
	for i := range ms {
		msgs[ms[i].ID] = &ms[i]
		ptrs[i] = &ms[i]
	}
	// Private messages carry their recipients: each desk stream shows them
	// only to those (Message.VisibleToUser).
	if err := loadRecipients(ctx, db, ptrs); err != nil {
		return nil, nil, err
	}
	if err := loadFiles(ctx, db, ptrs); err != nil {
		return nil, nil, err
	}
	// Articles as their cards show them now (title, still published).
	if err := loadArticles(ctx, db, ptrs); err != nil {
		return nil, nil, err
	}
	convs := make(map[int64]*Conversation, len(cs))
	for i := range cs {
		convs[cs[i].ID] = &cs[i]
	}
	return msgs, convs, nil
}

// SupportAgents lists active users with the customer-support flag, for the
// assignee menu.
func SupportAgents(ctx context.Context, db *gorm.DB) ([]User, error) {
	var us []User
	err := db.WithContext(ctx).Where(supportAgentSQL("users")).Order("lower(name), id").Find(&us).Error
	return us, err
}

// ActiveUsers lists active staff users, for picking teammates.
func ActiveUsers(ctx context.Context, db *gorm.DB) ([]User, error) {
	var us []User
	err := db.WithContext(ctx).Where("active").Order("lower(name), id").Find(&us).Error
	return us, err
}

// InboxPageView is what a list page (the inbox, My conversations) reads.
type InboxPageView struct {
	Rows []InboxRow
	// Teams are every team, with the service levels of those that have
	// their own (TeamOptionsWithSLA).
	Teams   []TeamOption
	TeamSLA map[int64]SLAMinutes
	// BellCount is the viewer's unread notifications when asked for
	// (bell); nil otherwise.
	BellCount *int
}

// InboxPage reads a list page in one round trip: the rows q selects
// (ListInbox), the teams with their service levels, and with bell the
// count on the viewer's bell (for a whole page's navigation).
func InboxPage(ctx context.Context, db *gorm.DB, q InboxQuery, bell bool) (*InboxPageView, error) {
	v := &InboxPageView{}
	var teamRows []teamSLARow
	reads, bellDone, err := listAndBellReads([]pipelinedRead{teamsWithSLARead(&teamRows)}, q, &v.Rows, PageReads{List: true, Bell: bell}, &v.BellCount)
	if err != nil {
		return nil, err
	}
	if err := pipelined(ctx, db, reads...); err != nil {
		return nil, fmt.Errorf("list page: %w", err)
	}
	bellDone()
	v.Teams, v.TeamSLA = teamsWithSLA(teamRows)
	return v, nil
}

// listAndBellReads adds to reads what a desk page reads of its list and
// navigation (with): the rows q selects, into rows, and the count on the
// viewer's bell, which done leaves in *bell once the batch has run.
func listAndBellReads(reads []pipelinedRead, q InboxQuery, rows *[]InboxRow, with PageReads, bell **int) (_ []pipelinedRead, done func(), _ error) {
	done = func() {}
	if with.List {
		read, ok, err := listInboxRead(q, rows)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			reads = append(reads, read)
		}
	}
	if with.Bell {
		var n int
		var read pipelinedRead
		read, done = bellCountRead(q.Viewer, &n)
		reads = append(reads, read)
		*bell = &n
	}
	return reads, done, nil
}
