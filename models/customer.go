package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Customer is a person chatting from the widget.
type Customer struct {
	ID         int64
	Name       string
	Email      string
	Phone      string // staff-edited (UpdateCustomer), normalised by NormalizeCustomerPhone
	Notes      string // staff's free notes about the customer
	ExternalID *string
	Verified   bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// DisplayName is what staff see for a customer with no name.
func (c *Customer) DisplayName() string {
	switch {
	case c == nil:
		return ""
	case c.Name != "":
		return c.Name
	case c.Email != "":
		return c.Email
	}
	return fmt.Sprintf("#%d", c.ID)
}

// Visitor is one browser running the widget.
type Visitor struct {
	ID         int64
	TokenHash  []byte
	CustomerID int64
	// ConversationID scopes a visitor started by an emailed chat link to
	// that one conversation (nil: the visitor sees all of its customer's).
	ConversationID *int64
	CreatedAt      time.Time
	LastSeenAt     time.Time
	Customer       *Customer `gorm:"foreignKey:CustomerID"`
}

// Scoped reports whether v may only see one conversation (a chat link's).
func (v *Visitor) Scoped() bool { return v.ConversationID != nil }

// CreateVisitor starts an anonymous visitor with its own unverified customer
// and returns the token the widget keeps.
func CreateVisitor(ctx context.Context, db *gorm.DB) (string, *Visitor, error) {
	token := RandomToken(32)
	v := &Visitor{TokenHash: hashToken(token)}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c := &Customer{}
		if err := tx.Select("Name", "Email").Create(c).Error; err != nil {
			return err
		}
		v.CustomerID, v.Customer = c.ID, c
		return tx.Select("TokenHash", "CustomerID").Create(v).Error
	})
	if err != nil {
		return "", nil, fmt.Errorf("create visitor: %w", err)
	}
	return token, v, nil
}

// FindVisitor returns the visitor behind a widget token, with its customer.
// Seen-time is refreshed at most once a minute.
func FindVisitor(ctx context.Context, db *gorm.DB, token string) (*Visitor, error) {
	if token == "" {
		return nil, ErrNotFound
	}
	var v Visitor
	err := db.WithContext(ctx).Joins("Customer").Where("visitors.token_hash = ?", hashToken(token)).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find visitor: %w", err)
	}
	if time.Since(v.LastSeenAt) > time.Minute {
		db.WithContext(ctx).Model(&Visitor{}).Where("id = ?", v.ID).Update("last_seen_at", gorm.Expr("now()"))
	}
	return &v, nil
}

// Identity is what a host page says about its signed-in user. Signature is
// hex(HMAC-SHA256(widget secret, ExternalID + ":" + Email)).
type Identity struct {
	ExternalID string
	Email      string
	Name       string
	Signature  string
}

