package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The agent's desk: what its navigation shows, opening a conversation, the
// rows live updates re-render, and per-user preferences.

// NavState is what the desk navigation shows on every staff page.
type NavState struct {
	Online bool
	// Notifications is the number on the bell: unread notifications.
	Notifications int
}

// DeskNav returns u's unread counts and whether the desk is online.
func DeskNav(ctx context.Context, db *gorm.DB, u *User) (NavState, error) {
	online, err := DeskOnline(ctx, db)
	if err != nil {
		return NavState{}, err
	}
	return DeskNavOf(ctx, db, u, online)
}

// DeskNavOf is DeskNav with the desk's online switch already read (from
// the settings a page read once for all it shows).
func DeskNavOf(ctx context.Context, db *gorm.DB, u *User, online bool) (NavState, error) {
	n := NavState{Online: online}
	var err error
	if n.Notifications, err = CountUnreadNotifications(ctx, db, u); err != nil {
		return n, err
	}
	return n, nil
}

// DeskOnline reports the desk's online switch.
func DeskOnline(ctx context.Context, db *gorm.DB) (bool, error) {
	var online bool
	if err := db.WithContext(ctx).Raw("SELECT online FROM desk_settings WHERE id = 1").Scan(&online).Error; err != nil {
		return false, fmt.Errorf("desk online: %w", err)
	}
	return online, nil
}

// FontSizes are the text sizes a user may choose for the transcript and the
// composer.
var FontSizes = []string{"small", "normal", "large"}

