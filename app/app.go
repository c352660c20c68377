// Package app wires Parley together and serves it over HTTP: the database
// (the private PostgreSQL or DATABASE_URL), one pgx pool shared by GORM and
// River, the echo router, middleware (request id, sessions, CSRF, language)
// and the handlers. Domain rules live in models; app reads requests, calls
// one domain operation and renders.
package app

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/labstack/echo/v4"
	"github.com/pion/turn/v4"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/parleydesk/parley/app/live"
	"github.com/parleydesk/parley/internal/pgembed"
	"github.com/parleydesk/parley/jobs"
	"github.com/parleydesk/parley/migrations"
	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/storage"
)

// App is one running Parley instance. Several instances may share one
// database; everything they must agree on lives in PostgreSQL.
type App struct {
	cfg  Config
	log  *slog.Logger
	pg   *pgembed.Server // nil when DATABASE_URL is set
	pool *pgxpool.Pool
	// poolShared: the pool came from Options.Pool, and Close leaves it open.
	poolShared bool
	// direct reaches PostgreSQL itself, never through a pooler: migrations,
	// River's worker client and the broker's LISTEN need a session of their
	// own (PARLEY_DIRECT_DATABASE_URL). It is pool when no direct URL is set.
	direct  *pgxpool.Pool
	metrics *metrics
	sql     *sql.DB
	db      *gorm.DB

	// river works jobs (pgx driver, polling for new ones); inserter puts
	// jobs into the app's transactions (pgx driver on the transaction's
	// own connection, lent by models.WithPgxTx).
	river    *river.Client[pgx.Tx]
	inserter *river.Client[pgx.Tx]
	// writer runs every change with its events and follow-up jobs (App.write);
	// the workers share it.
	writer *jobs.Writer

	echo *echo.Echo
	// bodyRules are the request-body rules routes declare (edge.go).
	bodyRules map[string]bodyRule
	// jobsUI is River's admin UI, mounted under /admin/jobs.
	jobsUI      http.Handler
	loginLimits models.LoginLimits
	rt          *live.Broker
	hub         *live.Hub

	// widgetLimits rate-limits the public widget endpoints; settingsMemo
	// shares one settings read among the widget streams of a batch.
	widgetLimits *widgetLimiters
	settingsMemo settingsMemo
	// rows reads the desk streams' live rows of one moment together.
	rows rowsLoader
	// generic keeps connections on generic plans for live delivery's
	// reads (models.GenericReads; nil behind PgBouncer).
	generic *models.GenericReads
	// settings keeps the desk settings a response only displays (the
	// composer's file limits after a post), dropped on their event.
	settings settingsCache
	// signals throttles typing and presence signals per sender
	// (desk_typing.go).
	signals signalGate

	// files keeps the bytes of files sent in conversations (local disk or
	// S3); scanner, when configured, scans every upload (files.go).
	files   storage.Store
	scanner *storage.Clamd
	// fileKey signs download links (loaded once: fileSecret).
	fileKeyMu sync.Mutex
	fileKey   []byte
	// turn is the embedded TURN server (rtc_ice.go), nil when off; turnURL
	// is how browsers reach it and turnSecret signs its credentials.
	turn       *turn.Server
	turnURL    string
	turnSecret string

	// bg scopes the instance's background goroutines (the realtime broker);
	// Close cancels it.
	bg       context.Context
	bgCancel context.CancelFunc

	// stopping is closed when shutdown begins, so long-lived streams end
	// instead of holding the HTTP server open.
	stopping  chan struct{}
	stopOnce  sync.Once
	closeOnce sync.Once
	closeErr  error
}

// Options adjust an App beyond its Config; the zero value is production.
type Options struct {
	// Logger receives every log line; nil builds one from the Config.
	Logger *slog.Logger
	// Workers registers extra River workers (tests use it for probe jobs).
	Workers func(*river.Workers)
	// LoginLimits overrides models.DefaultLoginLimits.
	LoginLimits *models.LoginLimits
	// WidgetLimits overrides the widget's rate limits (non-zero fields win
	// over the Config's and the defaults).
	WidgetLimits *WidgetLimits
	// WrapMailer wraps the configured mailer (tests inject faults with it).
	WrapMailer func(jobs.Mailer) jobs.Mailer
	// Pool is the database pool to use instead of opening one on
	// DATABASE_URL; Close leaves it open (tests hand one pool, and its warm
	// connections, from one test to the next on the same database).
	Pool *pgxpool.Pool
	// Tracer, when set, sees every statement of the pool New opens
	// (benchmarks count round trips with it); the direct pool
	// (PARLEY_DIRECT_DATABASE_URL: River, LISTEN, migrations) is not traced.
	Tracer pgx.QueryTracer
}

