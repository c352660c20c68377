package models

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// What a visitor may do from the widget. These wrap the conversation
// operations with the rules that only apply to customers writing through the
// widget: the desk may require a signed identity, and contact details typed
// into the widget only ever land on the visitor's own unverified customer.

// VisitorStart is what the widget's "new conversation" form sends.
type VisitorStart struct {
	Body    string
	Name    string // optional pre-chat name
	Email   string // optional pre-chat email (required while the desk is away: see EmailRequired)
	Session SessionInfo
	// IdempotencyKey identifies this first message across retries
	// (PostOpts): a retried start returns the conversation it opened.
	IdempotencyKey string
}

// MayWrite reports whether v may write to the desk under settings: when the
// desk requires signed identities, only verified customers may.
func (v *Visitor) MayWrite(settings *DeskSettings) bool {
	return !settings.RequireSignedIdentity || (v.Customer != nil && v.Customer.Verified)
}

// EmailRequired reports whether v must leave an email to start a
// conversation under settings: the desk is away, so the answer will come
// after the visitor has left, and an email is the only way it can reach an
// anonymous visitor who gave none yet. (Verified customers keep what the
// host page signed.)
func (v *Visitor) EmailRequired(settings *DeskSettings) bool {
	return !settings.Online && v.Customer != nil && !v.Customer.Verified && v.Customer.Email == ""
}

// AskEmail reports whether a thread should ask v for an email: the desk is
// offline and nobody knows how to reach them (EmailRequired). The stream
// asks it too, to re-render the prompt when the desk goes offline or comes
// back. A nil visitor (none yet) is asked nothing.
func (v *Visitor) AskEmail(settings *DeskSettings) bool {
	return v != nil && v.EmailRequired(settings)
}

// settingsForWrite reads the desk settings inside tx, the transaction of a
// widget write that decides by them (online or away, signed identities), and
// holds them (FOR SHARE) until it commits: switching the desk or editing the
// settings waits for the write, so the write decides by the settings as
// they are when it commits, never by what a page read before it began.
func settingsForWrite(tx *gorm.DB) (*DeskSettings, error) {
	var s []DeskSettings
	if err := pipelined(tx.Statement.Context, tx, settingsForWriteRead(&s)); err != nil {
		return nil, fmt.Errorf("load desk settings: %w", err)
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("load desk settings: %w", ErrNotFound)
	}
	return &s[0], nil
}

// settingsForWriteRead is settingsForWrite's statement.
func settingsForWriteRead(dst *[]DeskSettings) pipelinedRead {
	return readInto(dst, "SELECT * FROM desk_settings WHERE id = 1 FOR SHARE")
}

// settingsHeld is settingsForWrite inside t: the settings t already holds
// (read with the conversation the write locked: LockConversationForVisitor),
// or read and held now.
func (t Tx) settingsHeld(tx *gorm.DB) (*DeskSettings, error) {
	if t.held != nil && t.held.settings != nil {
		return t.held.settings, nil
	}
	s, err := settingsForWrite(tx)
	if err == nil && t.held != nil {
		t.held.settings = s
	}
	return s, err
}

// StartVisitorConversation opens a conversation for the visitor's customer,
// first storing the pre-chat name and email on an unverified customer (a
// verified one keeps what the host page signed). While the desk is away the
// email is required of a visitor we cannot reach otherwise (EmailRequired).
// The desk settings it decides by are read in its transaction
// (settingsForWrite). Everything is validated before anything is written, so
// a rejected form stores nothing. It returns ErrIdentityRequired when the
// desk requires a signed identity the visitor does not have, and ErrNotFound
// for a visitor scoped to one conversation by a chat link. A retry with the
// same idempotency key returns the conversation and message it stored.
func StartVisitorConversation(ctx context.Context, t Tx, v *Visitor, in VisitorStart) (*Conversation, *Message, error) {
	var conv *Conversation
	var msg *Message
	err := t.run(ctx, func(tx *gorm.DB) error {
		settings, err := t.settingsHeld(tx)
		if err != nil {
			return err
		}
		name, email, err := checkVisitorStart(v, settings, in)
		if err != nil {
			return err
		}
		conv, msg, err = startVisitorConversation(ctx, t, tx, v, in, name, email)
		return err
	})
	if errors.Is(err, ErrIdentityRequired) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, wrapUnlessDomain(err, "start visitor conversation")
	}
	return conv, msg, nil
}

