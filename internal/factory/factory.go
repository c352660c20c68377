// Package factory makes the users, customers and conversations tests start
// from, through the same domain operations the application uses (so every
// row is one a real request could have written), with defaults for what a
// test does not care about.
package factory

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/parleydesk/parley/jobs"
	"github.com/parleydesk/parley/models"
)

// Password is the password of users made by User when none is given.
const Password = "correct horse"

var seq atomic.Int64

// UserOpts describes a user; zero fields take defaults (a unique email,
// Name = Email, Password, RoleAgent).
type UserOpts struct {
	Name, Email, Password string
	Role                  models.Role
	CustomerSupport       bool
}

// User creates a staff user with models.CreateUser.
func User(t testing.TB, db *gorm.DB, o UserOpts) *models.User {
	t.Helper()
	if o.Email == "" {
		o.Email = fmt.Sprintf("user%d@example.com", seq.Add(1))
	}
	if o.Name == "" {
		o.Name = o.Email
	}
	if o.Password == "" {
		o.Password = Password
	}
	if o.Role == "" {
		o.Role = models.RoleAgent
	}
	u, err := models.CreateUser(context.Background(), db, models.UserInput{
		Name: o.Name, Email: o.Email, Password: o.Password, Role: o.Role, CustomerSupport: o.CustomerSupport,
	})
	if err != nil {
		t.Fatalf("factory.User %s: %v", o.Email, err)
	}
	return u
}

// Customer creates an anonymous widget visitor and its customer, as opening
// the chat does.
func Customer(t testing.TB, db *gorm.DB) (*models.Visitor, *models.Customer) {
	t.Helper()
	_, v, err := models.CreateVisitor(context.Background(), db)
	if err != nil {
		t.Fatalf("factory.Customer: %v", err)
	}
	return v, v.Customer
}

// ConversationOpts describes a customer conversation; a nil Customer gets a
// new one, an empty Body "Hello".
type ConversationOpts struct {
	Customer *models.Customer
	Body     string
	Session  models.SessionInfo
}

// Conversation starts a customer conversation with
// models.StartCustomerConversation and returns its customer, the
// conversation and its first message.
func Conversation(t testing.TB, db *gorm.DB, o ConversationOpts) (*models.Customer, *models.Conversation, *models.Message) {
	t.Helper()
	if o.Customer == nil {
		_, o.Customer = Customer(t, db)
	}
	if o.Body == "" {
		o.Body = "Hello"
	}
	c, m, err := Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(context.Background(), tx, o.Customer, o.Body, o.Session)
	})
	if err != nil {
		t.Fatalf("factory.Conversation: %v", err)
	}
	return o.Customer, c, m
}

// Write runs fn through a writer over db that inserts no follow-up jobs
// (jobs.NewWriter without an inserter): tests set up and change data with
// the domain operations, which take a models.Tx, without starting the work
// their events would call for.
func Write(db *gorm.DB, fn func(tx models.Tx) error) error {
	return jobs.NewWriter(db, nil, jobs.FollowUpOptions{}).Write(context.Background(), fn)
}

// WriteCommitted is Write whose writer hands the events it committed to
// committed, as the app's writer hands them to its realtime broker
// (jobs.Writer.OnCommit; live.Broker.HandOff).
func WriteCommitted(db *gorm.DB, committed func([]models.Event), fn func(tx models.Tx) error) error {
	w := jobs.NewWriter(db, nil, jobs.FollowUpOptions{})
	w.OnCommit(committed)
	return w.Write(context.Background(), fn)
}

// Write1 is Write for an operation that returns a value.
func Write1[A any](db *gorm.DB, fn func(tx models.Tx) (A, error)) (A, error) {
	var a A
	err := Write(db, func(tx models.Tx) (err error) {
		a, err = fn(tx)
		return err
	})
	return a, err
}

// Write2 is Write for an operation that returns two values.
func Write2[A, B any](db *gorm.DB, fn func(tx models.Tx) (A, B, error)) (A, B, error) {
	var a A
	var b B
	err := Write(db, func(tx models.Tx) (err error) {
		a, b, err = fn(tx)
		return err
	})
	return a, b, err
}
