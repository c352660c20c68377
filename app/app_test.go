package app

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/migrations"
	"github.com/parleydesk/parley/models"
)

func TestUnknownRouteIs404Page(t *testing.T) {
	t.Parallel()
	e := setup(t)
	res := e.browser().get("/no/such/page")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Equal(t, "Page not found", res.text("h1"))
	assert.NotEmpty(t, res.text(".request-id"))

	// htmx requests get a toast instead.
	res = e.browser().get("/no/such/page", "HX-Request", "true")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Contains(t, res.Header.Get("HX-Trigger"), `"toast"`)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	res := b.get("/healthz")
	require.Equal(t, http.StatusOK, res.StatusCode)
	res = b.get("/readyz")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)

	// A database missing a migration is not ready.
	require.NoError(t, e.db.Exec("DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)").Error)
	res = b.get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
}

func TestMigrationsTwiceAreANoOp(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var before int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM goose_db_version").Scan(&before).Error)
	require.NoError(t, migrations.Up(context.Background(), e.app.sql))
	require.NoError(t, migrations.Up(context.Background(), e.app.sql))
	var after int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM goose_db_version").Scan(&after).Error)
	require.Equal(t, before, after)
	pending, err := migrations.Pending(context.Background(), e.app.sql)
	require.NoError(t, err)
	require.False(t, pending)
}

func TestLanguageFromBrowserAndFromSetting(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	res := b.get("/login", "Accept-Language", "pt-BR,pt;q=0.9")
	assert.Equal(t, "Entrar", res.text("h1"))
	assert.Equal(t, "pt-BR", res.doc.Find("html").AttrOr("lang", ""))
	res = b.get("/login", "Accept-Language", "fr-CA")
	assert.Equal(t, "Connexion", res.text("h1"))

	b.login("ada@example.com")
	res = b.post("/account/language", url.Values{"locale": {"fr"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = b.get("/account", "Accept-Language", "en")
	assert.Equal(t, "Mon compte", res.text("h1"), "the user's setting wins over the browser")
	assert.Equal(t, "Langue enregistrée.", res.text("#toasts"))

	res = b.post("/account/language", url.Values{"locale": {"klingon"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
}

func TestChangeOwnPassword(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	other := e.browser()
	other.login("ada@example.com")
	b := e.browser()
	b.login("ada@example.com")
	b.get("/account")

	res := b.post("/account/password", url.Values{"current_password": {"wrong one"}, "password": {"brand new pass"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Your current password is not correct.", res.text("#e-current_password"))

	res = b.post("/account/password", url.Values{"current_password": {"correct horse"}, "password": {"brand new pass"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, http.StatusOK, b.get("/account").StatusCode, "this browser stays signed in")
	require.Equal(t, http.StatusSeeOther, other.get("/account").StatusCode, "other browsers are signed out")
}

// probeArgs is a job kind that only tests register: running it records the
// job's id, so a test can see which jobs ran.
type probeArgs struct{ Tag string }

func (probeArgs) Kind() string { return "test_probe" }

type probeWorker struct {
	river.WorkerDefaults[probeArgs]
	ran chan string
}

func (w *probeWorker) Work(ctx context.Context, job *river.Job[probeArgs]) error {
	w.ran <- job.Args.Tag
	return nil
}

func TestJobInsertedInTransactionRunsOnlyIfCommitted(t *testing.T) {
	t.Parallel()
	ran := make(chan string, 10)
	e := setup(t, envOpts{startJobs: true, workers: func(w *river.Workers) { river.AddWorker(w, &probeWorker{ran: ran}) }})
	ctx := context.Background()

	rolledBack := models.Transaction(context.Background(), e.db, func(tx *gorm.DB) error {
		if _, err := models.CreateTeam(ctx, tx, "Doomed"); err != nil {
			return err
		}
		if err := e.app.InsertJobTx(ctx, tx, probeArgs{Tag: "rolled-back"}, nil); err != nil {
			return err
		}
		return sql.ErrTxDone // any error rolls back
	})
	require.ErrorIs(t, rolledBack, sql.ErrTxDone)

	require.NoError(t, models.Transaction(context.Background(), e.db, func(tx *gorm.DB) error {
		if _, err := models.CreateTeam(ctx, tx, "Kept"); err != nil {
			return err
		}
		return e.app.InsertJobTx(ctx, tx, probeArgs{Tag: "committed"}, nil)
	}))

	select {
	case tag := <-ran:
		require.Equal(t, "committed", tag)
	case <-time.After(15 * time.Second):
		t.Fatal("the committed job did not run")
	}
	var jobs int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM river_job WHERE kind = 'test_probe'").Scan(&jobs).Error)
	require.EqualValues(t, 1, jobs, "the rolled-back job was never stored")
	select {
	case tag := <-ran:
		t.Fatalf("unexpected job ran: %s", tag)
	case <-time.After(300 * time.Millisecond):
	}
	err := e.app.InsertJobTx(ctx, e.db, probeArgs{Tag: "outside"}, nil)
	require.Error(t, err, "InsertJobTx refuses to run outside a transaction")
	err = e.db.Transaction(func(tx *gorm.DB) error {
		return e.app.InsertJobTx(ctx, tx, probeArgs{Tag: "unheld"}, nil)
	})
	require.ErrorContains(t, err, "not opened by models.Transaction",
		"a transaction whose connection is not held cannot lend it to River")
}

func TestCleanupJobDeletesExpiredSessions(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.login("ada@example.com")
	require.NoError(t, e.db.Exec("UPDATE sessions SET expires_at = now() - interval '1 hour'").Error)
	require.NoError(t, models.Transaction(context.Background(), e.db, func(tx *gorm.DB) error {
		return e.app.InsertJobTx(context.Background(), tx, cleanupArgs(), nil)
	}))
	require.Eventually(t, func() bool {
		var n int64
		e.db.Model(&models.Session{}).Count(&n)
		return n == 0
	}, 15*time.Second, 50*time.Millisecond)
}
