package models

import (
	"strconv"
	"strings"
)

// Access rules: who may see and do what. Each rule is written once, here, as
// a Go predicate and, where lists and lookups filter in the database, as the
// SQL condition beside it; TestAccessGoAndSQLAgree checks that both forms
// answer alike on a generated population. Pages, fragments, streams, jobs
// and emails all ask these (after Gitea's models/perm/access).

// IsAdmin reports whether u may use the admin area.
func (u *User) IsAdmin() bool { return u != nil && u.Role == RoleAdmin }

// CanSeeCustomerData reports whether u may see customers: their names,
// addresses and conversations. Customer data is for customer-support staff
// only, in every rendering (pages, live updates, notifications, emails), so
// every place that shows it asks this one predicate.
func CanSeeCustomerData(u *User) bool { return u != nil && u.CustomerSupport }

// CanSeeItems reports whether u may see items of kind: tickets involve
// customers and are for customer-support agents; tasks are for all staff.
// Its SQL forms are userSeesItemSQL (the viewer as arguments) and
// usersSeeItemSQL (users as rows).
func CanSeeItems(u *User, kind string) bool {
	switch kind {
	case ItemTicket:
		return CanSeeCustomerData(u)
	case ItemTask:
		return u != nil
	}
	return false
}

// seesItem is CanSeeItems as a condition on items (alias i); @support is
// CanSeeCustomerData of the user.
const seesItem = `(i.kind = 'task' OR (i.kind = 'ticket' AND @support))`

// userSeesItemSQL is CanSeeItems as a condition on the items row alias, for
// the user given as the named argument @support (userArgs).
func userSeesItemSQL(alias string) string {
	return strings.ReplaceAll(seesItem, "i.", alias+".")
}

// usersSeeItemSQL is CanSeeItems as a condition on a pair of rows: the users
// row users (whose customer_support is CanSeeCustomerData) and the items row
// items; audiences pick who may hear of an item with it.
func usersSeeItemSQL(users, items string) string {
	return strings.ReplaceAll(userSeesItemSQL(items), "@support", usersSeeCustomerDataSQL(users))
}

// CanSwitchDesk reports whether u may set the whole desk online or offline:
// admins and customer-support agents (the switch tells customers whether
// anyone will answer them).
func CanSwitchDesk(u *User) bool {
	return u != nil && u.Active && (u.IsAdmin() || CanSeeCustomerData(u))
}

// IsSupportAgent reports whether u takes customer conversations: an active
// user with customer data rights (CanSeeCustomerData). Customer
// conversations are assigned to them and they hear of new ones. Its SQL form
// is supportAgentSQL.
func IsSupportAgent(u *User) bool { return u != nil && u.Active && CanSeeCustomerData(u) }

// supportAgentSQL is IsSupportAgent as a condition on the users row alias.
func supportAgentSQL(users string) string {
	return "(" + users + ".active AND " + usersSeeCustomerDataSQL(users) + ")"
}

// usersSeeCustomerDataSQL is CanSeeCustomerData as a condition on the users
// row alias (audiences, which check many users at once; a query for one
// viewer passes CanSeeCustomerData as @support instead: userArgs).
func usersSeeCustomerDataSQL(users string) string { return users + ".customer_support" }

// CanSeeConversation reports whether the staff user u may open conv:
// customer conversations need customer data rights (CanSeeCustomerData);
// internal ones (teammate chats) membership, which member reports
// (conversation_users.member). Its SQL form is userSeesConversationSQL.
//
// A caller that does not know the membership passes true to ask "could u
// see it at all" and leaves the membership to a query that applies the SQL
// form (LiveRows, FindConversationForUser).
func CanSeeConversation(u *User, conv *Conversation, member bool) bool {
	if u == nil || conv == nil {
		return false
	}
	switch conv.Kind {
	case KindCustomer:
		return CanSeeCustomerData(u)
	case KindInternal:
		return member
	}
	return false
}

// visibleToUser is CanSeeConversation as a condition on conversations
// (alias c) for the user given as the named arguments @me (id) and @support
// (userArgs).
const visibleToUser = `((c.kind = 'customer' AND @support) OR (c.kind = 'internal' AND EXISTS (
	SELECT 1 FROM conversation_users m WHERE m.conversation_id = c.id AND m.user_id = @me AND m.member)))`

// visibleToUserAs is visibleToUser for a user whose CanSeeCustomerData is
// support, that answer written into the text (@support is not used). The
// statements every desk page runs on conversations' rows (ListInbox,
// agentTabsRead, OpenRowFor, InboxRowFor) use it, with limitSQL: with either as a parameter,
// PostgreSQL never settled on a generic plan for them and planned each
// call (1.1-2.3 ms, more than running them).
func visibleToUserAs(support bool) string {
	return strings.Replace(visibleToUser, "@support", strconv.FormatBool(support), 1)
}