// checkVisitorStart says whether v may start a conversation with in under
// settings, and returns the pre-chat name and email to store ("" for none).
func checkVisitorStart(v *Visitor, settings *DeskSettings, in VisitorStart) (name, email string, err error) {
	if !v.MayWrite(settings) {
		return "", "", ErrIdentityRequired
	}
	if v.Scoped() {
		return "", "", ErrNotFound // a chat link's visitor writes in its conversation only
	}
	ve := &ValidationError{}
	if _, err := validateBody(in.Body); err != nil {
		var bv *ValidationError
		errors.As(err, &bv)
		ve.Errors = append(ve.Errors, bv.Errors...)
	}
	name, email = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Email))
	if v.Customer.Verified {
		name, email = "", ""
	}
	if len([]rune(name)) > 100 {
		ve.Add("name", "name_too_long", map[string]any{"Max": 100})
	}
	switch {
	case email != "":
		validateEmail(ve, "email", email)
	case v.EmailRequired(settings):
		ve.Add("email", "email_required_away", nil)
	}
	if err := (PostOpts{IdempotencyKey: in.IdempotencyKey}).validate(); err != nil {
		var kv *ValidationError
		errors.As(err, &kv)
		ve.Errors = append(ve.Errors, kv.Errors...)
	}
	return name, email, ve.Err()
}

// startVisitorConversation writes a checked start (checkVisitorStart).
func startVisitorConversation(ctx context.Context, t Tx, tx *gorm.DB, v *Visitor, in VisitorStart, name, email string) (*Conversation, *Message, error) {
	if in.IdempotencyKey != "" {
		// Serialise this customer's starts, so a retry racing its
		// original waits for it and then finds what it stored.
		if err := tx.Exec("SELECT 1 FROM customers WHERE id = ? FOR UPDATE", v.CustomerID).Error; err != nil {
			return nil, nil, err
		}
		prior, err := keyedMessage(tx, Actor{Customer: v.Customer}, in.IdempotencyKey)
		if err != nil {
			return nil, nil, err
		}
		if prior != nil {
			conv, err := findConversation(tx, conversationWithPeople+" WHERE conversations.id = @id AND conversations.customer_id = @customer",
				map[string]any{"id": prior.ConversationID, "customer": v.CustomerID})
			return conv, prior, err
		}
	}
	cust := v.Customer
	if name != "" || email != "" {
		c, err := UpdateCustomerContact(ctx, tx, v.CustomerID, name, email, false)
		if err != nil {
			return nil, nil, err
		}
		cust = c
	}
	conv, msg, err := startCustomerConversation(ctx, t, cust, in.Body, in.Session, in.IdempotencyKey)
	if err == nil {
		v.Customer = cust
	}
	return conv, msg, err
}

// PostVisitorMessage adds the visitor's message to one of their customer's
// conversations (reopening it if it was closed). Someone else's conversation
// is ErrNotFound; a desk that now requires signed identities (as read in
// the write's transaction: settingsForWrite) refuses unverified visitors
// with ErrIdentityRequired.
func PostVisitorMessage(ctx context.Context, t Tx, v *Visitor, conv *Conversation, body string, opts PostOpts) (*Message, error) {
	if !v.Sees(conv) {
		return nil, ErrNotFound
	}
	var msg *Message
	err := t.run(ctx, func(tx *gorm.DB) error {
		settings, err := t.settingsHeld(tx)
		if err != nil {
			return err
		}
		if !v.MayWrite(settings) {
			return ErrIdentityRequired
		}
		msg, err = PostMessageWithOpts(ctx, t, Actor{Customer: v.Customer}, conv, MessageText, body, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return msg, nil
}

// SaveVisitorEmail stores the email an anonymous visitor leaves so the team
// can answer while the desk is offline. It never edits a verified customer,
// nor one reached through a chat link: for those, it is ErrNotFound.
func SaveVisitorEmail(ctx context.Context, db *gorm.DB, v *Visitor, email string) (*Customer, error) {
	if v.Customer.Verified || v.Scoped() {
		return nil, ErrNotFound
	}
	email = strings.ToLower(strings.TrimSpace(email))
	ve := &ValidationError{}
	validateEmail(ve, "email", email)
	if err := ve.Err(); err != nil {
		return nil, err
	}
	c, err := UpdateCustomerContact(ctx, db, v.CustomerID, "", email, false)
	if err != nil {
		return nil, err
	}
	v.Customer = c
	return c, nil
}