// SetComposerPrefs stores the user's composer comfort settings: a font size
// among FontSizes (anything else is a ValidationError on font_size, nothing
// stored) and whether the browser checks spelling in the composer.
func SetComposerPrefs(ctx context.Context, db *gorm.DB, userID int64, fontSize string, spellcheck bool) error {
	if !slices.Contains(FontSizes, fontSize) {
		return Invalid("font_size", "font_size_invalid", nil)
	}
	res := db.WithContext(ctx).Exec("UPDATE users SET font_size = ?, spellcheck = ?, updated_at = now() WHERE id = ?", fontSize, spellcheck, userID)
	if res.Error != nil {
		return fmt.Errorf("set composer prefs: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SetNotifySound turns the user's new-conversation chime on or off.
func SetNotifySound(ctx context.Context, db *gorm.DB, userID int64, on bool) error {
	res := db.WithContext(ctx).Exec("UPDATE users SET notify_sound = ?, updated_at = now() WHERE id = ?", on, userID)
	if res.Error != nil {
		return fmt.Errorf("set notify sound: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ConversationView is everything the desk's conversation page shows.
type ConversationView struct {
	Conversation *Conversation
	// BellCount is the viewer's unread notifications, when the page asked
	// for them (PageReads.Bell); nil otherwise.
	BellCount *int
	// List is the first page of the list shown beside the conversation, as
	// selected by ListQuery (its limit may leave one row more than a page).
	List      []InboxRow
	ListQuery InboxQuery
	// Row carries the list-level facts: member names, whether it is mine.
	Row      *InboxRow
	Messages []Message
	// MoreMessages reports that the thread has messages older than Messages.
	MoreMessages bool
	// Before is set when Messages is an earlier page, the one before that
	// message id (a "Load earlier" link followed without JavaScript).
	Before int64
	// FirstRequest is the customer's first message (clipped), for the
	// session details atop a customer conversation; empty for viewers who
	// may not see customer data.
	FirstRequest string
	// Support is the conversation's support session, if it was started as
	// one (support_session.go); the app sets it for support staff.
	Support *SupportSession
	// Media are the conversation's newest media sessions (rtc.go), newest
	// first; the app sets them for viewers who may use media (CanUseMedia).
	Media []RTCSession
	// MediaRights: whether the viewer may join its call or answer the
	// customer's (rtc_conference.go).
	MediaRights MediaRights
	// Cobrowse is the conversation's running co-browsing session, if any
	// (cobrowse.go); the app sets it for staff who may co-browse.
	Cobrowse *CobrowseSession
	// Members are the staff members of an internal conversation.
	Members []User
	// Teammates are the agents in a customer conversation
	// (ConversationTeammates): the composer's "To" menu offers them, but the
	// viewer, as recipients of a private message.
	Teammates []User
	// Following reports whether the viewer follows the conversation.
	Following bool
	// Items are the conversation's tickets and tasks the viewer may see,
	// in the order they were linked (ConversationItems).
	Items []ItemPanel
	// Context is the customer context panel (LoadCustomerContext): only
	// for viewers with customer data rights, on customer conversations.
	Context *CustomerContext
	// Tabs are the viewer's tabs above the page (agentTabsRead).
	Tabs []InboxRow
	// Participants is the Participants panel of a customer conversation
	// (participant.go).
	Participants *ParticipantsView
	// TeamName is the team whose queue it is in; Teams are where it may be
	// transferred (team_queue.go).
	TeamName string
	Teams    []TeamOption
	// TeamSLA are the teams' own service levels, read with Teams (nil when
	// Teams were not read): SLAPolicyWith.
	TeamSLA map[int64]SLAMinutes
}

// OpenConversation loads the conversation with publicID for u, who has
// opened it, and marks it read for them; anything u may not see is
// ErrNotFound. list selects the list shown beside it; without a section it
// is the list the conversation belongs to: the customers inbox (Open, All)
// for support agents' customer conversations, My conversations otherwise.
func OpenConversation(ctx context.Context, t Tx, u *User, publicID string, list InboxQuery) (*ConversationView, error) {
	db := t.DB()
	if db == nil {
		return nil, errNoTx
	}
	conv, err := FindConversationForUser(ctx, db, u, publicID)
	if err != nil {
		return nil, err
	}
	if err := MarkRead(ctx, t, u, conv); err != nil {
		return nil, err
	}
	return ConversationViewOf(ctx, db, u, conv, list, true)
}

// ConversationList is the list shown beside conv for u: the one the link
// asked for, or (none asked, or one u may not see) the conversation's own.
func ConversationList(u *User, conv *Conversation, list InboxQuery) InboxQuery {
	if list.Section == "" || (list.Section == SectionCustomers && !CanSeeCustomerData(u)) {
		list.Section, list.Status, list.Filter, list.Before = SectionMine, StatusOpen, FilterAll, nil
		if conv.Kind == KindCustomer && CanSeeCustomerData(u) {
			list.Section = SectionCustomers
		}
	}
	list.Viewer = u
	return list
}

// ConversationViewOf reads what the conversation page shows of conv, which
// u may see (FindConversationForUser found it): the list beside it (unless
// withList is false: the page the agent clicked in already shows it), the
// newest messages and the side panel. It writes nothing: the page marks the
// conversation read first (MarkRead, or OpenConversation for both).
func ConversationViewOf(ctx context.Context, db *gorm.DB, u *User, conv *Conversation, list InboxQuery, withList bool) (*ConversationView, error) {
	return ConversationViewWith(ctx, db, u, conv, list, PageReads{List: withList}, nil)
}

// PageReads says what else a desk page reads in the round trip of its own
// reads.
type PageReads struct {
	// List: the list beside the conversation (not for a click, whose page
	// keeps its own).
	List bool
	// Bell: the bell's count (a whole page's navigation): the view's
	// BellCount.
	Bell bool
}

// ConversationViewWith is ConversationViewOf with conv's row for u already
// read (OpenRowFor, when it was read already: nothing was written since);
// nil reads it. with says what else is read with the page.
func ConversationViewWith(ctx context.Context, db *gorm.DB, u *User, conv *Conversation, list InboxQuery, with PageReads, row *InboxRow) (*ConversationView, error) {
	var err error
	v := &ConversationView{Conversation: conv, Row: row}
	list = ConversationList(u, conv, list)
	v.ListQuery = list
	if v.Row == nil {
		if v.Row, err = InboxRowFor(ctx, db, u, conv.ID); err != nil {
			return nil, err
		}
	}
	if conv.Kind == KindInternal {
		if v.Members, err = ConversationMembers(ctx, db, conv.ID); err != nil {
			return nil, fmt.Errorf("conversation members: %w", err)
		}
	}
	// The thread, the side panel and the tabs above the page, in one round
	// trip. Who it may be assigned, transferred or invited to is read when
	// a menu is first used (app/desk_menus.go): the page of a desk of 2,000
	// agents reads and renders what one of 5 does.
	var (
		msgs     []Message
		teamRows []teamSLARow
		itemRows []conversationItemRow
		ps       []Participant
		ccDone   func()
	)
	msgsRead, limit := messagesRead(conv, u, false, 0, MessageLimit, &msgs)
	reads, bellDone, err := listAndBellReads([]pipelinedRead{msgsRead}, list, &v.List, with, &v.BellCount)
	if err != nil {
		return nil, err
	}
	if conv.Kind == KindCustomer {
		reads = append(reads, teammatesRead(conv, &v.Teammates), participantsRead(conv, &ps))
	}
	if conv.Kind != KindInternal {
		reads = append(reads, teamsWithSLARead(&teamRows))
		v.TeamName = v.Row.TeamName
	}
	reads = append(reads, conversationItemsRead(u, conv, &itemRows))
	if hasCustomerContext(u, conv) && conv.Customer != nil && conv.Customer.ID == *conv.CustomerID {
		var ccReads []pipelinedRead
		v.Context, ccReads, ccDone = customerContextReads(u, conv, conv.Customer)
		reads = append(reads, ccReads...)
	}
	if CanSeeCustomerData(u) {
		reads = append(reads, agentTabsRead(u, &v.Tabs))
	}
	if err := pipelined(ctx, db, reads...); err != nil {
		return nil, fmt.Errorf("conversation page: %w", err)
	}
	bellDone()
	page, err := messagePage(ctx, db, msgs, limit)
	if err != nil {
		return nil, err
	}
	v.Messages, v.MoreMessages = page.Messages, page.More
	if !page.More && conv.Kind == KindCustomer && CanSeeCustomerData(u) {
		// The whole thread is on the page, and with it every customer
		// message (the viewer sees them all): no statement.
		v.FirstRequest = firstRequestIn(page.Messages)
	} else if v.FirstRequest, err = FirstRequest(ctx, db, u, conv); err != nil {
		return nil, err
	}
	if conv.Kind != KindInternal {
		v.Teams, v.TeamSLA = teamsWithSLA(teamRows)
	}
	v.Following = v.Row.ViewerFollowing
	v.Items = itemPanels(u, itemRows)
	if err := withTeams(ctx, db, v.Items, v.Teams); err != nil {
		return nil, err
	}
	if conv.Kind == KindCustomer {
		if err := participantUsers(ctx, db, ps); err != nil {
			return nil, err
		}
		v.Participants = &ParticipantsView{Participants: ps}
	}
	if ccDone != nil {
		ccDone()
	} else if hasCustomerContext(u, conv) {
		// A conversation looked up without its customer (none of the
		// desk's lookups).
		if v.Context, err = LoadCustomerContext(ctx, db, u, conv); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	sortTabs(v.Tabs)
	return v, nil
}

// SessionsOf says which kinds of session customer conversation convID has:
// a support session, media sessions, a running co-browsing session.
// Opening a conversation reads it with the conversation's row (OpenRowFor)
// and reads only the kinds it has (most conversations have none).
type SessionsOf struct {
	Support, Media, Cobrowse bool
}

// FirstRequestLen is how much of the customer's first message the session
// details show.
const FirstRequestLen = 300

// FirstRequest is the text of the customer's first message in conv (at most
// FirstRequestLen bytes, "…" when cut), for the session details; empty for
// a teammate chat, a conversation with no customer message yet, or a viewer
// who may not see customer data.
func FirstRequest(ctx context.Context, db *gorm.DB, u *User, conv *Conversation) (string, error) {
	if conv.Kind != KindCustomer || !CanSeeCustomerData(u) {
		return "", nil
	}
	return firstRequest(ctx, db, conv)
}

// firstRequest is FirstRequest for a reader already allowed to see conv's
// customer messages (its staff or its customer: transcripts).
func firstRequest(ctx context.Context, db *gorm.DB, conv *Conversation) (string, error) {
	if conv.Kind != KindCustomer {
		return "", nil
	}
	var bodies []string
	err := db.WithContext(ctx).Raw(`SELECT body FROM messages WHERE conversation_id = ? AND kind = ? AND author_type = ?
		AND deleted_at IS NULL ORDER BY id LIMIT 1`, conv.ID, MessageText, AuthorCustomer).Scan(&bodies).Error
	if err != nil {
		return "", fmt.Errorf("first request: %w", err)
	}
	if len(bodies) == 0 {
		return "", nil
	}
	return clipRequest(bodies[0]), nil
}

// firstRequestIn is firstRequest found in a whole thread ms (oldest first).
func firstRequestIn(ms []Message) string {
	for i := range ms {
		if m := &ms[i]; m.Kind == MessageText && m.AuthorType == AuthorCustomer && m.DeletedAt == nil {
			return clipRequest(m.Body)
		}
	}
	return ""
}

// clipRequest cuts a first request to FirstRequestLen, "…" when cut.
func clipRequest(body string) string {
	if b := clip(body, FirstRequestLen); b != body {
		return b + "…"
	}
	return body
}

// Number is the conversation's number as staff read and say it ("#1042"):
// its id. Staff pages show it; customers see the random public id, and the
// number only where an agent tells them (the {{conversation.number}}
// placeholder of canned replies, the same id without the "#") and atop
// their saved transcript (views.TranscriptText), to quote it to the team.
func (c *Conversation) Number() string { return "#" + strconv.FormatInt(c.ID, 10) }

// SetFollowing makes u follow a customer conversation (it then shows in their
// "My conversations") or stop following it. Their open desks hear of it.
func SetFollowing(ctx context.Context, t Tx, u *User, conv *Conversation, follow bool) error {
	if conv.Kind != KindCustomer {
		return Invalid("following", "follow_invalid", nil)
	}
	return t.run(ctx, func(tx *gorm.DB) error {
		if err := holdConversationKey(tx, conv.ID); err != nil {
			return fmt.Errorf("set following: %w", err)
		}
		res := tx.Exec(`
			INSERT INTO conversation_users (conversation_id, user_id, following) VALUES (?, ?, ?)
			ON CONFLICT (conversation_id, user_id) DO UPDATE SET following = EXCLUDED.following
			WHERE conversation_users.following <> EXCLUDED.following`, conv.ID, u.ID, follow)
		if res.Error != nil {
			return fmt.Errorf("set following: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return appendEvent(t, Event{ConversationID: &conv.ID, UserID: &u.ID, Data: ConversationEvent{Following: &follow}})
	})
}

// GenericPlans runs fn's reads in one transaction whose prepared statements
// run on generic plans. For the lookups by an array of ids that live
// delivery runs for every batch (LiveRows, the batch's messages and
// conversations), PostgreSQL otherwise keeps custom plans, the id array
// looking selective, and plans each call anew: at parley-bench -rate 200 that
// planning was 0.4-2.7 ms per statement, more than running them, and a
// quarter of the database's time. Their generic plans read each id through
// the primary key as the custom ones do.
//
// On a connection GenericReads keeps (set to generic plans for its session),
// fn runs at once, without the transaction.
func GenericPlans(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	if _, kept := db.Statement.ConnPool.(*genericConn); kept {
		return fn(db.WithContext(ctx))
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL plan_cache_mode = force_generic_plan").Error; err != nil {
			return err
		}
		return fn(tx)
	})
}

// LiveRows returns, keyed by id, those of the conversations ids that u may
// see, as rows of u's lists. Live updates call it once per batch of events
// (through LiveRowsMany, with the other streams' of the moment).
func LiveRows(ctx context.Context, db *gorm.DB, u *User, ids []int64) (map[int64]*InboxRow, error) {
	rows, err := LiveRowsMany(ctx, db, []RowsRequest{{Viewer: u, IDs: ids}})
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// RowsRequest asks LiveRowsMany for the conversations IDs as Viewer's rows.
type RowsRequest struct {
	Viewer *User
	IDs    []int64
}

// liveRowsMany is rowSelect for many viewers at once: p holds one (request,
// viewer, conversation) triple per row asked for, and each viewer's own
// columns (unread count, "mine", following, internal membership) are
// computed on their triples.
var liveRowsMany = func() string {
	forViewer := strings.NewReplacer("@me", "p.me", "@support", "p.support")
	return `SELECT p.req AS req, ` + forViewer.Replace(rowColumns) + `
		FROM unnest(CAST(@req AS int[]), CAST(@me AS bigint[]), CAST(@support AS boolean[]), CAST(@ids AS bigint[]))
		  AS p(req, me, support, id)
		JOIN conversations c ON c.id = p.id ` + forViewer.Replace(rowJoins) + `
		WHERE ` + forViewer.Replace(visibleToUser)
}()

// LiveRowsMany is LiveRows for several requests in one statement: the
// desk streams that render the same moment's batches (every agent's gets
// every customer message) ask together, and PostgreSQL reads each
// conversation's row once per moment instead of once per stream. The
// result has one map per request, in order.
func LiveRowsMany(ctx context.Context, db *gorm.DB, reqs []RowsRequest) ([]map[int64]*InboxRow, error) {
	out := make([]map[int64]*InboxRow, len(reqs))
	var req []int32
	var me, ids []int64
	var support []bool
	for i, r := range reqs {
		out[i] = map[int64]*InboxRow{}
		for _, id := range r.IDs {
			req = append(req, int32(i))
			me = append(me, r.Viewer.ID)
			support = append(support, CanSeeCustomerData(r.Viewer))
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		Req int
		InboxRow
	}
	// Arrays, not a parameter per id: every batch size is the same
	// statement, prepared once per connection, and planned once
	// (GenericPlans: planning the one-viewer form cost 2.7 ms against 1.2 ms
	// of running it, once per agent stream and batch; at parley-bench -rate
	// 200 post→delivery p99 went from 661-1,673 to 383-555 ms).
	err := GenericPlans(ctx, db, func(tx *gorm.DB) error {
		return pipelined(ctx, tx, readNamed(&rows, liveRowsMany, map[string]any{
			"req": asArray(req), "me": asArray(me), "support": asArray(support), "ids": asArray(ids),
		}))
	})
	if err != nil {
		return nil, fmt.Errorf("live rows: %w", err)
	}
	for i := range rows {
		if r := rows[i].Req; r >= 0 && r < len(out) {
			out[r][rows[i].ID] = &rows[i].InboxRow
		}
	}
	return out, nil
}

// Holds reports whether r belongs in the list q selects (for its viewer),
// ignoring paging: live updates use it to move rows in and out of lists.
func (q InboxQuery) Holds(r *InboxRow) bool {
	if r.Status != q.Status {
		return false
	}
	switch q.Section {
	case SectionCustomers:
		if r.Kind != KindCustomer || !CanSeeCustomerData(q.Viewer) {
			return false
		}
		if q.Team > 0 && (r.TeamID == nil || *r.TeamID != q.Team) {
			return false
		}
		switch q.Filter {
		case FilterTeams:
			return r.TeamID != nil && slices.Contains(q.ViewerTeams, *r.TeamID)
		case FilterUnassigned:
			return r.AssigneeID == nil
		case FilterMine:
			return r.AssigneeID != nil && *r.AssigneeID == q.Viewer.ID
		case FilterUnanswered:
			return r.WaitingSince != nil
		}
		return true
	case SectionMine:
		return r.Mine
	}
	return false
}

// Cursor is the keyset position just after r in its list, newest activity
// first.
func (r *InboxRow) Cursor() InboxCursor {
	return InboxCursor{At: r.LastMessageAt, ID: r.ID}
}

// CursorIn is the keyset position just after r in a list sorted by sort.
func (r *InboxRow) CursorIn(sort string) InboxCursor {
	if sort != SortWaiting {
		return r.Cursor()
	}
	c := InboxCursor{ID: r.ID}
	if r.WaitingSince != nil {
		c.At = *r.WaitingSince
	}
	return c
}

// String encodes c for a URL ("Older" links): microseconds and id, or
// "inf" for the zero time (a waiting sort's rows nobody waits on).
func (c InboxCursor) String() string {
	if c.At.IsZero() {
		return "inf-" + strconv.FormatInt(c.ID, 10)
	}
	return strconv.FormatInt(c.At.UnixMicro(), 10) + "-" + strconv.FormatInt(c.ID, 10)
}

// ErrBadCursor is returned for a paging cursor that was not made by String.
var ErrBadCursor = errors.New("bad inbox cursor")

// ParseInboxCursor decodes what InboxCursor.String made; "" is no cursor.
func ParseInboxCursor(s string) (*InboxCursor, error) {
	if s == "" {
		return nil, nil
	}
	at, id, ok := strings.Cut(s, "-")
	if !ok {
		return nil, ErrBadCursor
	}
	n, err2 := strconv.ParseInt(id, 10, 64)
	if at == "inf" {
		if err2 != nil || n <= 0 {
			return nil, ErrBadCursor
		}
		return &InboxCursor{ID: n}, nil
	}
	us, err1 := strconv.ParseInt(at, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 || us <= 0 {
		return nil, ErrBadCursor
	}
	return &InboxCursor{At: time.UnixMicro(us).UTC(), ID: n}, nil
}