// userSeesConversationSQL is visibleToUser on another alias of conversations.
func userSeesConversationSQL(alias string) string {
	return strings.ReplaceAll(visibleToUser, "c.", alias+".")
}

// userArgs are the named arguments of userSeesConversationSQL for u.
func userArgs(u *User) map[string]any {
	return map[string]any{"me": u.ID, "support": CanSeeCustomerData(u)}
}

// Sees reports whether v may read and write conv: a customer conversation
// of v's customer and, for a visitor scoped by a chat link, that one. Its
// SQL form is visitorSeesSQL.
func (v *Visitor) Sees(conv *Conversation) bool {
	return conv != nil && conv.Kind == KindCustomer && conv.CustomerID != nil && *conv.CustomerID == v.CustomerID &&
		(v.ConversationID == nil || *v.ConversationID == conv.ID)
}

// CanCobrowse reports whether the staff user u may ask to follow, follow,
// command and end co-browsing of conv, and read its chunks: a customer
// conversation u sees (customer data rights), as an active user. Anyone
// else is told the session does not exist.
func CanCobrowse(u *User, conv *Conversation) bool {
	return u != nil && u.Active && conv != nil && conv.Kind == KindCustomer && CanSeeConversation(u, conv, true)
}

// MayRecord reports whether v may post page recordings to session s of
// conv: its own conversation (Sees), the session of that conversation, and
// only while it is active (accepted by the customer, not ended).
func (v *Visitor) MayRecord(conv *Conversation, s *CobrowseSession) bool {
	return v != nil && v.Sees(conv) && s != nil && s.ConversationID == conv.ID && s.State == CobrowseActive
}

// visitorSeesSQL is Visitor.Sees as a condition on the conversations row
// alias, for the visitor given as the named arguments @customer and @scope
// (visitorArgs).
func visitorSeesSQL(alias string) string {
	return strings.ReplaceAll(`(c.kind = 'customer' AND c.customer_id = @customer AND (CAST(@scope AS bigint) IS NULL OR c.id = @scope))`, "c.", alias+".")
}

// visitorArgs are the named arguments of visitorSeesSQL for v.
func visitorArgs(v *Visitor) map[string]any {
	return map[string]any{"customer": v.CustomerID, "scope": v.ConversationID}
}

// VisibleToCustomer reports whether the customer of a conversation may see
// m: their messages and the agents' replies, and some status lines; never a
// note nor a private message. Its SQL form is customerSeesMessageSQL.
func (m *Message) VisibleToCustomer() bool {
	switch m.Kind {
	case MessageText:
		return true
	case MessageSystem:
		for _, e := range customerEvents {
			if m.Event == e {
				return true
			}
		}
	}
	return false
}

// customerSeesMessageSQL is Message.VisibleToCustomer as a condition on the
// messages row alias, with the named argument @customer_events
// (customerEvents).
func customerSeesMessageSQL(alias string) string {
	return strings.ReplaceAll(`(m.kind = 'message' OR (m.kind = 'system' AND m.event IN @customer_events))`, "m.", alias+".")
}

// VisibleToUser reports whether the staff user u, who may see m's
// conversation (CanSeeConversation), may see m: every message but a private
// one (MessagePrivate), which only its author and its recipients see. It
// decides by m.Recipients (loaded with every list of messages): a private
// message whose recipients were not loaded is seen by its author alone. Its
// SQL forms are userSeesMessageSQL (the viewer as @me) and
// usersSeeMessageSQL (users as rows: audiences).
func (m *Message) VisibleToUser(u *User) bool {
	if m == nil || u == nil {
		return false
	}
	if m.Kind != MessagePrivate {
		return true
	}
	if m.AuthorUserID != nil && *m.AuthorUserID == u.ID {
		return true
	}
	for _, r := range m.Recipients {
		if r.ID == u.ID {
			return true
		}
	}
	return false
}

// seesMessage is Message.VisibleToUser as a condition on messages (alias m)
// for the user @me.
const seesMessage = `(m.kind <> 'private' OR m.author_user_id = @me OR EXISTS (
	SELECT 1 FROM message_recipients mr WHERE mr.message_id = m.id AND mr.user_id = @me))`

// userSeesMessageSQL is Message.VisibleToUser as a condition on the messages
// row alias, for the user given as the named argument @me (userArgs).
func userSeesMessageSQL(alias string) string {
	return strings.ReplaceAll(seesMessage, "m.", alias+".")
}

// usersSeeMessageSQL is Message.VisibleToUser as a condition on a pair of
// rows: the users row users and the messages row messages (who hears of a
// message: AudienceOf).
func usersSeeMessageSQL(users, messages string) string {
	return strings.ReplaceAll(userSeesMessageSQL(messages), "@me", users+".id")
}

