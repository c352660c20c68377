package models_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/dbtest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Pipelined reads scan rows as GORM does: real conversations and items,
// NULLs and all, come out equal to GORM's reading of the same statement;
// several statements answer in order from one round trip.
func TestPipelinedReadsScanAsGORM(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	sam := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	_, first, _ := factory.Conversation(t, db, factory.ConversationOpts{Body: "first"})
	_, _, _ = factory.Conversation(t, db, factory.ConversationOpts{Body: "second"})
	_, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, sam, models.ItemInput{Kind: models.ItemTicket, Title: "Refund", Conversation: first})
	})
	require.NoError(t, err)

	convs, err := models.ReadPipelined[models.Conversation](ctx, db,
		[]any{"SELECT * FROM conversations ORDER BY id"},
		[]any{"SELECT * FROM conversations WHERE id = $1", first.ID})
	require.NoError(t, err)
	var want []models.Conversation
	require.NoError(t, db.Raw("SELECT * FROM conversations ORDER BY id").Scan(&want).Error)
	require.Len(t, convs[0], 2)
	assert.Equal(t, want, convs[0])
	require.Len(t, convs[1], 1)
	assert.Equal(t, first.ID, convs[1][0].ID)

	items, err := models.ReadPipelined[models.Item](ctx, db, []any{"SELECT * FROM items"})
	require.NoError(t, err)
	var wantItems []models.Item
	require.NoError(t, db.Raw("SELECT * FROM items").Scan(&wantItems).Error)
	require.Len(t, items[0], 1)
	assert.Equal(t, wantItems, items[0])

	// Inside a transaction the reads run one by one, scanned the same way.
	require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
		inTx, err := models.ReadPipelined[models.Conversation](ctx, tx,
			[]any{"SELECT * FROM conversations ORDER BY id"},
			[]any{"SELECT * FROM conversations WHERE id = $1", first.ID})
		require.NoError(t, err)
		assert.Equal(t, convs, inTx)
		return nil
	}))

	// The desk's list rows (a conversation with the columns its row
	// shows), as ListInbox now reads them, equal GORM's.
	require.NoError(t, db.Exec("UPDATE conversations SET assignee_id = ? WHERE id = ?", sam.ID, first.ID).Error)
	for _, q := range []models.InboxQuery{
		{Viewer: sam, Section: models.SectionCustomers, Status: models.StatusOpen},
		{Viewer: sam, Section: models.SectionMine, Status: models.StatusOpen},
	} {
		got, err := models.ListInbox(ctx, db, q)
		require.NoError(t, err)
		want, err := models.ListInboxByGORM(ctx, db, q)
		require.NoError(t, err)
		require.NotEmpty(t, want, q.Section)
		assert.Equal(t, want, got, q.Section)
	}

	// The desk settings, arrays and NULLs included, as the widget's writes
	// hold them (settingsForWrite).
	require.NoError(t, db.Exec(`UPDATE desk_settings SET allowed_origins = '{"https://shop.example","https://b.example"}',
		file_types = '{}', auto_close_after_minutes = NULL, sla_first_minutes = 30 WHERE id = 1`).Error)
	settings, err := models.ReadPipelined[models.DeskSettings](ctx, db, []any{"SELECT * FROM desk_settings WHERE id = 1 FOR SHARE"})
	require.NoError(t, err)
	var wantSettings models.DeskSettings
	require.NoError(t, db.Take(&wantSettings, 1).Error)
	require.Len(t, settings[0], 1)
	assert.Equal(t, wantSettings, settings[0][0])
	// Also through database/sql, in a transaction GORM opened itself
	// (lib/pq's arrays then parse their text form).
	require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
		inTx, err := models.ReadPipelined[models.DeskSettings](ctx, tx, []any{"SELECT * FROM desk_settings WHERE id = 1 FOR SHARE"})
		require.NoError(t, err)
		assert.Equal(t, settings, inTx)
		return nil
	}))

	// A column without a field is skipped; NULL leaves a string or a time
	// at its zero value and a pointer nil; an embedded struct's fields are
	// filled, the outer field winning a name both have.
	type row struct {
		models.Conversation
		Subject string // shadows Conversation.Subject
		Extra   *string
	}
	rows, err := models.ReadPipelined[row](ctx, db, []any{`SELECT 7::bigint AS id, NULL::text AS subject, NULL::timestamptz AS created_at,
		NULL::bigint AS assignee_id, 'x' AS no_such_field, 'e' AS extra, 'win' AS subject`})
	require.NoError(t, err)
	require.Len(t, rows[0], 1)
	r := rows[0][0]
	assert.EqualValues(t, 7, r.ID)
	assert.Equal(t, "win", r.Subject)
	assert.Empty(t, r.Conversation.Subject)
	assert.True(t, r.CreatedAt.IsZero())
	assert.Nil(t, r.AssigneeID)
	require.NotNil(t, r.Extra)
	assert.Equal(t, "e", *r.Extra)

	require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
		inTx, err := models.ReadPipelined[row](ctx, tx, []any{`SELECT 7::bigint AS id, NULL::text AS subject, NULL::timestamptz AS created_at,
			NULL::bigint AS assignee_id, 'x' AS no_such_field, 'e' AS extra, 'win' AS subject`})
		require.NoError(t, err)
		assert.Equal(t, rows, inTx)
		return nil
	}))

	// Nested columns fill the relation they name, made only when its row
	// is there: a customer's message has no AuthorUser.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessageWithOpts(ctx, tx, models.Actor{User: sam}, first, models.MessageText, "hello", models.PostOpts{})
	})
	require.NoError(t, err)
	msgs, err := models.ReadPipelined[models.Message](ctx, db, []any{models.MessageWithAuthors + " ORDER BY messages.id"})
	require.NoError(t, err)
	var wantMsgs []models.Message
	require.NoError(t, db.Raw(models.MessageWithAuthors+" ORDER BY messages.id").Scan(&wantMsgs).Error)
	require.Equal(t, wantMsgs, msgs[0])
	var authors, customers int
	for _, m := range msgs[0] {
		if m.AuthorUser != nil {
			authors++
			assert.Equal(t, "Sam", m.AuthorUser.Name)
			assert.Nil(t, m.AuthorCustomer)
		}
		if m.AuthorCustomer != nil {
			customers++
		}
	}
	assert.Equal(t, 1, authors)
	assert.Positive(t, customers)

	// A struct embedded with a prefix takes the prefixed columns, as GORM's
	// embeddedPrefix (the session lookup's user).
	type prefixed struct {
		models.Conversation
		Owner models.User `gorm:"embedded;embeddedPrefix:u_"`
	}
	const prefixedSQL = `SELECT 3::bigint AS id, 9::bigint AS u_id, 'Ann' AS u_name, true AS u_active, 'x' AS name`
	pre, err := models.ReadPipelined[prefixed](ctx, db, []any{prefixedSQL})
	require.NoError(t, err)
	var wantPre []prefixed
	require.NoError(t, db.Raw(prefixedSQL).Scan(&wantPre).Error)
	require.Equal(t, wantPre, pre[0])
	assert.EqualValues(t, 3, pre[0][0].ID)
	assert.EqualValues(t, 9, pre[0][0].Owner.ID)
	assert.Equal(t, "Ann", pre[0][0].Owner.Name)
	assert.True(t, pre[0][0].Owner.Active)

	// A failing statement fails the whole read.
	_, err = models.ReadPipelined[row](ctx, db, []any{"SELECT 1 AS id"}, []any{"SELECT * FROM no_such_table"})
	require.Error(t, err)
}

