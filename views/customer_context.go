package views

import (
	"context"

	"github.com/parleydesk/parley/models"
)

// CustomerForm is the context panel's edit form filled with the customer's
// current values.
func CustomerForm(c *models.Customer) Form {
	return NewForm(map[string]string{"name": c.Name, "email": c.Email, "phone": c.Phone, "notes": c.Notes}, nil)
}

// changeActor names who made a customer change (an account since deleted
// keeps its name as it was).
func changeActor(ctx context.Context, ch models.CustomerChange) string {
	if ch.ActorName != "" {
		return ch.ActorName
	}
	return T(ctx, "context.someone")
}

// changeValue shows an emptied field as such.
func changeValue(ctx context.Context, v string) string {
	if v == "" {
		return T(ctx, "context.empty")
	}
	if r := []rune(v); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return v
}

type customerFormKey struct{}

// WithCustomerForm carries a rejected customer edit into a full-page render
// (a plain form post without htmx), so the panel shows it with its reasons.
func WithCustomerForm(ctx context.Context, f Form) context.Context {
	return context.WithValue(ctx, customerFormKey{}, f)
}

// customerFormOf is the form WithCustomerForm carried, or c's current values.
func customerFormOf(ctx context.Context, c *models.Customer) Form {
	if f, ok := ctx.Value(customerFormKey{}).(Form); ok {
		return f
	}
	return CustomerForm(c)
}