// New connects to the database (starting the private PostgreSQL when no
// DATABASE_URL is set), applies migrations and builds the HTTP handler and
// job clients. Call Run to serve, or Close to release what New opened.
func New(ctx context.Context, cfg Config, opts Options) (_ *App, err error) {
	a := &App{cfg: cfg, log: opts.Logger, stopping: make(chan struct{}), loginLimits: models.DefaultLoginLimits}
	if a.log == nil {
		a.log = slog.Default()
	}
	if opts.LoginLimits != nil {
		a.loginLimits = *opts.LoginLimits
	}
	wl := WidgetLimits{VisitorPosts: cfg.WidgetRateVisitor, IPPosts: cfg.WidgetRateIP}
	if o := opts.WidgetLimits; o != nil {
		wl = WidgetLimits{VisitorPosts: cmp.Or(o.VisitorPosts, wl.VisitorPosts), IPPosts: cmp.Or(o.IPPosts, wl.IPPosts),
			IPVisitors: o.IPVisitors, IPReads: o.IPReads, IPSupportKeys: o.IPSupportKeys}
	}
	a.widgetLimits = newWidgetLimiters(wl)
	defer func() {
		if err != nil {
			a.Close()
		}
	}()

	dsn := cfg.DatabaseURL
	if dsn == "" {
		start := time.Now()
		a.pg, err = pgembed.Start(ctx, pgembed.Options{Dir: filepath.Join(cfg.DataDir, "postgres"), Fsync: true, Logger: a.log})
		if err != nil {
			return nil, fmt.Errorf("start the private PostgreSQL: %w", err)
		}
		if err = a.pg.EnsureDatabase(ctx, "parley"); err != nil {
			return nil, err
		}
		a.log.Info("private PostgreSQL ready", "dir", a.pg.Dir(), "socket", a.pg.SocketDir(), "took", time.Since(start).Round(time.Millisecond))
		dsn = a.pg.URL("parley")
	}

	if opts.Pool != nil {
		a.pool, a.poolShared = opts.Pool, true
	} else if a.pool, err = openPoolFor(ctx, dsn, cfg.DBMaxConns, opts.Tracer, cfg.DBPooler); err != nil {
		return nil, err
	}
	if err = a.pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	a.sql = stdlib.OpenDBFromPool(a.pool)
	a.direct = a.pool
	if cfg.DirectDatabaseURL != "" {
		if a.direct, err = openPool(ctx, cfg.DirectDatabaseURL, directMaxConns, nil); err != nil {
			return nil, fmt.Errorf("PARLEY_DIRECT_DATABASE_URL: %w", err)
		}
		if err = a.direct.Ping(ctx); err != nil {
			return nil, fmt.Errorf("connect to PostgreSQL (PARLEY_DIRECT_DATABASE_URL): %w", err)
		}
	}

	start := time.Now()
	// Migrations take a session advisory lock: on the direct connection.
	migrateDB := a.sql
	if a.direct != a.pool {
		migrateDB = stdlib.OpenDBFromPool(a.direct)
		defer migrateDB.Close()
	}
	if err = migrations.Up(ctx, migrateDB); err != nil {
		return nil, err
	}
	a.log.Debug("migrations applied", "took", time.Since(start).Round(time.Millisecond))

	a.db, err = gorm.Open(postgres.New(postgres.Config{Conn: a.sql}), &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open gorm: %w", err)
	}
	a.rows.db = a.db
	if cfg.DBPooler != "pgbouncer" {
		if a.generic, err = models.NewGenericReads(a.db); err != nil {
			return nil, fmt.Errorf("generic reads: %w", err)
		}
		a.rows.reads = a.generic
	}

	if a.files, err = openFileStore(ctx, cfg, a.log); err != nil {
		return nil, err
	}
	a.scanner = cfg.Clamd

	workers := river.NewWorkers()
	deps := jobs.Deps{DB: a.db, Log: a.log, InsertTx: a.InsertJobsTx, Files: a.files,
		BaseURL: cfg.BaseURL.String(), CustomerEmailDelay: cfg.CustomerEmailDelay,
		Ring: func() {
			if a.rt != nil {
				a.rt.Ring()
			}
		},
		// What this instance commits reaches its own streams at once; the
		// doorbell and the horizon still deliver it everywhere else. Its
		// copy of the settings is dropped here, before the write's answer,
		// so the next page this instance serves shows what was saved.
		Committed: func(evs []models.Event) {
			a.settings.observe(evs)
			if a.rt != nil {
				a.rt.HandOff(evs)
			}
		}}
	if deps.Mailer, err = newMailer(cfg.SMTP); err != nil {
		return nil, err
	}
	deps.SMS = newSMSSender(cfg.SMS)
	if opts.WrapMailer != nil && deps.Mailer != nil {
		deps.Mailer = opts.WrapMailer(deps.Mailer)
	}
	a.writer = deps.NewWriter()
	deps.Writer = a.writer
	jobs.Register(workers, deps)
	if opts.Workers != nil {
		opts.Workers(workers)
	}
	// The worker client elects a leader and listens for River's own
	// notifications: on the direct pool (the inserter below writes inside
	// the app's transactions, on their own connections).
	a.river, err = river.NewClient(riverpgxv5.New(a.direct), &river.Config{
		Logger:       a.log.With("component", "river"),
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}, jobs.QueueMail: {MaxWorkers: jobs.MailWorkers}},
		Workers:      workers,
		PeriodicJobs: jobs.Periodic(),
		// Jobs are inserted inside the writes that cause them, where a NOTIFY
		// would serialize commits (see the insert-only client below): new
		// jobs are found by polling, every 100 ms (one cheap query per queue).
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 100 * time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	// It has no pool of its own: it only inserts, inside transactions it is
	// given (models.WithPgxTx), with pgx's encoding (database/sql's driver
	// spelled its arrays as text for pgx to parse again).
	a.inserter, err = river.NewClient(riverpgxv5.New(nil), &river.Config{
		Logger:  a.log.With("component", "river-insert"),
		Workers: workers,
		// River sends a NOTIFY from the inserting transaction at most once
		// per cooldown and queue. Inside every message's transaction that
		// serializes commits (measured: p99 delivery 40 → 159 ms at 200
		// msg/s), so this client effectively never does; the workers poll.
		FetchCooldown:     time.Hour,
		FetchPollInterval: time.Hour, // (never started: it only inserts)
	})
	if err != nil {
		return nil, fmt.Errorf("river insert client: %w", err)
	}

	a.bg, a.bgCancel = context.WithCancel(context.WithoutCancel(ctx))
	a.rt = live.NewBroker(a.log, a.db, a.pool)
	a.rt.UseGenericReads(a.generic)
	a.rt.ListenOn(a.direct.Config().ConnConfig)
	a.metrics = a.newMetrics()
	a.rt.ObserveLag(func(d time.Duration) { a.metrics.lag.Observe(d.Seconds()) })
	a.rt.ObserveEvents(a.settings.observe)
	if err = a.rt.Start(a.bg); err != nil {
		return nil, fmt.Errorf("start realtime: %w", err)
	}
	a.hub = live.NewHub(a.log, a.rt)
	a.hub.Start(a.bg)

	if err = a.startTURN(ctx); err != nil {
		return nil, err
	}
	if err = a.mountJobsUI(); err != nil {
		return nil, err
	}
	a.echo = a.newEcho()
	return a, nil
}