// CanChangeMessage reports whether the staff user u may edit or delete m,
// in a conversation u may see (the caller found it for u): a message, a
// note or a private message u may see (VisibleToUser), not deleted already,
// that u wrote; admins may change any. Status lines are never changed.
func CanChangeMessage(u *User, m *Message) bool {
	if u == nil || m == nil || !u.Active || m.DeletedAt != nil {
		return false
	}
	if m.Kind != MessageText && m.Kind != MessageNote && m.Kind != MessagePrivate {
		return false
	}
	// A private message: only by who may see it (its author or, for an
	// admin, a recipient).
	if !m.VisibleToUser(u) {
		return false
	}
	return u.IsAdmin() || (m.AuthorUserID != nil && *m.AuthorUserID == u.ID)
}

// CanSeeMessageHistory reports whether u may read what edited and deleted
// messages said before (message_revisions): admins only; customers never.
func CanSeeMessageHistory(u *User) bool { return u.IsAdmin() && u.Active }

// CanUseCanned reports whether u may see and insert canned reply r (and
// find it at all: anything else is not found): a personal reply is its
// owner's alone, a team's is for that team's members (member) and for
// admins, who manage them, a desk-wide one is for everyone. Its SQL form is
// userSeesCannedSQL.
func CanUseCanned(u *User, r *CannedReply, member bool) bool {
	if u == nil || r == nil {
		return false
	}
	switch r.Scope {
	case CannedPersonal:
		return r.OwnerID != nil && *r.OwnerID == u.ID
	case CannedTeam:
		return member || u.IsAdmin()
	case CannedDesk:
		return true
	}
	return false
}

// CanManageCanned reports whether u may create, edit and delete canned
// reply r: the owner of a personal one, a team's members and admins for a
// team's, admins only for desk-wide ones.
func CanManageCanned(u *User, r *CannedReply, member bool) bool {
	return CanUseCanned(u, r, member) && (r.Scope != CannedDesk || u.IsAdmin())
}

// userSeesCannedSQL is CanUseCanned as a condition on the canned_replies
// row alias, for the user given as the named arguments @me and @admin.
func userSeesCannedSQL(alias string) string {
	return strings.ReplaceAll(`(r.scope = 'desk' OR (r.scope = 'personal' AND r.owner_id = @me) OR (r.scope = 'team' AND (@admin OR EXISTS (
	SELECT 1 FROM team_members tm WHERE tm.team_id = r.team_id AND tm.user_id = @me))))`, "r.", alias+".")
}

// CanJoinConversation reports whether u may be in conv as a participant
// (join it, hidden or not, invite others into it, or be invited): an active
// customer-support agent (IsSupportAgent) who may see conv
// (CanSeeConversation), and only in customer conversations (teammate chats
// have members instead). Its SQL form, for users as rows, is
// usersMayJoinSQL.
func CanJoinConversation(u *User, conv *Conversation) bool {
	return IsSupportAgent(u) && conv != nil && conv.Kind == KindCustomer && CanSeeConversation(u, conv, false)
}

// usersMayJoinSQL is CanJoinConversation as a condition on a pair of rows:
// the users row alias users and the conversations row alias convs (the
// invite picker lists the agents it allows).
func usersMayJoinSQL(users, convs string) string {
	sees := strings.ReplaceAll(userSeesConversationSQL(convs), "@support", usersSeeCustomerDataSQL(users))
	sees = strings.ReplaceAll(sees, "@me", users+".id")
	return "(" + supportAgentSQL(users) + " AND " + convs + ".kind = 'customer' AND " + sees + ")"
}

// CustomerAuthorName is the name a customer sees for message m (pages,
// live stream, emails, transcripts: every customer rendering calls it):
// the agent's name, or desk (the desk's name, DeskSettings.DeskName or its
// default) for a message written by a hidden participant (AuthorHidden) or
// by an agent whose name is gone. A customer's own messages are theirs:
// callers name those themselves ("You").
func CustomerAuthorName(m *Message, desk string) string {
	if m.AuthorType == AuthorAgent && !m.AuthorHidden && m.AuthorUser != nil && m.AuthorUser.Name != "" {
		return m.AuthorUser.Name
	}
	if m.AuthorType == AuthorCustomer && m.AuthorCustomer != nil {
		return m.AuthorCustomer.DisplayName()
	}
	return desk
}

// CanViewReports reports whether u may read the desk's reports (the
// Sessions report): active admins, and active agents an admin allowed
// (users.can_view_reports, SetReportAccess). A report shows who handled
// what and for how long; the customers' names and chat logs in it still
// follow CanSeeCustomerData and CanSeeConversation.
func CanViewReports(u *User) bool {
	return u != nil && u.Active && (u.IsAdmin() || u.CanViewReports)
}

