package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// HashPasswordAtProductionCost is HashPassword as a server runs it: this
// package's TestMain lowers the cost for the rest of its tests.
func HashPasswordAtProductionCost(password string) (string, error) {
	return hashWith(productionCost, password)
}

// AppendEvent lets this package's tests record an event directly; outside
// models only domain operations record events.
var AppendEvent = appendEvent

// NotifyStatements are what QueueNotify sends, for the horizon's test.
var NotifyStatements = notifyStatements

// The SQL forms of the access rules, for TestAccessGoAndSQLAgree.
var (
	UserSeesConversationSQL = userSeesConversationSQL
	UserArgs                = userArgs
	VisitorSeesSQL          = visitorSeesSQL
	VisitorArgs             = visitorArgs
	CustomerSeesMessageSQL  = customerSeesMessageSQL
	CustomerEvents          = customerEvents
	UserSeesItemSQL         = userSeesItemSQL
	UsersSeeItemSQL         = usersSeeItemSQL
	SupportAgentSQL         = supportAgentSQL
	UsersSeeCustomerDataSQL = usersSeeCustomerDataSQL
	UserSeesMessageSQL      = userSeesMessageSQL
	UsersSeeMessageSQL      = usersSeeMessageSQL
	LoadRecipients          = loadRecipients
	UsersMayJoinSQL         = usersMayJoinSQL
)

// WithSearchProbe sets how many matches make a conversation search walk
// the newest documents instead of gathering every match.
func WithSearchProbe(q SearchQuery, n int) SearchQuery {
	q.probe = n
	return q
}

// SetSupportKeyGen replaces the support key generator until the returned
// function restores it (tests that call it must not run in parallel).
func SetSupportKeyGen(f func() string) (restore func()) {
	old := newSupportKey
	newSupportKey = f
	return func() { newSupportKey = old }
}

// Covers reports whether r catches every conversation b would (routing.go).
func (r *RoutingRule) Covers(b *RoutingRule) bool { return r.covers(b) }

// WithoutEvents runs a transaction the committed horizon does not wait for.
var WithoutEvents = withoutEvents

// Unreported declares, as the job-side notification inserts do, that tx wrote
// events its inserts did not return.
func Unreported(tx Tx) { tx.unreported() }

// AgeGenericConns makes g's kept connections look idle for d (so the next
// read pings them first).
func AgeGenericConns(g *GenericReads, d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.free {
		c.used = c.used.Add(-d)
	}
}

// ReadPipelined runs the queries given as statement and arguments in one
// pipelined round trip, each read into a []T of its own (scanRows).
func ReadPipelined[T any](ctx context.Context, db *gorm.DB, queries ...[]any) ([][]T, error) {
	out := make([][]T, len(queries))
	reads := make([]pipelinedRead, len(queries))
	for i, q := range queries {
		reads[i] = readInto(&out[i], q[0].(string), q[1:]...)
	}
	return out, pipelined(ctx, db, reads...)
}

// Positional is positional, for its test.
var Positional = positional

// MessageWithAuthors is messageWithAuthors, for pipelined reads' test.
var MessageWithAuthors = messageWithAuthors

// AsArray is asArray, for its test.
var AsArray = asArray

// ListInboxByGORM reads ListInbox's statement with GORM, for the test that
// pipelined reads scan as GORM does.
func ListInboxByGORM(ctx context.Context, db *gorm.DB, q InboxQuery) ([]InboxRow, error) {
	var rows []InboxRow
	read, ok, err := listInboxRead(q, &rows)
	if err != nil || !ok {
		return nil, err
	}
	return rows, db.WithContext(ctx).Raw(read.sql, read.args...).Scan(&rows).Error
}
