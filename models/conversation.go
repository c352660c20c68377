package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Conversation kinds and states.
const (
	KindCustomer = "customer" // a customer and the support team
	KindInternal = "internal" // teammates only; never reaches a customer

	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Message kinds and author types.
const (
	MessageText   = "message" // seen by everyone in the conversation
	MessageNote   = "note"    // internal note: staff only
	MessageSystem = "system"  // a status line
	// MessagePrivate is a message from an agent to chosen teammates in a
	// customer conversation (PostOpts.To): only they and its author see it
	// (Message.VisibleToUser), never the customer or other agents.
	MessagePrivate = "private"

	AuthorCustomer = "customer"
	AuthorAgent    = "agent"
	AuthorSystem   = "system"
)

// System line events. Customers see only those in customerEvents.
const (
	SysClosed             = "closed"
	SysReopened           = "reopened"
	SysReopenedByCustomer = "reopened_by_customer"
	SysAssigned           = "assigned"
	SysUnassigned         = "unassigned"
	SysAutoClosed         = "auto_closed" // closed by the auto-close job (see AutoCloseIdle)
	// An agent joined or left (participant.go); the customer sees only a
	// visible agent's lines, never a hidden one's.
	SysJoined       = "joined"
	SysLeft         = "left"
	SysJoinedHidden = "joined_hidden"
	SysLeftHidden   = "left_hidden"
)

// customerEvents are the status lines a customer sees in the widget.
var customerEvents = []string{SysClosed, SysReopened, SysReopenedByCustomer, SysAutoClosed,
	SysTicketLinked, SysTicketStatus, // item.go: only a ticket's reference and resolved/closed
	SysSessionEnded,    // support_session.go
	SysJoined, SysLeft, // participant.go: visible agents only
	SysRTCRequested, SysRTCAccepted, SysRTCDeclined, SysRTCStarted, SysRTCEnded, // rtc.go
	SysRTCJoined, SysRTCLeft, // rtc_conference.go
	SysCobrowseRequested, SysCobrowseAccepted, SysCobrowseDeclined, SysCobrowseStarted, SysCobrowseEnded} // cobrowse.go

// MaxMessageLen caps a message body, in characters.
const MaxMessageLen = 10000

// Conversation is a thread between a customer and the support team, or
// between teammates.
type Conversation struct {
	ID                 int64
	PublicID           string `gorm:"->"`
	Kind               string
	Status             string
	CustomerID         *int64
	AssigneeID         *int64
	TeamID             *int64
	CreatedBy          *int64
	Subject            string
	Channel            string
	PageURL            string
	Referrer           string
	UserAgent          string
	Browser            string
	OS                 string `gorm:"column:os"`
	Language           string
	Timezone           string
	LastMessageID      int64
	LastMessageAt      time.Time
	LastMessagePreview string
	// CustomerLastReadMessageID is the customer's read marker (the widget's
	// read receipts, MarkCustomerRead); the desk shows "Seen" under it.
	CustomerLastReadMessageID int64 `gorm:"->"`
	WaitingSince              *time.Time
	// FirstResponseAt is the first agent reply to a waiting customer: the
	// first-response service level runs until it is set (sla.go).
	FirstResponseAt *time.Time
	ClosedAt        *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time

	Customer *Customer `gorm:"foreignKey:CustomerID"`
	Assignee *User     `gorm:"foreignKey:AssigneeID"`
}

// Message is one entry in a conversation's thread.
type Message struct {
	ID               int64
	ConversationID   int64
	Kind             string
	AuthorType       string
	AuthorUserID     *int64
	AuthorCustomerID *int64
	Body             string
	Event            string
	EventData        JSONMap `gorm:"type:jsonb"`
	IdempotencyKey   *string
	// LinkURL is a link sent with a reply (a canned reply's scripted URL,
	// ValidateLinkURL): the widget shows it as a card.
	LinkURL string
	// LinkPushed marks a pushed URL (PushURL): the widget shows LinkURL as
	// a prominent card with an Open button. LinkOpenedAt is when the
	// customer first opened it (OpenPushedURL).
	LinkPushed   bool
	LinkOpenedAt *time.Time
	// ArticleSent marks a reply that carries a knowledge-base article
	// (SendArticle); ArticleID is that article while it exists, and Article
	// what its card shows now (loadArticles; nil once deleted).
	ArticleSent bool
	ArticleID   *int64
	Article     *ArticleRef `gorm:"-"`
	// HasFiles marks a message sent with files (attachFiles); loadFiles
	// looks up files for those messages only.
	HasFiles bool
	// AuthorHidden: the author wrote as a hidden participant
	// (participant.go); customers see the desk's name (CustomerAuthorName).
	AuthorHidden bool
	CreatedAt    time.Time
	// EditedAt is set when staff changed the body (EditMessage); the thread
	// says "edited". DeletedAt is set when staff deleted the message
	// (DeleteMessage): the row stays with an empty body, shown as "message
	// deleted". What it said before is in message_revisions, for admins.
	EditedAt  *time.Time
	DeletedAt *time.Time

	// Replayed is set on a message returned again for a retried post (same
	// author and idempotency key): nothing new was stored.
	Replayed bool `gorm:"-"`
	// Recipients are who a private message is for (MessagePrivate), by
	// name: loaded with every list of messages (loadRecipients), and what
	// Message.VisibleToUser decides by.
	Recipients []User `gorm:"-"`
	// Files are the files the message carries (file.go: loadFiles, with
	// every list of messages), removed ones included.
	Files []File `gorm:"-"`

	AuthorUser     *User     `gorm:"foreignKey:AuthorUserID"`
	AuthorCustomer *Customer `gorm:"foreignKey:AuthorCustomerID"`
}

// Actor is who performs an operation: a staff user or a customer (exactly
// one). Operations check what the actor may do.
type Actor struct {
	User     *User
	Customer *Customer
}

// SessionInfo describes the visitor's browser when a conversation starts.
type SessionInfo struct {
	PageURL, Referrer, UserAgent, Browser, OS, Language, Timezone string
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// preview is the first line-ish of a body for inbox rows.
func preview(body string) string {
	p := strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(p) > 140 {
		p = string([]rune(p)[:139]) + "…"
	}
	return p
}

// isEmptyBody reports whether err is validateBody's "empty" (a message
// with files may have no text).
func isEmptyBody(err error) bool {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	fe, ok := ve.Field("body")
	return ok && fe.Code == "message_empty"
}

// validateBody trims a message and checks its length.
func validateBody(body string) (string, error) {
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	switch n := utf8.RuneCountInString(body); {
	case n == 0:
		return "", Invalid("body", "message_empty", nil)
	case n > MaxMessageLen:
		return "", Invalid("body", "message_too_long", map[string]any{"Max": MaxMessageLen, "Count": n})
	}
	return body, nil
}

// PostOpts are the optional parts of a post.
type PostOpts struct {
	// IdempotencyKey is generated by the client for one composed message and
	// sent again with every retry of it (ValidIdempotencyKey): a post whose
	// commit was never acknowledged finds the message it stored, per author,
	// instead of storing a second one. Empty: no deduplication.
	IdempotencyKey string
	// LinkURL is a link sent with a staff reply (not a note), shown to the
	// customer as a card; http or https only (ValidateLinkURL).
	LinkURL string
	// To are the recipients of a private message (MessagePrivate): one or
	// more teammates in the conversation (ConversationTeammates), the
	// author aside. Required for a private message, refused for any other.
	To []int64
	// Files are the public ids of the author's pending uploads in the
	// conversation to send with the message (at most the desk's files per
	// message); a message with files may have no text.
	Files []string
	// Locked says the caller read conv FOR UPDATE in this transaction
	// (LockConversationForUser, LockConversationForVisitor): the post uses
	// that row instead of locking and reading it again.
	Locked bool
}

// ValidIdempotencyKey reports whether k can be an idempotency key: 8 to 100
// ASCII letters, digits, '-' or '_' (a UUID or any random token).
func ValidIdempotencyKey(k string) bool {
	if len(k) < 8 || len(k) > 100 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (o PostOpts) validate() error {
	if o.IdempotencyKey != "" && !ValidIdempotencyKey(o.IdempotencyKey) {
		return Invalid("idempotency_key", "idempotency_key_invalid", nil)
	}
	return nil
}

// keyedMessage returns the message actor already stored under key, or nil.
// Callers hold a lock that serialises the actor's posts with that key (the
// conversation's, or the customer's for a new conversation), so a retry
// racing its original waits for it and then finds it.
func keyedMessage(tx *gorm.DB, actor Actor, key string) (*Message, error) {
	if key == "" {
		return nil, nil
	}
	q := tx.Where("idempotency_key = ?", key)
	if actor.User != nil {
		q = q.Where("author_user_id = ?", actor.User.ID)
	} else {
		q = q.Where("author_customer_id = ?", actor.Customer.ID)
	}
	var m Message
	err := q.Omit(clause.Associations).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m.AuthorUser, m.AuthorCustomer, m.Replayed = actor.User, actor.Customer, true
	return &m, nil
}

// StartCustomerConversation opens a conversation for customer with its first
// message, recording the browser's session details.
func StartCustomerConversation(ctx context.Context, t Tx, customer *Customer, body string, s SessionInfo) (*Conversation, *Message, error) {
	return startCustomerConversation(ctx, t, customer, body, s, "")
}

func startCustomerConversation(ctx context.Context, t Tx, customer *Customer, body string, s SessionInfo, key string) (*Conversation, *Message, error) {
	body, err := validateBody(body)
	if err != nil {
		return nil, nil, err
	}
	var conv *Conversation
	var msg *Message
	err = t.run(ctx, func(tx *gorm.DB) error {
		conv = &Conversation{
			Kind: KindCustomer, Status: StatusOpen, CustomerID: &customer.ID, Channel: "widget",
			PageURL: clip(s.PageURL, 2000), Referrer: clip(s.Referrer, 2000), UserAgent: clip(s.UserAgent, 500),
			Browser: clip(s.Browser, 100), OS: clip(s.OS, 100), Language: clip(s.Language, 35), Timezone: clip(s.Timezone, 64),
		}
		if err := tx.Omit(clause.Associations).Select("Kind", "Status", "CustomerID", "Channel", "PageURL", "Referrer", "UserAgent", "Browser", "OS", "Language", "Timezone").Create(conv).Error; err != nil {
			return err
		}
		if err := tx.Raw("SELECT public_id::text FROM conversations WHERE id = ?", conv.ID).Scan(&conv.PublicID).Error; err != nil {
			return err
		}
		if err := appendEvent(t, Event{ConversationID: &conv.ID, Data: ConversationEvent{Created: true}}); err != nil {
			return err
		}
		var err error
		if msg, err = insertMessage(t, conv, Actor{Customer: customer}, MessageText, body, key, ""); err != nil {
			return err
		}
		// The team's queue, by the routing rules (routing.go).
		return routeNewConversation(ctx, t, conv)
	})
	if err != nil {
		return nil, nil, wrapUnlessDomain(err, "start conversation")
	}
	conv.Customer = customer
	return conv, msg, nil
}

// StartInternalConversation opens a teammates-only conversation between
// creator and members, with a first message.
func StartInternalConversation(ctx context.Context, t Tx, creator *User, memberIDs []int64, body string) (*Conversation, *Message, error) {
	v := &ValidationError{}
	members := map[int64]bool{}
	for _, id := range memberIDs {
		if id != creator.ID {
			members[id] = true
		}
	}
	if len(members) == 0 {
		v.Add("members", "members_required", nil)
	}
	body, err := validateBody(body)
	if err != nil {
		var bv *ValidationError
		errors.As(err, &bv)
		v.Errors = append(v.Errors, bv.Errors...)
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	ids := []int64{creator.ID}
	for id := range members {
		ids = append(ids, id)
	}
	var conv *Conversation
	var msg *Message
	err = t.run(ctx, func(tx *gorm.DB) error {
		var active int64
		if err := tx.Model(&User{}).Where("id IN ? AND active", ids).Count(&active).Error; err != nil {
			return err
		}
		if int(active) != len(ids) {
			return Invalid("members", "user_unknown", nil)
		}
		conv = &Conversation{Kind: KindInternal, Status: StatusOpen, CreatedBy: &creator.ID, Channel: "internal"}
		if err := tx.Omit(clause.Associations).Select("Kind", "Status", "CreatedBy", "Channel").Create(conv).Error; err != nil {
			return err
		}
		if err := tx.Raw("SELECT public_id::text FROM conversations WHERE id = ?", conv.ID).Scan(&conv.PublicID).Error; err != nil {
			return err
		}
		for _, id := range ids {
			if err := tx.Exec("INSERT INTO conversation_users (conversation_id, user_id, member) VALUES (?, ?, true)", conv.ID, id).Error; err != nil {
				return err
			}
		}
		if err := appendEvent(t, Event{ConversationID: &conv.ID, Data: ConversationEvent{Created: true}}); err != nil {
			return err
		}
		var err error
		msg, err = insertMessage(t, conv, Actor{User: creator}, MessageText, body, "", "")
		return err
	})
	if err != nil {
		return nil, nil, wrapUnlessDomain(err, "start internal conversation")
	}
	return conv, msg, nil
}

// PostMessage adds a message (or, for staff, an internal note) to conv. A
// customer writing in a closed conversation reopens it, with a status line
// saying so before their message.
func PostMessage(ctx context.Context, t Tx, actor Actor, conv *Conversation, kind, body string) (*Message, error) {
	return PostMessageWithOpts(ctx, t, actor, conv, kind, body, PostOpts{})
}

// PostMessageWithOpts is PostMessage with options. With an idempotency key
// the actor already used in conv, it stores and changes nothing and returns
// that message (Replayed); the same key on another conversation is a
// ValidationError.
func PostMessageWithOpts(ctx context.Context, t Tx, actor Actor, conv *Conversation, kind, body string, opts PostOpts) (*Message, error) {
	body, err := validateBody(body)
	if err != nil && !(len(opts.Files) > 0 && isEmptyBody(err)) {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.LinkURL, err = ValidateLinkURL("link_url", opts.LinkURL); err != nil {
		return nil, err
	}
	switch {
	case opts.LinkURL != "" && (kind != MessageText || actor.User == nil):
		return nil, Invalid("link_url", "link_url_reply_only", nil)
	case kind != MessageText && kind != MessageNote && kind != MessagePrivate:
		return nil, Invalid("kind", "kind_invalid", nil)
	case (kind == MessageNote || kind == MessagePrivate) && (actor.User == nil || conv.Kind != KindCustomer):
		return nil, Invalid("kind", "kind_invalid", nil)
	case kind != MessagePrivate && len(opts.To) > 0:
		return nil, Invalid("to", "private_to_private_only", nil)
	case actor.Customer != nil && (conv.Kind != KindCustomer || conv.CustomerID == nil || *conv.CustomerID != actor.Customer.ID):
		return nil, ErrNotFound
	case actor.User == nil && actor.Customer == nil:
		return nil, errors.New("post message: no author")
	}
	var msg *Message
	err = t.run(ctx, func(tx *gorm.DB) error {
		// Lock the conversation: concurrent posts keep last_message_* and the
		// reopen rule consistent.
		if !opts.Locked {
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(conv, conv.ID).Error; err != nil {
				return err
			}
		}
		// A retry of a post that committed is answered with what it stored.
		// Where the post changes something before its message (a reopening,
		// files taken from pending), the key is looked up first; otherwise
		// the insert itself finds it taken (errKeyTaken), which saves every
		// first post a round trip.
		replay := func() error {
			prior, err := keyedMessage(tx, actor, opts.IdempotencyKey)
			switch {
			case err != nil || prior == nil:
				return err
			case prior.ConversationID != conv.ID:
				return Invalid("idempotency_key", "idempotency_key_invalid", nil)
			}
			msg = prior
			return nil
		}
		reopens := actor.Customer != nil && conv.Status == StatusClosed
		if opts.IdempotencyKey != "" && (reopens || len(opts.Files) > 0) {
			if err := replay(); err != nil || msg != nil {
				return err
			}
		}
		if reopens {
			if err := setStatus(t, conv, Actor{Customer: actor.Customer}, StatusOpen, SysReopenedByCustomer); err != nil {
				return err
			}
		}
		var to []User
		if kind == MessagePrivate {
			if to, err = privateRecipients(ctx, tx, conv, actor.User, opts.To); err != nil {
				return err
			}
		}
		files, err := lockPendingFiles(tx, actor, conv, opts.Files)
		if err != nil {
			return err
		}
		msg, err = insertMessageWithFiles(t, conv, actor, kind, body, opts.IdempotencyKey, opts.LinkURL, len(files) > 0)
		if errors.Is(err, errKeyTaken) {
			if err := replay(); err != nil || msg != nil {
				return err
			}
			return errors.New("post message: its idempotency key is taken, yet no message of its author has it")
		}
		if err != nil {
			return err
		}
		if err := attachFiles(tx, conv, msg, files); err != nil {
			return err
		}
		if kind != MessagePrivate {
			return nil
		}
		return addRecipients(tx, msg, to)
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "post message in conversation %d", conv.ID)
	}
	return msg, nil
}

// insertMessage stores a message, moves the conversation's activity markers
// and announces it, in one statement (this is the hot path of every chat):
// the message row, the conversation's last message, preview and waiting
// time, the author's participation and read marker (staff), and the event.
// tx must hold the conversation (created or locked). Its callers with a key
// looked it up first: a key taken at insert is the same key, at the same
// moment, in another conversation (the conversation lock serializes retries
// within one), a client bug or a hostile one.
func insertMessage(t Tx, conv *Conversation, actor Actor, kind, body, key, link string) (*Message, error) {
	m, err := insertMessageWithFiles(t, conv, actor, kind, body, key, link, false)
	if errors.Is(err, errKeyTaken) {
		return nil, Invalid("idempotency_key", "idempotency_key_invalid", nil)
	}
	return m, err
}

// errKeyTaken is insertMessageWithFiles finding its idempotency key used:
// it stored nothing.
var errKeyTaken = errors.New("idempotency key taken")

// insertMessageWithFiles is insertMessage for a message that may carry files
// (attachFiles: it may have no text, messages.has_files), and a key the
// author already used is errKeyTaken (the insert skips it, ON CONFLICT DO
// NOTHING).
func insertMessageWithFiles(t Tx, conv *Conversation, actor Actor, kind, body, key, link string, hasFiles bool) (*Message, error) {
	tx := t.db
	m := &Message{ConversationID: conv.ID, Kind: kind, Body: body, EventData: JSONMap{}, LinkURL: link, HasFiles: hasFiles}
	if key != "" {
		m.IdempotencyKey = &key
	}
	var userID, customerID *int64
	if actor.User != nil {
		m.AuthorType, m.AuthorUserID, m.AuthorUser = AuthorAgent, &actor.User.ID, actor.User
		userID = &actor.User.ID
	} else {
		m.AuthorType, m.AuthorCustomerID, m.AuthorCustomer = AuthorCustomer, &actor.Customer.ID, actor.Customer
		customerID = &actor.Customer.ID
	}
	var row struct {
		ID              int64
		CreatedAt       time.Time
		WaitingSince    *time.Time
		FirstResponseAt *time.Time
		AuthorHidden    bool
		// The message's event, as the transaction reports it (txEvents).
		EventID        int64
		EventXID       uint64 `gorm:"column:event_xid"`
		EventCreatedAt time.Time
	}
	err := tx.Raw(`
		WITH m AS (
			INSERT INTO messages (conversation_id, kind, author_type, author_user_id, author_customer_id, body, idempotency_key, link_url, has_files, author_hidden)
			VALUES (@conv, @kind, @author_type, @user_id, @customer_id, @body, NULLIF(@key, ''), @link, @has_files,
				-- A hidden participant writes under the desk's name (participant.go).
				`+hiddenAuthorSQL+`)
			-- The author's idempotency keys are unique (the messages' only
			-- unique indexes but the primary key): a used one stores nothing.
			ON CONFLICT DO NOTHING
			RETURNING id, created_at, author_hidden
		), c AS (
			UPDATE conversations SET
				-- A private message is not every agent's news: it moves only
				-- its recipients' markers (addRecipients).
				last_message_id = CASE WHEN @private THEN last_message_id ELSE m.id END,
				updated_at = now(),
				last_message_at = CASE WHEN @text THEN m.created_at ELSE last_message_at END,
				last_message_preview = CASE WHEN @text THEN @preview ELSE last_message_preview END,
				waiting_since = CASE
					WHEN NOT @text THEN waiting_since
					WHEN @by_customer THEN COALESCE(waiting_since, m.created_at)
					ELSE NULL END,
				-- The first reply that answers a waiting customer ends the
				-- first-response clock (sla.go).
				first_response_at = CASE
					WHEN @text AND NOT @by_customer AND waiting_since IS NOT NULL THEN COALESCE(first_response_at, m.created_at)
					ELSE first_response_at END
			FROM m WHERE conversations.id = @conv
			RETURNING conversations.waiting_since, conversations.first_response_at
		), p AS (
			-- Writing puts a conversation in the writer's "My conversations"
			-- and marks it read up to their own message.
			INSERT INTO conversation_users (conversation_id, user_id, participated, last_read_message_id)
			SELECT @conv, @user_id, true, m.id FROM m WHERE CAST(@user_id AS bigint) IS NOT NULL
			ON CONFLICT (conversation_id, user_id) DO UPDATE
			  SET participated = true,
			      last_read_message_id = GREATEST(conversation_users.last_read_message_id, EXCLUDED.last_read_message_id)
		), e AS (
			INSERT INTO events (kind, conversation_id, message_id) SELECT @event, @conv, m.id FROM m
			RETURNING id, xid::text::bigint AS xid, created_at
		)
		SELECT m.id, m.created_at, m.author_hidden, c.waiting_since, c.first_response_at,
		       e.id AS event_id, e.xid AS event_xid, e.created_at AS event_created_at
		FROM m, c, e`,
		map[string]any{
			"conv": conv.ID, "kind": kind, "author_type": m.AuthorType, "user_id": userID, "customer_id": customerID,
			"body": body, "text": kind == MessageText, "preview": preview(body), "by_customer": actor.Customer != nil,
			"event": EventMessage, "key": key, "link": link, "private": kind == MessagePrivate, "has_files": hasFiles,
		}).Scan(&row).Error
	if err != nil {
		return nil, err
	}
	if row.ID == 0 {
		if key != "" {
			return nil, errKeyTaken
		}
		return nil, fmt.Errorf("insert message: conversation %d not found", conv.ID)
	}
	m.ID, m.CreatedAt, m.AuthorHidden = row.ID, row.CreatedAt, row.AuthorHidden
	t.reported(Event{ID: row.EventID, XID: row.EventXID, Kind: EventMessage, ConversationID: &conv.ID, MessageID: &m.ID,
		Data: MessageEvent{}, CreatedAt: row.EventCreatedAt})
	if kind != MessagePrivate {
		conv.LastMessageID = m.ID
	}
	if kind == MessageText {
		conv.LastMessageAt, conv.LastMessagePreview, conv.WaitingSince = m.CreatedAt, preview(body), row.WaitingSince
		conv.FirstResponseAt = row.FirstResponseAt
	}
	return m, nil
}

// insertSystemLine adds a status line to the thread.
func insertSystemLine(t Tx, conv *Conversation, event string, data JSONMap) (*Message, error) {
	tx := t.db
	m := &Message{ConversationID: conv.ID, Kind: MessageSystem, AuthorType: AuthorSystem, Event: event, EventData: data}
	if err := tx.Omit(clause.Associations).Select("ConversationID", "Kind", "AuthorType", "Event", "EventData").Create(m).Error; err != nil {
		return nil, err
	}
	if err := appendEvent(t, Event{ConversationID: &conv.ID, MessageID: &m.ID, Data: MessageEvent{}}); err != nil {
		return nil, err
	}
	return m, nil
}

func actorName(a Actor) string {
	if a.User != nil {
		return a.User.Name
	}
	return a.Customer.DisplayName()
}

// setStatus changes conv's state inside tx with a status line.
func setStatus(t Tx, conv *Conversation, actor Actor, status, event string) error {
	tx := t.db
	updates := map[string]any{"status": status, "updated_at": gorm.Expr("now()")}
	if status == StatusClosed {
		updates["closed_at"] = gorm.Expr("now()")
	} else {
		updates["closed_at"] = nil
	}
	if err := tx.Model(&Conversation{}).Where("id = ?", conv.ID).Updates(updates).Error; err != nil {
		return err
	}
	conv.Status = status
	data := JSONMap{"by": actorName(actor)}
	if actor.User != nil {
		// The customer sees this line: a hidden participant is the desk.
		var hidden bool
		if err := tx.Raw(`SELECT `+hiddenAuthorSQL, map[string]any{"conv": conv.ID, "user_id": actor.User.ID}).Scan(&hidden).Error; err != nil {
			return err
		}
		if hidden {
			data["by_hidden"] = true
		}
	}
	if _, err := insertSystemLine(t, conv, event, data); err != nil {
		return err
	}
	return appendEvent(t, Event{ConversationID: &conv.ID, Data: ConversationEvent{Status: status}})
}

// SetStatus opens or closes a conversation on a staff user's behalf. Setting
// the current state again changes nothing.
func SetStatus(ctx context.Context, t Tx, user *User, conv *Conversation, status string) error {
	if status != StatusOpen && status != StatusClosed {
		return Invalid("status", "status_invalid", nil)
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(conv, conv.ID).Error; err != nil {
			return err
		}
		if conv.Status == status {
			return nil
		}
		event := SysClosed
		if status == StatusOpen {
			event = SysReopened
		}
		if err := setStatus(t, conv, Actor{User: user}, status, event); err != nil {
			return err
		}
		if status == StatusClosed && conv.AssigneeID != nil {
			// The assignee has room for one more: their teams' queues
			// may go on (team_queue.go).
			return drainTeamQueues(ctx, t, *conv.AssigneeID)
		}
		return nil
	})
	return wrapUnlessDomain(err, "set status of conversation %d", conv.ID)
}

// Assign gives a customer conversation to an agent with the customer-support
// flag (assigneeID nil unassigns), with a status line for the team.
func Assign(ctx context.Context, t Tx, user *User, conv *Conversation, assigneeID *int64) error {
	if conv.Kind != KindCustomer {
		return Invalid("assignee_id", "assignee_invalid", nil)
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		var assignee *User
		if assigneeID != nil {
			var u User
			err := tx.Where("id = ? AND "+supportAgentSQL("users"), *assigneeID).Take(&u).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return Invalid("assignee_id", "assignee_invalid", nil)
			}
			if err != nil {
				return err
			}
			assignee = &u
		}
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(conv, conv.ID).Error; err != nil {
			return err
		}
		if (conv.AssigneeID == nil && assigneeID == nil) || (conv.AssigneeID != nil && assigneeID != nil && *conv.AssigneeID == *assigneeID) {
			return nil
		}
		if err := tx.Model(&Conversation{}).Where("id = ?", conv.ID).Updates(map[string]any{"assignee_id": assigneeID, "updated_at": gorm.Expr("now()")}).Error; err != nil {
			return err
		}
		conv.AssigneeID, conv.Assignee = assigneeID, assignee
		data := JSONMap{"by": user.Name}
		event := SysUnassigned
		if assignee != nil {
			event, data["to"] = SysAssigned, assignee.Name
		}
		if _, err := insertSystemLine(t, conv, event, data); err != nil {
			return err
		}
		// Who assigned and to whom: the assignee is told (models.Audience),
		// unless they assigned it to themselves.
		ev := ConversationEvent{Assigned: true, ByUserID: user.ID, AssigneeID: assigneeID}
		return appendEvent(t, Event{ConversationID: &conv.ID, Data: ev})
	})
	return wrapUnlessDomain(err, "assign conversation %d", conv.ID)
}

// ReadUpToDate reports whether MarkRead would change nothing for user in
// conv: their read marker is at its newest message (and the newest private
// message to them) and no notification about it is unread. Opening a
// conversation asks it first, so reading one already read writes nothing.
func ReadUpToDate(ctx context.Context, db *gorm.DB, user *User, conv *Conversation) (bool, error) {
	var ok []bool
	err := db.WithContext(ctx).Raw(`SELECT `+viewerReadSQL+` FROM conversations c
		LEFT JOIN conversation_users r ON r.conversation_id = c.id AND r.user_id = @me
		WHERE c.id = @c`,
		map[string]any{"me": user.ID, "c": conv.ID}).Scan(&ok).Error
	if err != nil {
		return false, fmt.Errorf("read up to date: %w", err)
	}
	return len(ok) == 1 && ok[0], nil
}

// holdConversationKey takes the conversation's key lock (what the event it
// will record takes anyway) before a write to one of its conversation_users
// rows. A post locks the conversation (FOR UPDATE) and then moves every
// reader's marker in those rows (the conversations_last_message_to_users
// trigger); a write that held a reader's row while it waited for the
// conversation deadlocked with a message posted at that moment. Taken first,
// the lock makes such a write wait for the post instead.
func holdConversationKey(tx *gorm.DB, convID int64) error {
	return tx.Exec("SELECT 1 FROM conversations WHERE id = ? FOR KEY SHARE", convID).Error
}

// MarkRead records that user has read conv up to its newest message, and
// reads their notifications about it; their other tabs hear of it to clear
// the unread marks and the bell.
func MarkRead(ctx context.Context, t Tx, user *User, conv *Conversation) error {
	return t.run(ctx, func(tx *gorm.DB) error {
		if err := holdConversationKey(tx, conv.ID); err != nil {
			return fmt.Errorf("mark read: %w", err)
		}
		notes, err := readConversationNotifications(tx, user.ID, conv.ID)
		if err != nil {
			return fmt.Errorf("mark read: %w", err)
		}
		// Up to the newest message, and the newest private message to them
		// (which does not move last_message_id).
		res := tx.Exec(`
			INSERT INTO conversation_users (conversation_id, user_id, last_read_message_id)
			SELECT c.id, @u, GREATEST(c.last_message_id, COALESCE(p.last_private_message_id, 0))
			FROM conversations c LEFT JOIN conversation_users p ON p.conversation_id = c.id AND p.user_id = @u
			WHERE c.id = @c
			ON CONFLICT (conversation_id, user_id) DO UPDATE
			  SET last_read_message_id = EXCLUDED.last_read_message_id
			  WHERE conversation_users.last_read_message_id < EXCLUDED.last_read_message_id`,
			map[string]any{"u": user.ID, "c": conv.ID})
		if res.Error != nil {
			return fmt.Errorf("mark read: %w", res.Error)
		}
		if res.RowsAffected == 0 && notes == 0 {
			return nil
		}
		return appendEvent(t, Event{ConversationID: &conv.ID, UserID: &user.ID, Data: ReadEvent{}})
	})
}