// SeesFile reports whether v may download f, in conv, sent with m (nil
// while f is pending): a file of a message v sees (VisibleToCustomer, so
// never one of a note or a private message) in a conversation v sees,
// neither removed nor its message deleted; a pending upload only its own
// customer's. Its SQL form is visitorSeesFileSQL.
func (v *Visitor) SeesFile(f *File, m *Message, conv *Conversation) bool {
	if v == nil || f == nil || f.DeletedAt != nil || conv == nil || f.ConversationID != conv.ID || !v.Sees(conv) {
		return false
	}
	if f.MessageID == nil {
		return f.UploaderCustomerID != nil && *f.UploaderCustomerID == v.CustomerID
	}
	return m != nil && m.ID == *f.MessageID && m.DeletedAt == nil && m.VisibleToCustomer()
}

// visitorSeesFileSQL is Visitor.SeesFile as a condition on the files,
// messages (left-joined on message_id) and conversations row aliases, with
// visitorArgs and @customer_events.
func visitorSeesFileSQL(files, msgs, convs string) string {
	return `(` + files + `.deleted_at IS NULL AND ` + visitorSeesSQL(convs) + ` AND CASE WHEN ` + files + `.message_id IS NULL
		THEN ` + files + `.uploader_customer_id = @customer
		ELSE ` + msgs + `.deleted_at IS NULL AND ` + customerSeesMessageSQL(msgs) + ` END)`
}

// CanSeeFile reports whether the staff user u may download f, in conv
// (member: u's membership, as CanSeeConversation), sent with m (nil while
// pending): an active user who may see the conversation and the message
// (VisibleToUser: a private message's files only its author and
// recipients), neither removed nor the message deleted; a pending upload
// only its uploader. Its SQL form is userSeesFileSQL.
func CanSeeFile(u *User, f *File, m *Message, conv *Conversation, member bool) bool {
	if u == nil || !u.Active || f == nil || f.DeletedAt != nil || conv == nil || f.ConversationID != conv.ID || !CanSeeConversation(u, conv, member) {
		return false
	}
	if f.MessageID == nil {
		return f.UploaderUserID != nil && *f.UploaderUserID == u.ID
	}
	return m != nil && m.ID == *f.MessageID && m.DeletedAt == nil && m.VisibleToUser(u)
}

// userSeesFileSQL is CanSeeFile as a condition on the files, messages
// (left-joined on message_id) and conversations row aliases, for the user
// given as userArgs (the user's being active is checked by the caller).
func userSeesFileSQL(files, msgs, convs string) string {
	return `(` + files + `.deleted_at IS NULL AND ` + userSeesConversationSQL(convs) + ` AND CASE WHEN ` + files + `.message_id IS NULL
		THEN ` + files + `.uploader_user_id = @me
		ELSE ` + msgs + `.deleted_at IS NULL AND ` + userSeesMessageSQL(msgs) + ` END)`
}

// CanUseMedia reports whether the staff user u may start or take part in a
// media session (screen sharing, calls: rtc.go) in conv: support agents who
// may see the customer conversation. The customer's side is Visitor.Sees.
func CanUseMedia(u *User, conv *Conversation) bool {
	return IsSupportAgent(u) && conv != nil && conv.Kind == KindCustomer && CanSeeConversation(u, conv, true)
}

// CanReadSignal reports whether a, who may use media in the signal's
// conversation (CanUseMedia or Visitor.Sees), may read the signalling
// message s: only its addressee (a session's signals carry SDP and network
// addresses, for the two browsers that connect and nobody else).
func CanReadSignal(a MediaActor, s *RTCSignal) bool {
	return s != nil && s.ToPeer == a.Peer()
}

// CanManageArticles reports whether u may write, edit, preview and delete
// knowledge-base articles and see drafts: admins (kb.go).
func CanManageArticles(u *User) bool { return u.IsAdmin() && u.Active }

// CanSendArticle reports whether u may send an article into conv: anyone
// who may write a reply to conv's customer (support staff who see it).
func CanSendArticle(u *User, conv *Conversation) bool {
	return conv != nil && conv.Kind == KindCustomer && CanSeeConversation(u, conv, true)
}

// VisibleToCustomer reports whether customers, and anyone on the web, may
// read a: published articles only; a draft is never public. Its SQL form is
// articleVisibleToCustomerSQL.
func (a *Article) VisibleToCustomer() bool { return a != nil && a.Published }

// articleVisibleToCustomerSQL is Article.VisibleToCustomer as a condition
// on the kb_articles row alias.
func articleVisibleToCustomerSQL(alias string) string { return alias + ".published" }
