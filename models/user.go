package models

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Role decides what a staff user may administer.
type Role string

// The two staff roles. Admins manage agents, teams and settings; agents work
// the desk.
const (
	RoleAdmin Role = "admin"
	RoleAgent Role = "agent"
)

// Languages lists the locales Parley ships, in the order menus show them.
var Languages = []string{"en", "pt-BR", "fr"}

// User is a staff member: an admin or an agent. Customers are not users.
type User struct {
	ID              int64
	Name            string
	Email           string
	PasswordHash    string `gorm:"column:password_hash"`
	Role            Role
	CustomerSupport bool `gorm:"column:customer_support"`
	Active          bool
	Locale          string
	// NotifySound: the desk plays a chime when a customer conversation
	// arrives (the user can mute it).
	NotifySound bool `gorm:"column:notify_sound;->"`
	// FontSize is the text size of the transcript and the composer
	// (FontSizes); Spellcheck lets the browser check spelling in the
	// composer. Both are the user's own choice (SetComposerPrefs).
	FontSize   string `gorm:"column:font_size;->"`
	Spellcheck bool   `gorm:"column:spellcheck;->"`
	// CanViewReports lets an agent read the reports admins read
	// (CanViewReports; set by an admin: SetReportAccess).
	CanViewReports bool `gorm:"column:can_view_reports;->"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeactivatedAt  *time.Time
}

// UserInput is what a form or the command line supplies to create or edit a
// user. Password is only read when creating or setting a password.
type UserInput struct {
	Name            string
	Email           string
	Password        string
	Role            Role
	CustomerSupport bool
	Locale          string
}

func (in *UserInput) normalize() {
	in.Name = strings.TrimSpace(in.Name)
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	if in.Role == "" {
		in.Role = RoleAgent
	}
}

func (in *UserInput) validate(v *ValidationError, withPassword bool) {
	switch n := len([]rune(in.Name)); {
	case n == 0:
		v.Add("name", "name_required", nil)
	case n > 100:
		v.Add("name", "name_too_long", map[string]any{"Max": 100})
	}
	validateEmail(v, "email", in.Email)
	if withPassword {
		validatePassword(v, "password", in.Password)
	}
	if in.Role != RoleAdmin && in.Role != RoleAgent {
		v.Add("role", "role_invalid", nil)
	}
	if !validLocale(in.Locale) {
		v.Add("locale", "locale_invalid", nil)
	}
}

func validateEmail(v *ValidationError, field, email string) {
	if email == "" {
		v.Add(field, "email_required", nil)
		return
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 || !strings.Contains(email[strings.LastIndex(email, "@"):], ".") {
		v.Add(field, "email_invalid", nil)
	}
}

func validLocale(l string) bool {
	if l == "" {
		return true
	}
	for _, s := range Languages {
		if s == l {
			return true
		}
	}
	return false
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation on
// the named constraint or index.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}

// CreateUser validates in and stores a new active user. A duplicate email is
// a field error, checked by the database's unique index so two concurrent
// requests cannot both succeed.
func CreateUser(ctx context.Context, db *gorm.DB, in UserInput) (*User, error) {
	in.normalize()
	v := &ValidationError{}
	in.validate(v, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	u := &User{
		Name: in.Name, Email: in.Email, PasswordHash: hash, Role: in.Role,
		CustomerSupport: in.CustomerSupport, Active: true, Locale: in.Locale,
	}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.Select("Name", "Email", "PasswordHash", "Role", "CustomerSupport", "Active", "Locale").Create(u).Error
	})
	if isUniqueViolation(err, "users_email_key") {
		return nil, Invalid("email", "email_taken", nil)
	}
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// setupLockKey serialises first-run setup ("parley-setup").
const setupLockKey int64 = 0x70617273657475

// NeedsSetup reports whether no user exists yet, which is when the one-time
// setup page is offered.
func NeedsSetup(ctx context.Context, db *gorm.DB) (bool, error) {
	var exists bool
	err := db.WithContext(ctx).Raw("SELECT EXISTS (SELECT 1 FROM users)").Scan(&exists).Error
	return !exists, err
}

// CreateFirstAdmin creates the first admin, only while no user exists. Two
// racing setup requests are serialised by an advisory lock; the loser gets
// ErrSetupDone.
func CreateFirstAdmin(ctx context.Context, db *gorm.DB, in UserInput) (*User, error) {
	in.Role = RoleAdmin
	in.CustomerSupport = true
	var u *User
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", setupLockKey).Error; err != nil {
			return err
		}
		needed, err := NeedsSetup(ctx, tx)
		if err != nil {
			return err
		}
		if !needed {
			return ErrSetupDone
		}
		u, err = CreateUser(ctx, tx, in)
		return err
	})
	return u, err
}

// FindUser returns the user with id, active or not.
func FindUser(ctx context.Context, db *gorm.DB, id int64) (*User, error) {
	var u User
	err := db.WithContext(ctx).Take(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find user %d: %w", id, err)
	}
	return &u, nil
}

// FindUserByEmail returns the user with email (any case), active or not.
func FindUserByEmail(ctx context.Context, db *gorm.DB, email string) (*User, error) {
	var u User
	err := db.WithContext(ctx).Where("lower(email) = lower(?)", strings.TrimSpace(email)).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find user by email: %w", err)
	}
	return &u, nil
}

// ListUsers returns every staff user, active first, then by name.
func ListUsers(ctx context.Context, db *gorm.DB) ([]User, error) {
	var users []User
	err := db.WithContext(ctx).Order("active DESC, lower(name), id").Find(&users).Error
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// UpdateUser changes a user's name, email, role and customer-support flag;
// a change of role or flag is an access event for the user's open desks. It
// refuses to demote the last active admin, so the desk can always be
// administered.
func UpdateUser(ctx context.Context, t Tx, id int64, in UserInput) (*User, error) {
	in.normalize()
	v := &ValidationError{}
	in.validate(v, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var u *User
	err := t.run(ctx, func(tx *gorm.DB) error {
		var err error
		if u, err = lockUser(tx, id); err != nil {
			return err
		}
		if u.Role == RoleAdmin && in.Role != RoleAdmin && u.Active {
			if err := ensureAnotherAdmin(tx, id, "role"); err != nil {
				return err
			}
		}
		changed := u.Role != in.Role || u.CustomerSupport != in.CustomerSupport
		u.Name, u.Email, u.Role, u.CustomerSupport = in.Name, in.Email, in.Role, in.CustomerSupport
		if err := tx.Model(u).Updates(map[string]any{
			"name": u.Name, "email": u.Email, "role": u.Role,
			"customer_support": u.CustomerSupport, "updated_at": gorm.Expr("now()"),
		}).Error; err != nil {
			return err
		}
		if !changed {
			return nil
		}
		return appendAccessEvent(t, id, "role")
	})
	if isUniqueViolation(err, "users_email_key") {
		return nil, Invalid("email", "email_taken", nil)
	}
	if err != nil {
		return nil, wrapUnlessDomain(err, "update user %d", id)
	}
	return u, nil
}

// SetLocale stores the user's preferred language ("" follows the browser).
func SetLocale(ctx context.Context, db *gorm.DB, id int64, locale string) error {
	if !validLocale(locale) {
		return Invalid("locale", "locale_invalid", nil)
	}
	res := db.WithContext(ctx).Model(&User{}).Where("id = ?", id).
		Updates(map[string]any{"locale": locale, "updated_at": gorm.Expr("now()")})
	if res.Error != nil {
		return fmt.Errorf("set locale: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SetPassword replaces a user's password and ends all of their sessions, so a
// reset also signs out whoever knew the old one (their open desks hear of it
// through an access event).
func SetPassword(ctx context.Context, t Tx, id int64, password string) error {
	v := &ValidationError{}
	validatePassword(v, "password", password)
	if err := v.Err(); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return t.run(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("id = ?", id).
			Updates(map[string]any{"password_hash": hash, "updated_at": gorm.Expr("now()")})
		if res.Error != nil {
			return fmt.Errorf("set password: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := tx.Where("user_id = ?", id).Delete(&Session{}).Error; err != nil {
			return err
		}
		return appendAccessEvent(t, id, "password")
	})
}

// DeactivateUser stops a user from signing in and ends their sessions and
// open desks at once. An admin cannot deactivate themselves, nor the last active admin.
func DeactivateUser(ctx context.Context, t Tx, actorID, id int64) error {
	if actorID == id {
		return Invalid("user", "cannot_deactivate_self", nil)
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		u, err := lockUser(tx, id)
		if err != nil {
			return err
		}
		if !u.Active {
			return nil
		}
		if u.Role == RoleAdmin {
			if err := ensureAnotherAdmin(tx, id, "user"); err != nil {
				return err
			}
		}
		if err := tx.Model(u).Updates(map[string]any{
			"active": false, "deactivated_at": gorm.Expr("now()"), "updated_at": gorm.Expr("now()"),
		}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", id).Delete(&Session{}).Error; err != nil {
			return err
		}
		return appendAccessEvent(t, id, "deactivated")
	})
	return wrapUnlessDomain(err, "deactivate user %d", id)
}

// ReactivateUser lets a deactivated user sign in again.
func ReactivateUser(ctx context.Context, db *gorm.DB, id int64) error {
	res := db.WithContext(ctx).Model(&User{}).Where("id = ?", id).Updates(map[string]any{
		"active": true, "deactivated_at": nil, "updated_at": gorm.Expr("now()"),
	})
	if res.Error != nil {
		return fmt.Errorf("reactivate user %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

func lockUser(tx *gorm.DB, id int64) (*User, error) {
	var u User
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, err
}

// roleLockKey serialises changes to who is an active admin ("parley-roles").
const roleLockKey int64 = 0x70726f6c6573

// ensureAnotherAdmin fails unless an active admin other than id exists. It
// takes a transaction-level advisory lock first, so two admins demoting or
// deactivating each other at once are serialised (and cannot deadlock): the
// second sees the first's change and is refused.
func ensureAnotherAdmin(tx *gorm.DB, id int64, field string) error {
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", roleLockKey).Error; err != nil {
		return err
	}
	var others []int64
	err := tx.Raw("SELECT id FROM users WHERE role = 'admin' AND active AND id <> ?", id).Scan(&others).Error
	if err != nil {
		return err
	}
	if len(others) == 0 {
		return Invalid(field, "last_admin", nil)
	}
	return nil
}

// wrapUnlessDomain adds context to unexpected errors but leaves the domain
// errors that handlers map to statuses (not found, validation) as they are.
func wrapUnlessDomain(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var v *ValidationError
	if errors.Is(err, ErrNotFound) || errors.As(err, &v) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
