package app

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadConfigPooler: PgBouncer needs a direct URL beside it, and only
// known poolers are accepted.
func TestLoadConfigPooler(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(map[string]string{"DATABASE_URL": "postgres://u@bouncer:6432/parley",
		"PARLEY_DIRECT_DATABASE_URL": "postgres://u@db:5432/parley", "PARLEY_DB_POOLER": "PgBouncer"}))
	require.NoError(t, err)
	assert.Equal(t, "pgbouncer", c.DBPooler)
	assert.Equal(t, "postgres://u@db:5432/parley", c.DirectDatabaseURL)
	for name, m := range map[string]map[string]string{
		"no direct URL":       {"DATABASE_URL": "postgres://u@bouncer:6432/parley", "PARLEY_DB_POOLER": "pgbouncer"},
		"unknown pooler":      {"DATABASE_URL": "postgres://u@b/p", "PARLEY_DIRECT_DATABASE_URL": "postgres://u@d/p", "PARLEY_DB_POOLER": "odyssey"},
		"direct without main": {"PARLEY_DIRECT_DATABASE_URL": "postgres://u@d/p"},
		"direct not a PG URL": {"DATABASE_URL": "postgres://u@b/p", "PARLEY_DIRECT_DATABASE_URL": "mysql://x"},
		"pooler, private PG":  {"PARLEY_DB_POOLER": "pgbouncer"},
	} {
		_, err := LoadConfig(env(m))
		require.Error(t, err, name)
		assert.Regexp(t, "PARLEY_DB_POOLER|PARLEY_DIRECT_DATABASE_URL", err.Error(), name)
	}
}

// TestOpenPoolForPgBouncer: behind PgBouncer the pool prepares nothing and
// sends only startup parameters PgBouncer tracks; the URL may still choose
// its own exec mode.
func TestOpenPoolForPgBouncer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// pgxpool connects lazily: no server is needed to read the config.
	p, err := openPoolFor(ctx, "postgres://u@127.0.0.1:1/parley", 4, nil, "pgbouncer")
	require.NoError(t, err)
	defer p.Close()
	cc := p.Config().ConnConfig
	assert.Equal(t, pgx.QueryExecModeExec, cc.DefaultQueryExecMode)
	assert.NotContains(t, cc.RuntimeParams, "jit")
	assert.Equal(t, "UTC", cc.RuntimeParams["timezone"])

	p2, err := openPoolFor(ctx, "postgres://u@127.0.0.1:1/parley?default_query_exec_mode=simple_protocol", 4, nil, "pgbouncer")
	require.NoError(t, err)
	defer p2.Close()
	assert.Equal(t, pgx.QueryExecModeSimpleProtocol, p2.Config().ConnConfig.DefaultQueryExecMode)

	p3, err := openPool(ctx, "postgres://u@127.0.0.1:1/parley", 4, nil)
	require.NoError(t, err)
	defer p3.Close()
	assert.Equal(t, pgx.QueryExecModeCacheStatement, p3.Config().ConnConfig.DefaultQueryExecMode)
	assert.Equal(t, "off", p3.Config().ConnConfig.RuntimeParams["jit"])
}
