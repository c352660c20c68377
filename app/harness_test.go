package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/app/live"
	"github.com/parleydesk/parley/internal/dbtest"
	"github.com/parleydesk/parley/jobs"
	"github.com/parleydesk/parley/models"
)

// testEnv is one Parley instance on its own database, served by httptest.
type testEnv struct {
	t   testing.TB
	app *App
	srv *httptest.Server
	db  *gorm.DB
	url string // the database URL, for a second instance on the same database
	// logs holds the instance's log lines.
	logs *syncBuffer
}

// envOpts adjust setup; the zero value is a plain instance.
type envOpts struct {
	workers      func(*river.Workers)
	startJobs    bool
	loginLimits  *models.LoginLimits
	widgetLimits *WidgetLimits
	url          string // database URL; empty makes a fresh database
	// config adds environment variables (PARLEY_SMTP_HOST…) to the test's.
	config map[string]string
	// wrapMailer wraps the SMTP mailer (to inject faults).
	wrapMailer func(jobs.Mailer) jobs.Mailer
	// statements, when set, counts the instance's statements (its own
	// pool, not the database's reused one).
	statements *statementCounter
}

// statementCounter counts the statements a pool sends (each one round
// trip), and keeps their text while recording.
type statementCounter struct {
	// requestsOnly counts only what HTTP requests send (their context
	// comes from the server), so the broker's reads and River's work,
	// which run on their own schedule, never blur a request's count.
	requestsOnly bool

	mu        sync.Mutex
	recording bool
	sqls      []string
}

func (s *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.record(ctx, d.SQL)
	return ctx
}

// TraceBatchStart counts a batch, pipelined in one round trip, as one
// statement: its statements joined by " ; ". The broker's doorbell is a
// batch too (BEGIN, SET LOCAL, pg_notify, COMMIT), sent on its own
// schedule: it is left out as its statements are.
func (s *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	qs := make([]string, len(d.Batch.QueuedQueries))
	for i, q := range d.Batch.QueuedQueries {
		qs[i] = q.SQL
		if !s.requestsOnly && brokersOwn(strings.Join(strings.Fields(q.SQL), " ")) {
			return ctx
		}
	}
	s.record(ctx, strings.Join(qs, " ; "))
	return ctx
}

// brokersOwn reports whether q is one of the realtime broker's own
// statements (its polls and its doorbell).
func brokersOwn(q string) bool {
	for _, broker := range []string{"WITH s AS (SELECT pg_current_snapshot()", "SELECT pg_notify(", "SELECT id, xid::text::bigint AS xid"} {
		if strings.HasPrefix(q, broker) {
			return true
		}
	}
	return false
}

