package models

import (
	"context"
	"errors"
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

// StartVisitorConversation opens a conversation for the visitor's customer,
// first storing the pre-chat name and email on an unverified customer (a
// verified one keeps what the host page signed). While the desk is away the
// email is required of a visitor we cannot reach otherwise (EmailRequired).
// Everything is validated before anything is written, so a rejected form
// stores nothing. It returns ErrIdentityRequired when the desk requires a
// signed identity the visitor does not have, and ErrNotFound for a visitor
// scoped to one conversation by a chat link. A retry with the same
// idempotency key returns the conversation and message it stored.
func StartVisitorConversation(ctx context.Context, t Tx, v *Visitor, settings *DeskSettings, in VisitorStart) (*Conversation, *Message, error) {
	if !v.MayWrite(settings) {
		return nil, nil, ErrIdentityRequired
	}
	if v.Scoped() {
		return nil, nil, ErrNotFound // a chat link's visitor writes in its conversation only
	}
	ve := &ValidationError{}
	if _, err := validateBody(in.Body); err != nil {
		var bv *ValidationError
		errors.As(err, &bv)
		ve.Errors = append(ve.Errors, bv.Errors...)
	}
	name, email := strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Email))
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
	if err := ve.Err(); err != nil {
		return nil, nil, err
	}
	var conv *Conversation
	var msg *Message
	err := t.run(ctx, func(tx *gorm.DB) error {
		if in.IdempotencyKey != "" {
			// Serialise this customer's starts, so a retry racing its
			// original waits for it and then finds what it stored.
			if err := tx.Exec("SELECT 1 FROM customers WHERE id = ? FOR UPDATE", v.CustomerID).Error; err != nil {
				return err
			}
			prior, err := keyedMessage(tx, Actor{Customer: v.Customer}, in.IdempotencyKey)
			if err != nil {
				return err
			}
			if prior != nil {
				conv, err = findConversation(tx.Joins("Customer").Joins("Assignee").
					Where("conversations.id = ? AND conversations.customer_id = ?", prior.ConversationID, v.CustomerID))
				msg = prior
				return err
			}
		}
		cust := v.Customer
		if name != "" || email != "" {
			c, err := UpdateCustomerContact(ctx, tx, v.CustomerID, name, email, false)
			if err != nil {
				return err
			}
			cust = c
		}
		var err error
		conv, msg, err = startCustomerConversation(ctx, t, cust, in.Body, in.Session, in.IdempotencyKey)
		if err == nil {
			v.Customer = cust
		}
		return err
	})
	if err != nil {
		return nil, nil, wrapUnlessDomain(err, "start visitor conversation")
	}
	return conv, msg, nil
}

// PostVisitorMessage adds the visitor's message to one of their customer's
// conversations (reopening it if it was closed). Someone else's conversation
// is ErrNotFound; a desk that now requires signed identities refuses
// unverified visitors with ErrIdentityRequired.
func PostVisitorMessage(ctx context.Context, t Tx, v *Visitor, settings *DeskSettings, conv *Conversation, body string, opts PostOpts) (*Message, error) {
	if !v.Sees(conv) {
		return nil, ErrNotFound
	}
	if !v.MayWrite(settings) {
		return nil, ErrIdentityRequired
	}
	return PostMessageWithOpts(ctx, t, Actor{Customer: v.Customer}, conv, MessageText, body, opts)
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