func TestPositionalArguments(t *testing.T) {
	t.Parallel()
	q, args := models.Positional(`SELECT @me, '@me', "@conv", @conv, @me, @unknown, x@conv_2 FROM t WHERE a = @conv`,
		map[string]any{"me": 1, "conv": 2, "conv_2": 3})
	assert.Equal(t, `SELECT $1, '@me', "@conv", $2, $1, @unknown, x$3 FROM t WHERE a = $2`, q)
	assert.Equal(t, []any{1, 2, 3}, args)

	q, args = models.Positional(`a IN @list AND b = ANY(@arr) AND c = @me AND d = ANY(@native)`,
		map[string]any{"list": []string{"x", "y"}, "arr": pq.Int64Array{4, 5}, "me": 1, "native": models.AsArray([]int64{6, 7})})
	assert.Equal(t, `a IN ($1,$2) AND b = ANY($3) AND c = $4 AND d = ANY($5)`, q)
	assert.Equal(t, []any{"x", "y", pq.Int64Array{4, 5}, 1, []int64{6, 7}}, args)
}

// Behind PgBouncer the pool sends no prepared statements
// (QueryExecModeExec, app.openPool): a pipelined read works there too.
func TestPipelinedReadsWithoutPreparedStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := gormOnPool(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec })
	got, err := models.ReadPipelined[models.Conversation](ctx, db,
		[]any{"SELECT * FROM conversations WHERE id = $1", int64(1)},
		[]any{"SELECT 5::bigint AS id, 'x' AS subject"})
	require.NoError(t, err)
	require.Empty(t, got[0])
	require.Len(t, got[1], 1)
	assert.Equal(t, "x", got[1][0].Subject)
}

// gormOnPool is GORM over a pool of the test's own database, configured by
// set (a tracer, PgBouncer's exec mode). The pool is the test's alone and
// closes with it: dbtest.Pool would hand it, configured so, to the next
// test on the database.
func gormOnPool(t *testing.T, set func(*pgxpool.Config)) *gorm.DB {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dbtest.URL(t))
	require.NoError(t, err)
	set(cfg)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return gormOver(t, pool)
}
