package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ContextLimit is how many of a customer's other conversations, and of their
// tickets and tasks, the context panel lists (newest first); "more" says
// there are others.
const ContextLimit = 10

// Limits of the fields staff edit on a customer (the columns' CHECKs).
const (
	CustomerNameMax  = 100
	CustomerNotesMax = 5000
	// Phone numbers are E.164-ish: up to 15 digits (ITU-T E.164), at least 6.
	phoneMinDigits = 6
	phoneMaxDigits = 15
)

// CustomerChange is one staff edit of one field of a customer: the audit
// the context panel shows under the fields.
type CustomerChange struct {
	ID         int64
	CustomerID int64
	ActorID    *int64
	ActorName  string
	Field      string
	OldValue   string
	NewValue   string
	CreatedAt  time.Time
}

// CustomerContext is what the panel beside a customer conversation shows:
// the customer, their other conversations, the tickets and tasks about them,
// and the history of staff edits. Only for CanSeeCustomerData.
type CustomerContext struct {
	Customer          *Customer
	Conversations     []Conversation // the customer's others, newest activity first
	MoreConversations bool
	Items             []Item // tickets they requested, items of their conversations
	MoreItems         bool
	Changes           []CustomerChange // newest first
	MoreChanges       bool
}

// LoadCustomerContext reads the context of conv's customer for u. A viewer
// without customer data rights, or a conversation without a customer, gets
// ErrNotFound: the panel does not exist for them.
func LoadCustomerContext(ctx context.Context, db *gorm.DB, u *User, conv *Conversation) (*CustomerContext, error) {
	return loadCustomerContext(ctx, db, u, conv, false)
}

func loadCustomerContext(ctx context.Context, db *gorm.DB, u *User, conv *Conversation, joined bool) (*CustomerContext, error) {
	if !hasCustomerContext(u, conv) {
		return nil, ErrNotFound
	}
	c := conv.Customer
	if !joined || c == nil || c.ID != *conv.CustomerID {
		c = &Customer{}
		if err := db.WithContext(ctx).Take(c, *conv.CustomerID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil, ErrNotFound
			}
			return nil, fmt.Errorf("customer context: %w", err)
		}
	}
	cc, reads, done := customerContextReads(u, conv, c)
	if err := pipelined(ctx, db, reads...); err != nil {
		return nil, fmt.Errorf("customer context: %w", err)
	}
	done()
	return cc, nil
}

// hasCustomerContext reports whether u gets the context panel of conv.
func hasCustomerContext(u *User, conv *Conversation) bool {
	return CanSeeCustomerData(u) && conv != nil && conv.Kind == KindCustomer && conv.CustomerID != nil
}

// customerContextReads are the statements of the context panel of conv,
// whose customer is c, and done, which trims the lists they read once they
// are in.
func customerContextReads(u *User, conv *Conversation, c *Customer) (cc *CustomerContext, reads []pipelinedRead, done func()) {
	cc = &CustomerContext{Customer: c}
	// The customer's other conversations by conversations_customer_idx
	// (customer_id, last_message_at DESC); their items as a union of two
	// index lookups (items_requester_idx, and the customer's conversations:
	// an OR of them scans every item).
	reads = []pipelinedRead{
		readInto(&cc.Conversations, `SELECT * FROM conversations WHERE customer_id = $1 AND id <> $2 AND kind = $3
			ORDER BY last_message_at DESC, id DESC `+limitSQL(ContextLimit+1), c.ID, conv.ID, KindCustomer),
		readNamed(&cc.Items, `
			SELECT i.* FROM items i
			WHERE i.id IN (SELECT id FROM items WHERE requester_id = @c
			               UNION SELECT l.item_id FROM conversation_items l JOIN conversations lc ON lc.id = l.conversation_id
			                     WHERE lc.customer_id = @c)
			  AND `+userSeesItemSQL("i")+`
			ORDER BY i.updated_at DESC, i.id DESC `+limitSQL(ContextLimit+1), map[string]any{"c": c.ID, "support": CanSeeCustomerData(u)}),
		readInto(&cc.Changes, `SELECT * FROM customer_changes WHERE customer_id = $1 ORDER BY id DESC `+limitSQL(ContextLimit+1), c.ID),
	}
	return cc, reads, func() {
		cc.Conversations, cc.MoreConversations = cut(cc.Conversations)
		cc.Items, cc.MoreItems = cut(cc.Items)
		cc.Changes, cc.MoreChanges = cut(cc.Changes)
	}
}