// openFileStore opens the configured file storage: the S3-compatible
// bucket when PARLEY_S3_ENDPOINT is set (created if missing; an unreachable
// server is logged, and uploads answer 503 until it is back), else the
// files directory.
func openFileStore(ctx context.Context, cfg Config, log *slog.Logger) (storage.Store, error) {
	if cfg.S3.Endpoint == "" {
		return storage.NewLocal(cfg.FilesDir)
	}
	s3, err := storage.NewS3(cfg.S3)
	if err != nil {
		return nil, err
	}
	bctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s3.EnsureBucket(bctx); err != nil {
		log.Warn("file storage not reachable yet", "endpoint", cfg.S3.Endpoint, "err", err)
	}
	return s3, nil
}

// directMaxConns sizes the direct pool (PARLEY_DIRECT_DATABASE_URL): River's
// worker client (fetches, completions, leader election, its notifier) and
// migrations; the broker's LISTEN has a connection of its own besides.
const directMaxConns = 8

// openPool opens a pgx pool straight to PostgreSQL (no pooler between);
// tracer, when set, sees its statements.
func openPool(ctx context.Context, dsn string, maxConns int32, tracer pgx.QueryTracer) (*pgxpool.Pool, error) {
	return openPoolFor(ctx, dsn, maxConns, tracer, "")
}