func (s *statementCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (s *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (s *statementCounter) record(ctx context.Context, sql string) {
	if live.IsBrokerRead(ctx) {
		return // the broker's polls and hand-offs, on their own schedule
	}
	q := strings.Join(strings.Fields(sql), " ")
	if strings.HasPrefix(q, "/* reported events check */") {
		return // test binaries only (models.txEvents): a production write sends no such read
	}
	if s.requestsOnly {
		if ctx.Value(http.ServerContextKey) == nil {
			return
		}
	} else if brokersOwn(q) {
		return // the realtime broker's own polling, on its own schedule
	}
	s.mu.Lock()
	if s.recording {
		s.sqls = append(s.sqls, q)
	}
	s.mu.Unlock()
}

func (s *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// during returns the statements fn sent.
func (s *statementCounter) during(fn func()) []string {
	s.mu.Lock()
	s.recording, s.sqls = true, nil
	s.mu.Unlock()
	fn()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recording = false
	return s.sqls
}

// syncBuffer collects log lines; they are printed only when a test fails.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func setup(t testing.TB, opts ...envOpts) *testEnv {
	t.Helper()
	var o envOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	var pool *pgxpool.Pool
	if o.statements != nil {
		o.url = dbtest.URL(t)
		var err error
		pool, err = openPool(context.Background(), o.url, testMaxConns, o.statements)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
	} else if o.url == "" {
		o.url = dbtest.URL(t)
		// The database's pool, with its warm connections, goes to the
		// next test with the database.
		pool = dbtest.Pool(t, o.url, func(url string) (*pgxpool.Pool, error) {
			return openPool(context.Background(), url, testMaxConns, nil)
		})
	}
	// The server's address is known before the app starts, so the
	// configuration's base URL (links in emails) is the real one.
	srv := httptest.NewUnstartedServer(nil)
	filesDir := t.TempDir()
	cfg, err := LoadConfig(func(k string) string {
		if v, ok := o.config[k]; ok {
			return v
		}
		return map[string]string{"DATABASE_URL": o.url, "PARLEY_DB_MAX_CONNS": strconv.Itoa(testMaxConns),
			"PARLEY_BASE_URL": "http://" + srv.Listener.Addr().String(), "PARLEY_FILES_DIR": filesDir}[k]
	})
	require.NoError(t, err)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	a, err := New(ctx, cfg, Options{Logger: log, Workers: o.workers, LoginLimits: o.loginLimits, WidgetLimits: o.widgetLimits, WrapMailer: o.wrapMailer, Pool: pool})
	require.NoError(t, err)
	if o.startJobs {
		require.NoError(t, a.StartJobs(ctx))
	}
	srv.Config.Handler = a.Handler()
	srv.Start()
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		a.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testEnv{t: t, app: a, srv: srv, db: a.db, url: o.url, logs: logs}
}

// horizon is the stream position past every write committed so far, for a
// stream that must not replay them: the broker is polled first, since its
// cursor moves on its own schedule (a reply just posted may still be ahead
// of it).
func (e *testEnv) horizon() uint64 {
	e.t.Helper()
	require.NoError(e.t, e.app.rt.Poll(context.Background()))
	return e.app.rt.Cursor()
}

// testMaxConns sizes each test instance's pool (PARLEY_DB_MAX_CONNS).
const testMaxConns = 8

// user creates a staff user directly through the domain layer.
func (e *testEnv) user(name, email string, role models.Role, support bool) *models.User {
	e.t.Helper()
	u, err := models.CreateUser(context.Background(), e.db, models.UserInput{
		Name: name, Email: email, Password: "correct horse", Role: role, CustomerSupport: support,
	})
	require.NoError(e.t, err)
	return u
}

// browser is an HTTP client with cookies that does not follow redirects, so
// tests see each response as it is.
type browser struct {
	e      *testEnv
	client *http.Client
	csrf   string // the token from the last HTML page seen
}

func (e *testEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	*http.Response
	body string
	doc  *goquery.Document
}

func (b *browser) do(req *http.Request) *response {
	b.e.t.Helper()
	res, err := b.client.Do(req)
	require.NoError(b.e.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(b.e.t, err)
	r := &response{Response: res, body: string(body)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		r.doc, err = goquery.NewDocumentFromReader(bytes.NewReader(body))
		require.NoError(b.e.t, err)
		if tok, ok := r.doc.Find(`#page-meta`).Attr("data-csrf-token"); ok && tok != "" {
			b.csrf = tok
		}
	}
	return r
}

func (b *browser) get(path string, headers ...string) *response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	require.NoError(b.e.t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// post submits a form with the current CSRF token (unless values already
// has a _csrf entry, which tests of the CSRF check use).
func (b *browser) post(path string, values url.Values, headers ...string) *response {
	b.e.t.Helper()
	if values == nil {
		values = url.Values{}
	}
	if _, ok := values["_csrf"]; !ok {
		if b.csrf == "" {
			b.get("/login")
		}
		values.Set("_csrf", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(values.Encode()))
	require.NoError(b.e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// login signs in and fails the test if that does not work.
func (b *browser) login(email string) {
	b.e.t.Helper()
	b.get("/login")
	res := b.post("/login", url.Values{"email": {email}, "password": {"correct horse"}})
	require.Equal(b.e.t, http.StatusSeeOther, res.StatusCode, res.body)
	b.get("/account") // pick up the session's CSRF token
}

// text returns the whitespace-normalised text of the first match.
func (r *response) text(selector string) string {
	return strings.Join(strings.Fields(r.doc.Find(selector).First().Text()), " ")
}

func cleanupArgs() river.JobArgs { return jobs.CleanupArgs{} }

// unreadCounts is what a desk page asks for once loaded: the navigation's
// unread badges and the title's count.
func (b *browser) unreadCounts() *response {
	b.e.t.Helper()
	res := b.get("/desk/unread", "HX-Request", "true")
	require.Equal(b.e.t, http.StatusOK, res.StatusCode)
	return res
}