// cut trims a list read with one row to spare to ContextLimit and says
// whether there was more.
func cut[T any](rows []T) ([]T, bool) {
	if len(rows) > ContextLimit {
		return rows[:ContextLimit], true
	}
	return rows, false
}

// CustomerEdit is what staff submit for a customer: every field, as typed.
type CustomerEdit struct {
	Name, Email, Phone, Notes string
}

// NormalizeCustomerPhone reduces a phone number as typed to its E.164-ish form: the
// separators people type (spaces, dots, dashes, slashes, parentheses) go, a
// leading 00 becomes +, and what is left must be an optional + and 6 to 15
// digits. ok is false otherwise; an empty number is fine (no phone). It is
// lenient on purpose, unlike NormalizePhone (an SMS must reach a valid
// number): staff note what the customer gave, national form included.
func NormalizeCustomerPhone(raw string) (phone string, ok bool) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", true
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '/' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", false
		}
	}
	phone = b.String()
	if strings.HasPrefix(phone, "00") {
		phone = "+" + phone[2:]
	}
	digits := len(strings.TrimPrefix(phone, "+"))
	if digits < phoneMinDigits || digits > phoneMaxDigits {
		return "", false
	}
	return phone, true
}

// validate checks and normalises an edit (trimmed name, lower-case email,
// NormalizeCustomerPhone); nothing is stored when it fails.
func (in *CustomerEdit) validate() error {
	v := &ValidationError{}
	in.Name = strings.TrimSpace(in.Name)
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	in.Notes = strings.TrimSpace(strings.ReplaceAll(in.Notes, "\r\n", "\n"))
	if len([]rune(in.Name)) > CustomerNameMax {
		v.Add("name", "name_too_long", map[string]any{"Max": CustomerNameMax})
	}
	if in.Email != "" {
		validateEmail(v, "email", in.Email)
	}
	phone, ok := NormalizeCustomerPhone(in.Phone)
	if !ok {
		v.Add("phone", "customer_phone_invalid", nil)
	}
	in.Phone = phone
	if len([]rune(in.Notes)) > CustomerNotesMax {
		v.Add("notes", "notes_too_long", map[string]any{"Max": CustomerNotesMax})
	}
	return v.Err()
}

// UpdateCustomer applies a staff edit of a customer's name, email, phone and
// notes (CustomerEdit: every field, empty clears it) and records one
// customer_changes row per field that changed, with who and when. Only
// CanSeeCustomerData may (ErrNotFound otherwise, as for the panel); a
// ValidationError stores nothing. It records no event: other desks see the
// edit when they next load the panel. A verified customer's name and email
// come from the host page's signed identity, which may set them again on
// the customer's next visit.
func UpdateCustomer(ctx context.Context, tx Tx, u *User, customerID int64, in CustomerEdit) (*Customer, error) {
	if !CanSeeCustomerData(u) || !u.Active {
		return nil, ErrNotFound
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	db := tx.DB().WithContext(ctx)
	var c Customer
	err := db.Raw("SELECT * FROM customers WHERE id = ? FOR UPDATE", customerID).Scan(&c).Error
	if err != nil {
		return nil, fmt.Errorf("update customer %d: %w", customerID, err)
	}
	if c.ID == 0 {
		return nil, ErrNotFound
	}
	var changes []CustomerChange
	for _, f := range []struct {
		field    string
		old, new string
	}{{"name", c.Name, in.Name}, {"email", c.Email, in.Email}, {"phone", c.Phone, in.Phone}, {"notes", c.Notes, in.Notes}} {
		if f.old != f.new {
			changes = append(changes, CustomerChange{CustomerID: c.ID, ActorID: &u.ID, ActorName: u.Name,
				Field: f.field, OldValue: f.old, NewValue: f.new})
		}
	}
	if len(changes) == 0 {
		return &c, nil
	}
	err = db.Raw(`UPDATE customers SET name = ?, email = ?, phone = ?, notes = ?, updated_at = now()
		WHERE id = ? RETURNING *`, in.Name, in.Email, in.Phone, in.Notes, c.ID).Scan(&c).Error
	if err != nil {
		return nil, fmt.Errorf("update customer %d: %w", customerID, err)
	}
	if err := db.Create(&changes).Error; err != nil {
		return nil, fmt.Errorf("customer changes %d: %w", customerID, err)
	}
	return &c, nil
}
