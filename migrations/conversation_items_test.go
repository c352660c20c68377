package migrations_test

import (
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/dbtest"
	"github.com/parleydesk/parley/migrations"
)

// 00032 carries every link of conversations.item_id into
// conversation_items, and keeps carrying what an instance of the previous
// release writes there during a rolling deploy; rolled back, the first link
// of each conversation is its item again.
func TestConversationItemsMigration(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("pgx", dbtest.FreshURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	var version int64
	require.NoError(t, db.QueryRowContext(ctx, "SELECT max(version_id) FROM goose_db_version WHERE is_applied").Scan(&version))
	for version > 32 {
		require.NoError(t, migrations.DownOne(ctx, db))
		require.NoError(t, db.QueryRowContext(ctx, "SELECT max(version_id) FROM goose_db_version WHERE is_applied").Scan(&version))
	}
	require.Equal(t, int64(32), version)
	require.NoError(t, migrations.DownOne(ctx, db))

	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		require.NoError(t, err)
	}
	one := func(q string, args ...any) (n int64) {
		t.Helper()
		require.NoError(t, db.QueryRowContext(ctx, q, args...).Scan(&n))
		return n
	}
	item := func(n int) int64 {
		return one("INSERT INTO items (kind, number, title, status) VALUES ('ticket', $1, 'x', 'open') RETURNING id", n)
	}
	conv := func() int64 {
		return one("INSERT INTO conversations (kind, channel) VALUES ('internal', 'internal') RETURNING id")
	}
	i1, i2 := item(1), item(2)
	c1, c2, c3 := conv(), conv(), conv()
	exec("UPDATE conversations SET item_id = $1 WHERE id IN ($2, $3)", i1, c1, c2)

	require.NoError(t, migrations.Up(ctx, db))
	version = one("SELECT max(version_id) FROM goose_db_version WHERE is_applied")
	links := func(c int64) (ids []int64) {
		t.Helper()
		rows, err := db.QueryContext(ctx, "SELECT item_id FROM conversation_items WHERE conversation_id = $1 ORDER BY item_id", c)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var id int64
			require.NoError(t, rows.Scan(&id))
			ids = append(ids, id)
		}
		require.NoError(t, rows.Err())
		return ids
	}
	assert.Equal(t, []int64{i1}, links(c1), "copied")
	assert.Equal(t, []int64{i1}, links(c2), "copied")
	assert.Empty(t, links(c3))

	// The previous release links and unlinks through item_id.
	exec("UPDATE conversations SET item_id = $1 WHERE id = $2", i2, c3)
	exec("UPDATE conversations SET item_id = NULL WHERE id = $1", c2)
	exec("UPDATE conversations SET item_id = $1 WHERE id = $2", i2, c1)
	assert.Equal(t, []int64{i2}, links(c3), "a link mirrored")
	assert.Empty(t, links(c2), "an unlink mirrored")
	assert.Equal(t, []int64{i2}, links(c1), "a relink mirrored")
	// This release's writes leave item_id alone.
	exec("INSERT INTO conversation_items (conversation_id, item_id) VALUES ($1, $2)", c2, i2)
	exec("UPDATE conversations SET updated_at = now() WHERE id = $1", c2)
	assert.Equal(t, []int64{i2}, links(c2))

	// Down to 31: the later migrations first, then 32's own down step.
	for version >= 32 {
		require.NoError(t, migrations.DownOne(ctx, db))
		version = one("SELECT max(version_id) FROM goose_db_version WHERE is_applied")
	}
	assert.Equal(t, int64(3), one("SELECT count(*) FROM conversations WHERE item_id = $1", i2), "the links are back in item_id")
	assert.Zero(t, one("SELECT count(*) FROM pg_class WHERE relname = 'conversation_items'"))
}
