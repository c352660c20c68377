package models

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Email delivery modes for a staff user.
const (
	DeliveryOff       = "off"       // no email at all
	DeliveryImmediate = "immediate" // as soon as it happens
	DeliveryDigest    = "digest"    // after DigestMinutes, if still unread
)

// EmailPrefs are a staff user's email preferences: which reasons email them
// and how. A user with no stored row has DefaultEmailPrefs.
type EmailPrefs struct {
	UserID          int64 `gorm:"primaryKey;autoIncrement:false"`
	NewConversation bool
	Assigned        bool
	Message         bool
	Delivery        string
	DigestMinutes   int
	UpdatedAt       time.Time
}

// TableName maps EmailPrefs to its table.
func (EmailPrefs) TableName() string { return "user_email_prefs" }

// DefaultEmailPrefs: every reason, as a digest after 5 minutes, so an agent
// who is at the desk reads it in time and is not emailed at all.
func DefaultEmailPrefs(userID int64) EmailPrefs {
	return EmailPrefs{UserID: userID, NewConversation: true, Assigned: true, Message: true,
		Delivery: DeliveryDigest, DigestMinutes: 5}
}

// Wants reports whether reason emails the user.
func (p EmailPrefs) Wants(reason string) bool {
	if p.Delivery == DeliveryOff {
		return false
	}
	switch reason {
	case ReasonNewConversation:
		return p.NewConversation
	case ReasonAssigned, ReasonSLABreach:
		// A breach concerns what is assigned to me or my team: it follows
		// the assignment preference (no setting of its own yet).
		return p.Assigned
	case ReasonMessage:
		return p.Message
	}
	return false
}

// Delay is how long after an event its email waits (to be dropped if read).
func (p EmailPrefs) Delay() time.Duration {
	if p.Delivery == DeliveryDigest {
		return time.Duration(p.DigestMinutes) * time.Minute
	}
	return 0
}

// GetEmailPrefs returns the user's email preferences (the defaults when they
// never saved any).
func GetEmailPrefs(ctx context.Context, db *gorm.DB, userID int64) (EmailPrefs, error) {
	ps, err := emailPrefsOf(ctx, db, []int64{userID})
	if err != nil {
		return EmailPrefs{}, err
	}
	return ps[userID], nil
}

func emailPrefsOf(ctx context.Context, db *gorm.DB, userIDs []int64) (map[int64]EmailPrefs, error) {
	var rows []EmailPrefs
	if err := db.WithContext(ctx).Where("user_id IN ?", userIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load email preferences: %w", err)
	}
	out := make(map[int64]EmailPrefs, len(userIDs))
	for _, id := range userIDs {
		out[id] = DefaultEmailPrefs(id)
	}
	for _, r := range rows {
		out[r.UserID] = r
	}
	return out, nil
}

// EmailPrefsInput is what the account form submits.
type EmailPrefsInput struct {
	NewConversation, Assigned, Message bool
	Delivery                           string
	DigestMinutes                      string
}

// SaveEmailPrefs validates and stores the user's email preferences.
func SaveEmailPrefs(ctx context.Context, db *gorm.DB, userID int64, in EmailPrefsInput) (EmailPrefs, error) {
	p := EmailPrefs{UserID: userID, NewConversation: in.NewConversation, Assigned: in.Assigned, Message: in.Message,
		Delivery: in.Delivery, DigestMinutes: 5}
	v := &ValidationError{}
	switch in.Delivery {
	case DeliveryOff, DeliveryImmediate, DeliveryDigest:
	default:
		v.Add("delivery", "delivery_invalid", nil)
	}
	if s := strings.TrimSpace(in.DigestMinutes); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1440 {
			v.Add("digest_minutes", "digest_minutes_invalid", map[string]any{"Min": 1, "Max": 1440})
		} else {
			p.DigestMinutes = n
		}
	}
	if err := v.Err(); err != nil {
		return p, err
	}
	err := db.WithContext(ctx).Exec(`
		INSERT INTO user_email_prefs (user_id, new_conversation, assigned, message, delivery, digest_minutes)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET new_conversation = EXCLUDED.new_conversation,
		  assigned = EXCLUDED.assigned, message = EXCLUDED.message, delivery = EXCLUDED.delivery,
		  digest_minutes = EXCLUDED.digest_minutes, updated_at = now()`,
		userID, p.NewConversation, p.Assigned, p.Message, p.Delivery, p.DigestMinutes).Error
	if err != nil {
		return p, fmt.Errorf("save email preferences of user %d: %w", userID, err)
	}
	return p, nil
}