// IdentitySignature computes the signature a host page's server attaches to
// an identity; the settings page shows the same recipe in several languages.
func IdentitySignature(secret, externalID, email string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(externalID + ":" + strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(mac.Sum(nil))
}

// ErrIdentityRequired is returned when the desk requires signed identities
// and a visitor has none (or a bad one).
var ErrIdentityRequired = errors.New("a signed identity is required")

// IdentifyVisitor applies what the host page says about the visitor. A valid
// signature links the visitor to the verified customer with that external id
// (created on first sight) and brings the visitor's anonymous conversations
// along. Anything unsigned only updates the visitor's own unverified
// customer, and never touches another customer. It returns the visitor's
// customer afterwards. The desk settings it decides by (the widget secret,
// whether signed identities are required) are read in its transaction
// (settingsForWrite).
func IdentifyVisitor(ctx context.Context, db *gorm.DB, v *Visitor, id Identity) (*Customer, error) {
	var c *Customer
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		settings, err := settingsForWrite(tx)
		if err != nil {
			return err
		}
		c, err = identifyVisitor(ctx, tx, v, id, settings)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// identifyVisitor is IdentifyVisitor under settings.
func identifyVisitor(ctx context.Context, db *gorm.DB, v *Visitor, id Identity, settings *DeskSettings) (*Customer, error) {
	id.ExternalID = strings.TrimSpace(id.ExternalID)
	id.Email = strings.ToLower(strings.TrimSpace(id.Email))
	id.Name = strings.TrimSpace(id.Name)
	if len([]rune(id.Name)) > 100 {
		id.Name = string([]rune(id.Name)[:100])
	}
	if id.Email != "" {
		ve := &ValidationError{}
		validateEmail(ve, "email", id.Email)
		if ve.Err() != nil || len(id.Email) > 254 {
			id.Email = ""
		}
	}
	if v.Scoped() {
		// A chat link's visitor proves only that someone read one email: it
		// neither edits the customer nor moves to another one.
		return v.Customer, nil
	}
	// No secret yet (GetSettings makes it), no signature the host could have made.
	signed := settings.WidgetSecret != "" && id.ExternalID != "" && len(id.ExternalID) <= 200 && id.Signature != "" &&
		hmac.Equal([]byte(strings.ToLower(id.Signature)), []byte(IdentitySignature(settings.WidgetSecret, id.ExternalID, id.Email)))
	if !signed {
		if settings.RequireSignedIdentity {
			return nil, ErrIdentityRequired
		}
		if v.Customer.Verified || (id.Name == "" && id.Email == "") {
			return v.Customer, nil // unsigned data never edits a verified customer
		}
		return UpdateCustomerContact(ctx, db, v.CustomerID, id.Name, id.Email, false)
	}
	if v.Customer.Verified && v.Customer.ExternalID != nil && *v.Customer.ExternalID == id.ExternalID {
		if (id.Name != "" && id.Name != v.Customer.Name) || (id.Email != "" && id.Email != v.Customer.Email) {
			return UpdateCustomerContact(ctx, db, v.CustomerID, id.Name, id.Email, true)
		}
		return v.Customer, nil
	}
	var c Customer
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Raw(`
			INSERT INTO customers (external_id, verified, name, email) VALUES (?, true, ?, ?)
			ON CONFLICT (external_id) WHERE verified DO UPDATE
			  SET name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE customers.name END,
			      email = CASE WHEN EXCLUDED.email <> '' THEN EXCLUDED.email ELSE customers.email END,
			      updated_at = now()
			RETURNING *`, id.ExternalID, id.Name, id.Email).Scan(&c).Error
		if err != nil {
			return err
		}
		old := v.CustomerID
		if err := tx.Exec("UPDATE visitors SET customer_id = ? WHERE id = ?", c.ID, v.ID).Error; err != nil {
			return err
		}
		if !v.Customer.Verified {
			// The anonymous customer was this browser's alone: its conversations
			// are this person's, so they follow the sign-in.
			var others int64
			if err := tx.Raw("SELECT count(*) FROM visitors WHERE customer_id = ?", old).Scan(&others).Error; err != nil {
				return err
			}
			if others == 0 {
				if err := tx.Exec("UPDATE conversations SET customer_id = ? WHERE customer_id = ?", c.ID, old).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("identify visitor: %w", err)
	}
	v.CustomerID, v.Customer = c.ID, &c
	return &c, nil
}

// UpdateCustomerContact sets a customer's name and email (empty keeps the
// current value). verified must match the customer: it is a guard so that
// data typed into the widget never edits a verified customer.
func UpdateCustomerContact(ctx context.Context, db *gorm.DB, customerID int64, name, email string, verified bool) (*Customer, error) {
	name, email = strings.TrimSpace(name), strings.ToLower(strings.TrimSpace(email))
	v := &ValidationError{}
	if len([]rune(name)) > 100 {
		v.Add("name", "name_too_long", map[string]any{"Max": 100})
	}
	if email != "" {
		validateEmail(v, "email", email)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var c Customer
	err := db.WithContext(ctx).Raw(`
		UPDATE customers SET
		  name = CASE WHEN ? <> '' THEN ? ELSE name END,
		  email = CASE WHEN ? <> '' THEN ? ELSE email END,
		  updated_at = now()
		WHERE id = ? AND verified = ?
		RETURNING *`, name, name, email, email, customerID, verified).Scan(&c).Error
	if err != nil {
		return nil, fmt.Errorf("update customer: %w", err)
	}
	if c.ID == 0 {
		return nil, ErrNotFound
	}
	return &c, nil
}
