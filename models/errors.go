// Package models holds Parley's data and its domain rules: GORM structs, the
// operations that change state (create an agent, end a session, …) and the
// invariants those operations keep. Every operation takes a *gorm.DB that may
// be a transaction, so a caller can make it part of a larger atomic write.
//
// Nothing here knows about HTTP or templates: operations return ErrNotFound,
// a *ValidationError carrying translatable field messages, or a wrapped error.
package models

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ErrNotFound is returned when a record does not exist or is not visible to
// the caller; handlers answer 404 for both, so existence never leaks.
var ErrNotFound = errors.New("not found")

// ErrSetupDone is returned by CreateFirstAdmin once any user exists: the
// one-time setup page must not create a second "first" admin.
var ErrSetupDone = errors.New("setup already done")

// ErrInvalidCredentials covers both an unknown email and a wrong password, so
// the sign-in form never tells an attacker which accounts exist.
var ErrInvalidCredentials = errors.New("invalid email or password")

// RateLimitedError says an action was refused because of too many recent
// attempts, and when it may be tried again.
type RateLimitedError struct {
	RetryAfter time.Duration
	// Scope names the limit that refused, where the caller can say more
	// (sign-in: LimitAccount means a known device may still try).
	Scope string
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many attempts; retry after %s", e.RetryAfter.Round(time.Second))
}

// FieldError is one problem with one input field. Code is a stable message id
// (translated by the views as "error.<code>"); Data fills its placeholders.
type FieldError struct {
	Field string
	Code  string
	Data  map[string]any
}

// ValidationError lists what is wrong with an input. Operations return it
// before writing anything, so a rejected request stores nothing.
type ValidationError struct {
	Errors []FieldError
}

// Add records a problem with field.
func (v *ValidationError) Add(field, code string, data map[string]any) {
	v.Errors = append(v.Errors, FieldError{Field: field, Code: code, Data: data})
}

// Field returns the first problem recorded for field, if any.
func (v *ValidationError) Field(field string) (FieldError, bool) {
	if v == nil {
		return FieldError{}, false
	}
	for _, e := range v.Errors {
		if e.Field == field {
			return e, true
		}
	}
	return FieldError{}, false
}

// Err returns v as an error when it holds problems, nil otherwise.
func (v *ValidationError) Err() error {
	if v == nil || len(v.Errors) == 0 {
		return nil
	}
	return v
}

func (v *ValidationError) Error() string {
	parts := make([]string, 0, len(v.Errors))
	for _, e := range v.Errors {
		parts = append(parts, e.Field+": "+e.Code)
	}
	sort.Strings(parts)
	return "invalid input: " + strings.Join(parts, ", ")
}

// Invalid is shorthand for a ValidationError with a single field problem.
func Invalid(field, code string, data map[string]any) error {
	v := &ValidationError{}
	v.Add(field, code, data)
	return v
}