// AgentEmailDue is one staff user to email about an event, after Delay.
type AgentEmailDue struct {
	UserID int64
	Delay  time.Duration
}

// QueueAgentEmails records, for each user of the audience whose preferences
// ask for it, that they are to be emailed about event e, and returns who and
// when. Call it in the transaction that schedules the send jobs.
func QueueAgentEmails(ctx context.Context, tx *gorm.DB, e Event, a *Audience) ([]AgentEmailDue, error) {
	if a == nil || len(a.UserIDs) == 0 {
		return nil, nil
	}
	prefs, err := emailPrefsOf(ctx, tx, a.UserIDs)
	if err != nil {
		return nil, err
	}
	msgID := a.MessageID
	if msgID == 0 {
		// A new or assigned conversation counts as read once the user has
		// read it up to what it held at that moment.
		if err := tx.WithContext(ctx).Raw(`SELECT last_message_id FROM conversations WHERE id = ?`, a.ConversationID).Scan(&msgID).Error; err != nil {
			return nil, fmt.Errorf("queue agent emails: %w", err)
		}
	}
	var due []AgentEmailDue
	for _, id := range a.UserIDs {
		p := prefs[id]
		if !p.Wants(a.Reason) {
			continue
		}
		res := tx.WithContext(ctx).Exec(`
			INSERT INTO email_pending (user_id, event_id, reason, conversation_id, message_id)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, id, e.ID, a.Reason, a.ConversationID, msgID)
		if res.Error != nil {
			return nil, fmt.Errorf("queue agent email: %w", res.Error)
		}
		if res.RowsAffected > 0 {
			due = append(due, AgentEmailDue{UserID: id, Delay: p.Delay()})
		}
	}
	return due, nil
}

// DigestItem is one thing a staff user is emailed about.
type DigestItem struct {
	Reason   string
	EventID  int64
	Conv     *Conversation // with Customer
	Messages []Message     // the unread messages it is about (with authors)
}

// Title is how the email names the conversation.
func (d DigestItem) Title() string {
	if d.Conv.Kind == KindCustomer {
		return d.Conv.Customer.DisplayName()
	}
	return d.Conv.Subject
}

// TakeAgentDigest marks done everything user is still to be emailed about and
// returns what of it they have not read meanwhile, grouped by conversation
// in order. Call it in the transaction that records the sending: if sending
// fails, the rollback puts it all back for the retry. A concurrent call for
// the same user waits for this one and then finds nothing.
func TakeAgentDigest(ctx context.Context, tx *gorm.DB, user *User) ([]DigestItem, error) {
	var rows []struct {
		EventID        int64
		Reason         string
		ConversationID int64
		MessageID      int64
	}
	err := tx.WithContext(ctx).Raw(`
		UPDATE email_pending SET done_at = now() WHERE user_id = ? AND done_at IS NULL
		RETURNING event_id, reason, conversation_id, message_id`, user.ID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("take digest of user %d: %w", user.ID, err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].EventID < rows[j].EventID })
	if len(rows) == 0 || !user.Active {
		return nil, nil
	}
	var out []DigestItem
	byConv := map[int64]int{}
	for _, r := range rows {
		var unread struct {
			Unread   bool
			Assignee bool
		}
		// Unread, and still theirs to see (CanSeeConversation: support agents
		// only for customer conversations, members only for internal ones; an
		// assignment only while it still holds).
		err := tx.WithContext(ctx).Raw(`
			SELECT COALESCE(cu.last_read_message_id, 0) < @msg AS unread, c.assignee_id IS NOT DISTINCT FROM @user AS assignee
			FROM conversations c
			LEFT JOIN conversation_users cu ON cu.conversation_id = c.id AND cu.user_id = @user
			WHERE c.id = @conv AND `+userSeesConversationSQL("c"),
			map[string]any{"msg": r.MessageID, "user": user.ID, "conv": r.ConversationID, "me": user.ID, "support": CanSeeCustomerData(user)}).
			Scan(&unread).Error
		if err != nil {
			return nil, fmt.Errorf("take digest of user %d: %w", user.ID, err)
		}
		// A breach is news even to whoever read the customer's message: it
		// says that nobody answered it in time.
		if (!unread.Unread && r.Reason != ReasonSLABreach) || (r.Reason == ReasonAssigned && !unread.Assignee) {
			continue
		}
		i, seen := byConv[r.ConversationID]
		if !seen {
			var conv Conversation
			if err := tx.WithContext(ctx).Preload("Customer").Take(&conv, r.ConversationID).Error; err != nil {
				return nil, fmt.Errorf("take digest of user %d: %w", user.ID, err)
			}
			out = append(out, DigestItem{Reason: r.Reason, EventID: r.EventID, Conv: &conv})
			i = len(out) - 1
			byConv[r.ConversationID] = i
		}
		it := &out[i]
		// The strongest reason names the conversation's entry.
		if reasonRank(r.Reason) > reasonRank(it.Reason) {
			it.Reason = r.Reason
		}
		if r.Reason == ReasonMessage || r.Reason == ReasonNewConversation {
			var m Message
			// A message deleted since (DeleteMessage) is left out; an edited
			// one says what it says now.
			err := tx.WithContext(ctx).Preload("AuthorUser").Preload("AuthorCustomer").Where("deleted_at IS NULL").Take(&m, r.MessageID).Error
			if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
				return nil, fmt.Errorf("take digest of user %d: %w", user.ID, err)
			}
			if err == nil {
				if err := loadRecipients(ctx, tx, []*Message{&m}); err != nil {
					return nil, fmt.Errorf("take digest of user %d: %w", user.ID, err)
				}
			}
			// A private message only ever for its recipients (AudienceOf
			// queues no one else; this holds it whatever queued the row).
			if err == nil && m.VisibleToUser(user) {
				it.Messages = append(it.Messages, m)
			}
		}
	}
	return out, nil
}

func reasonRank(r string) int {
	switch r {
	case ReasonSLABreach:
		return 4
	case ReasonAssigned:
		return 3
	case ReasonNewConversation:
		return 2
	}
	return 1
}

// CustomerReplies is what a customer is emailed about one conversation: the
// agents' replies they have not read and were not yet emailed.
type CustomerReplies struct {
	Conv     *Conversation // with Customer
	Messages []Message     // with AuthorUser
}

// TakeCustomerReplies returns the agent replies in conv that its customer
// has neither read (in the widget) nor been emailed yet, and marks them
// emailed. Call it in the transaction that records the sending; a
// concurrent call for the same conversation waits and then finds nothing.
// It never locks the conversation row itself, so the desk never waits on
// an email being sent.
func TakeCustomerReplies(ctx context.Context, tx *gorm.DB, convID int64) (*CustomerReplies, error) {
	db := tx.WithContext(ctx)
	if err := db.Exec(`INSERT INTO customer_email_state (conversation_id) VALUES (?) ON CONFLICT DO NOTHING`, convID).Error; err != nil {
		return nil, fmt.Errorf("customer replies of conversation %d: %w", convID, err)
	}
	var emailed int64
	if err := db.Raw(`SELECT emailed_message_id FROM customer_email_state WHERE conversation_id = ? FOR UPDATE`, convID).Scan(&emailed).Error; err != nil {
		return nil, fmt.Errorf("customer replies of conversation %d: %w", convID, err)
	}
	var conv Conversation
	if err := db.Preload("Customer").Take(&conv, convID).Error; err != nil {
		return nil, fmt.Errorf("customer replies of conversation %d: %w", convID, err)
	}
	var read int64
	if err := db.Raw(`SELECT customer_last_read_message_id FROM conversations WHERE id = ?`, convID).Scan(&read).Error; err != nil {
		return nil, fmt.Errorf("customer replies of conversation %d: %w", convID, err)
	}
	out := &CustomerReplies{Conv: &conv}
	if conv.Kind != KindCustomer || conv.Customer == nil {
		return out, nil
	}
	err := db.Preload("AuthorUser").
		// Deleted replies (DeleteMessage) are never emailed; edited ones
		// with their current text.
		Where("conversation_id = ? AND kind = ? AND author_type = ? AND id > ? AND deleted_at IS NULL", convID, MessageText, AuthorAgent, max(emailed, read)).
		Order("id").Limit(20).Find(&out.Messages).Error
	if err != nil {
		return nil, fmt.Errorf("customer replies of conversation %d: %w", convID, err)
	}
	// A sent article carries its public page's address (kb.go).
	ptrs := make([]*Message, len(out.Messages))
	for i := range out.Messages {
		ptrs[i] = &out.Messages[i]
	}
	if err := loadArticles(ctx, db, ptrs); err != nil {
		return nil, err
	}
	if n := len(out.Messages); n > 0 {
		err := db.Exec(`UPDATE customer_email_state SET emailed_message_id = ?, updated_at = now() WHERE conversation_id = ?`,
			out.Messages[n-1].ID, convID).Error
		if err != nil {
			return nil, fmt.Errorf("customer replies of conversation %d: %w", convID, err)
		}
	}
	return out, nil
}

// MarkCustomerRead moves the customer's read marker of conv up to upTo (at
// most its newest message); it never moves back. It reports whether it
// moved.
func MarkCustomerRead(ctx context.Context, db *gorm.DB, conv *Conversation, upTo int64) (bool, error) {
	res := db.WithContext(ctx).Exec(`
		UPDATE conversations SET customer_last_read_message_id = LEAST(?, last_message_id)
		WHERE id = ? AND customer_last_read_message_id < LEAST(?, last_message_id)`, upTo, conv.ID, upTo)
	if res.Error != nil {
		return false, fmt.Errorf("mark conversation %d read by its customer: %w", conv.ID, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// PruneEmailRecords forgets deliveries and done digest items older than
// keep: long after any retry of the jobs that wrote them (River gives up
// within hours).
func PruneEmailRecords(ctx context.Context, db *gorm.DB, keep time.Duration) (int64, error) {
	cutoff := time.Now().Add(-keep)
	a := db.WithContext(ctx).Exec(`DELETE FROM email_deliveries WHERE sent_at < ?`, cutoff)
	if a.Error != nil {
		return 0, fmt.Errorf("prune email deliveries: %w", a.Error)
	}
	b := db.WithContext(ctx).Exec(`DELETE FROM email_pending WHERE done_at < ?`, cutoff)
	if b.Error != nil {
		return 0, fmt.Errorf("prune done email items: %w", b.Error)
	}
	return a.RowsAffected + b.RowsAffected, nil
}

// EmailDelivered reports whether the email with this idempotency key was
// already sent.
func EmailDelivered(ctx context.Context, tx *gorm.DB, key string) (bool, error) {
	var n int64
	if err := tx.WithContext(ctx).Raw(`SELECT count(*) FROM email_deliveries WHERE key = ?`, key).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("email delivery %q: %w", key, err)
	}
	return n > 0, nil
}

// RecordEmailDelivery records that the email with key was sent; in the same
// transaction as what consumed its content.
func RecordEmailDelivery(ctx context.Context, tx *gorm.DB, key, kind, recipient, messageID string, jobID int64) error {
	err := tx.WithContext(ctx).Exec(`
		INSERT INTO email_deliveries (key, kind, recipient, message_id, job_id) VALUES (?, ?, ?, ?, ?)`,
		key, kind, recipient, messageID, jobID).Error
	if err != nil {
		return fmt.Errorf("record email delivery %q: %w", key, err)
	}
	return nil
}

// ---- links that reopen a conversation from an email --------------------------------

// ChatLinkTTL is how long a link in a customer email works.
const ChatLinkTTL = 30 * 24 * time.Hour

// linkSecret returns the key signing chat links, creating it on first use.
func linkSecret(ctx context.Context, db *gorm.DB) ([]byte, error) {
	var row struct{ LinkSecret []byte }
	if err := db.WithContext(ctx).Raw(`SELECT link_secret FROM mail_secrets WHERE id = 1`).Scan(&row).Error; err != nil {
		return nil, fmt.Errorf("load link secret: %w", err)
	}
	if len(row.LinkSecret) >= 32 {
		return row.LinkSecret, nil
	}
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return nil, err
	}
	if err := db.WithContext(ctx).Exec(`INSERT INTO mail_secrets (id, link_secret) VALUES (1, ?) ON CONFLICT DO NOTHING`, s).Error; err != nil {
		return nil, fmt.Errorf("create link secret: %w", err)
	}
	return linkSecret(ctx, db)
}

// ChatLinkToken returns a token that opens conv for its customer until
// expires: "<public id>.<customer id>.<unix expiry>.<signature>", signed with
// HMAC-SHA256 under a server-only secret.
func ChatLinkToken(ctx context.Context, db *gorm.DB, conv *Conversation, expires time.Time) (string, error) {
	if conv.CustomerID == nil {
		return "", errors.New("chat link: not a customer conversation")
	}
	secret, err := linkSecret(ctx, db)
	if err != nil {
		return "", err
	}
	payload := conv.PublicID + "." + strconv.FormatInt(*conv.CustomerID, 10) + "." + strconv.FormatInt(expires.Unix(), 10)
	return payload + "." + signLink(secret, payload), nil
}

func signLink(secret []byte, payload string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("chat-link:" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// OpenChatLink checks a chat link token and returns its conversation (with
// Customer). A forged, altered or expired token, or a conversation that no
// longer belongs to that customer, is ErrNotFound.
func OpenChatLink(ctx context.Context, db *gorm.DB, token string, now time.Time) (*Conversation, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || len(token) > 200 {
		return nil, ErrNotFound
	}
	secret, err := linkSecret(ctx, db)
	if err != nil {
		return nil, err
	}
	payload := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(parts[3]), []byte(signLink(secret, payload))) {
		return nil, ErrNotFound
	}
	custID, err1 := strconv.ParseInt(parts[1], 10, 64)
	exp, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || now.Unix() > exp {
		return nil, ErrNotFound
	}
	conv, err := FindConversationForCustomer(ctx, db, custID, parts[0])
	if err != nil {
		return nil, err
	}
	if conv.Customer == nil {
		if err := db.WithContext(ctx).Take(&conv.Customer, custID).Error; err != nil {
			return nil, fmt.Errorf("chat link customer: %w", err)
		}
	}
	return conv, nil
}

// CreateVisitorFor starts a visitor (a browser) for an existing customer,
// scoped to conv: someone who proved they read the email about that one
// conversation sees and writes in it alone, never the customer's others.
func CreateVisitorFor(ctx context.Context, db *gorm.DB, customer *Customer, conv *Conversation) (string, *Visitor, error) {
	token := RandomToken(32)
	v := &Visitor{TokenHash: hashToken(token), CustomerID: customer.ID, ConversationID: &conv.ID, Customer: customer}
	if err := db.WithContext(ctx).Select("TokenHash", "CustomerID", "ConversationID").Create(v).Error; err != nil {
		return "", nil, fmt.Errorf("create visitor for customer %d: %w", customer.ID, err)
	}
	return token, v, nil
}

// RedeemChatLink opens a chat link in a new browser: it checks the token
// (ErrNotFound if forged, altered or expired) and starts a visitor for the
// conversation's customer, scoped to that conversation, returning the
// visitor's token and the conversation.
func RedeemChatLink(ctx context.Context, db *gorm.DB, token string, now time.Time) (string, *Conversation, error) {
	conv, err := OpenChatLink(ctx, db, token, now)
	if err != nil {
		return "", nil, err
	}
	vt, _, err := CreateVisitorFor(ctx, db, conv.Customer, conv)
	if err != nil {
		return "", nil, err
	}
	return vt, conv, nil
}