// openPoolFor opens a pgx pool of an instance on dsn. pooler is
// PARLEY_DB_POOLER: with "pgbouncer" (transaction pooling; 1.18 has no
// prepared statements), queries use QueryExecModeExec (the extended
// protocol with the unnamed statement: one round trip, parameters still
// bound by the server, nothing cached that a schema change could make
// stale) unless the URL chose a default_query_exec_mode, and no startup
// parameter PgBouncer would refuse is sent (set jit=off with PgBouncer's
// connect_query or ALTER DATABASE instead; docs/deploy.md).
func openPoolFor(ctx context.Context, dsn string, maxConns int32, tracer pgx.QueryTracer, pooler string) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pcfg.MaxConns = maxConns
	pcfg.ConnConfig.Tracer = tracer
	if pcfg.ConnConfig.RuntimeParams == nil {
		pcfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	// (PgBouncer tracks TimeZone and application_name per client.)
	pcfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pcfg.ConnConfig.RuntimeParams["application_name"] = "parley"
	if pooler == "pgbouncer" {
		if !strings.Contains(dsn, "default_query_exec_mode") {
			pcfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
		}
	} else if _, set := pcfg.ConnConfig.RuntimeParams["jit"]; !set {
		// JIT compiling costs hundreds of milliseconds on the list and count
		// queries once tables hold ~100,000 rows (their estimated cost
		// crosses jit_above_cost) and never pays off for short OLTP queries.
		pcfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pool, nil
}

// Handler is the HTTP handler serving every route.
func (a *App) Handler() http.Handler { return a.echo }

// DB is the GORM handle (for commands such as "parley user").
func (a *App) DB() *gorm.DB { return a.db }

// Write runs a change as one unit of work, as handlers do (App.write): for
// commands that change what live desks hear of.
func (a *App) Write(ctx context.Context, fn func(tx models.Tx) error) error { return a.write(ctx, fn) }

// StartJobs starts working River jobs; Run calls it, tests may too.
func (a *App) StartJobs(ctx context.Context) error {
	if err := a.river.Start(ctx); err != nil {
		return fmt.Errorf("start jobs: %w", err)
	}
	return nil
}

// InsertJobTx inserts a job inside tx, a transaction opened by
// models.Transaction: the job exists if and only if tx commits.
func (a *App) InsertJobTx(ctx context.Context, tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) error {
	err := models.WithPgxTx(tx, func(ptx pgx.Tx) error {
		_, err := a.inserter.InsertTx(ctx, ptx, args, opts)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return nil
}

// Run serves HTTP on the configured address until ctx is cancelled, then
// shuts down gracefully: stop accepting, end streams, drain requests, stop
// River, close the pool and stop the private PostgreSQL.
func (a *App) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s (PARLEY_LISTEN): %w", a.cfg.Listen, err)
	}
	return a.Serve(ctx, ln)
}

// Serve is Run on an existing listener.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	defer a.Close()
	// River stops through Close, gracefully; cancelling its start context
	// would abort jobs and maintenance mid-transaction instead.
	if err := a.StartJobs(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.echo,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		// No WriteTimeout: it would cut live event streams.
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(a.beginStopping)
	if a.cfg.DebugListen != "" {
		go a.serveDebug()
	}
	if a.cfg.MetricsListen != "" {
		go a.serveMetricsListen()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("Parley is running", "url", a.cfg.BaseURL.String(), "listen", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		a.log.Warn("http shutdown", "err", err)
	}
	return nil
}

// serveDebug serves the Go profiler on its own (private) address.
func (a *App) serveDebug() {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	a.log.Info("profiler listening", "addr", a.cfg.DebugListen)
	if err := http.ListenAndServe(a.cfg.DebugListen, mux); err != nil {
		a.log.Warn("profiler", "err", err)
	}
}

// beginStopping ends live streams: their clients reconnect (to another
// instance, or to this one once it is back) and resume where they were.
func (a *App) beginStopping() {
	a.stopOnce.Do(func() {
		close(a.stopping)
		if a.hub != nil {
			a.hub.CloseAll()
		}
	})
}

// Close stops River, closes the pool and stops the private PostgreSQL. It is
// safe to call more than once.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		a.beginStopping()
		a.stopTURN()
		if a.bgCancel != nil {
			a.bgCancel()
		}
		if a.river != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := a.river.Stop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				a.log.Warn("stop jobs", "err", err)
			}
			cancel()
		}
		a.generic.Close() // its connections go back before the pool closes
		if a.sql != nil {
			a.sql.Close()
		}
		if a.direct != nil && a.direct != a.pool {
			a.direct.Close()
		}
		if a.pool != nil && !a.poolShared {
			a.pool.Close()
		}
		if a.pg != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			a.closeErr = a.pg.Stop(ctx)
			cancel()
			if a.closeErr == nil {
				a.log.Info("private PostgreSQL stopped")
			}
		}
	})
	return a.closeErr
}
