package views

import (
	"context"
	"errors"

	"github.com/parleydesk/parley/models"
)

// Form carries what a user typed and what was wrong with it, so a rejected
// form comes back filled in with each message beside its field.
type Form struct {
	Values map[string]string
	Errors *models.ValidationError
	// Files are a composer's pending uploads, shown again with a rejected
	// message (files.templ).
	Files []models.File
	// FileLimits are the desk's upload rules, for a composer's attachment
	// bar (hidden while MaxBytes is 0).
	FileLimits models.FileLimits
}

// NewForm returns a form holding values (which may be nil) and, if err is a
// *models.ValidationError, its field messages.
func NewForm(values map[string]string, err error) Form {
	f := Form{Values: values}
	var v *models.ValidationError
	if errors.As(err, &v) {
		f.Errors = v
	}
	return f
}

// Get returns the submitted value of field.
func (f Form) Get(field string) string { return f.Values[field] }

// Checked reports whether a checkbox field was ticked.
func (f Form) Checked(field string) bool {
	v := f.Values[field]
	return v == "on" || v == "true" || v == "1"
}

// HasError reports whether field has a message.
func (f Form) HasError(field string) bool {
	_, ok := f.Errors.Field(field)
	return ok
}

// Error returns field's message translated into ctx's language.
func (f Form) Error(ctx context.Context, field string) string {
	fe, ok := f.Errors.Field(field)
	if !ok {
		return ""
	}
	return T(ctx, "error."+fe.Code, fe.Data)
}
