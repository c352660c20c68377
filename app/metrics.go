package app

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics in Prometheus's text format, for operators: request latency per
// route, open streams, how long events take from their write to their
// dispatch, River's queues, the database pool, and Go's runtime. Served on
// PARLEY_METRICS_LISTEN (an address of its own, to keep private) and, when
// PARLEY_METRICS_TOKEN is set, at /metrics on the main address to a scraper
// that sends "Authorization: Bearer <token>"; anyone else gets a 404 there.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	lag      prometheus.Histogram
}

func (a *App) newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "parley_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route (the URL pattern, not the URL), method and status class; event streams are counted when they end.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "status"})
	m.lag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "parley_realtime_lag_seconds",
		Help:    "Time from an event's write to its dispatch to this instance's streams (broker lag).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	streams := func(customer bool) func() float64 {
		return func() float64 {
			staff, customers := a.rt.Counts()
			if customer {
				return float64(customers)
			}
			return float64(staff)
		}
	}
	m.reg.MustRegister(
		m.requests, m.lag,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_streams_open", Help: "Open event streams on this instance.", ConstLabels: prometheus.Labels{"audience": "staff"}}, streams(false)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_streams_open", Help: "Open event streams on this instance.", ConstLabels: prometheus.Labels{"audience": "customer"}}, streams(true)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_db_pool_connections", Help: "Database pool connections by state.", ConstLabels: prometheus.Labels{"state": "acquired"}},
			func() float64 { return float64(a.pool.Stat().AcquiredConns()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_db_pool_connections", Help: "Database pool connections by state.", ConstLabels: prometheus.Labels{"state": "idle"}},
			func() float64 { return float64(a.pool.Stat().IdleConns()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_db_pool_max_connections", Help: "The database pool's size (PARLEY_DB_MAX_CONNS)."},
			func() float64 { return float64(a.pool.Stat().MaxConns()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_db_pool_acquires_total", Help: "Connections taken from the database pool."},
			func() float64 { return float64(a.pool.Stat().AcquireCount()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_db_pool_empty_acquires_total", Help: "Acquires that waited because every connection was in use."},
			func() float64 { return float64(a.pool.Stat().EmptyAcquireCount()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "parley_db_pool_acquire_wait_seconds_total", Help: "Time spent waiting for a database connection."},
			func() float64 { return a.pool.Stat().AcquireDuration().Seconds() }),
		jobsCollector{a: a},
	)
	return m
}

// observe records one request (middleware, outermost after the request
// id); an App without metrics (tests of the edge alone) passes through.
func (m *metrics) observe(next echo.HandlerFunc) echo.HandlerFunc {
	if m == nil {
		return next
	}
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if he, ok := err.(*echo.HTTPError); ok && !c.Response().Committed {
			status = he.Code
		}
		route := c.Path() // the pattern: bounded, unlike the URL
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(status/100)+"xx").Observe(time.Since(start).Seconds())
		return err
	}
}

// serveMetrics answers /metrics on the main address: only to the token.
func (a *App) serveMetrics(c echo.Context) error {
	want := a.cfg.MetricsToken
	got, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
	if want == "" || !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return echo.ErrNotFound
	}
	a.metricsHandler().ServeHTTP(c.Response(), c.Request())
	return nil
}

func (a *App) metricsHandler() http.Handler {
	return promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{ErrorLog: nil})
}

// serveMetricsListen serves /metrics alone on PARLEY_METRICS_LISTEN.
func (a *App) serveMetricsListen() {
	mux := http.NewServeMux()
	mux.Handle("/metrics", a.metricsHandler())
	srv := &http.Server{Addr: a.cfg.MetricsListen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-a.stopping
		_ = srv.Close()
	}()
	a.log.Info("metrics listening", "addr", a.cfg.MetricsListen)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		a.log.Error("metrics listener", "err", err)
	}
}

// jobsCollector reads River's queues at scrape time: jobs per queue and
// state (available, scheduled, retryable, running; discarded in the last
// 24 hours, the failures that need a person).
type jobsCollector struct{ a *App }

var jobsDesc = prometheus.NewDesc("parley_jobs", "Background jobs by queue and state (discarded: in the last 24 hours).", []string{"queue", "state"}, nil)

func (jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (j jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := j.a.pool.Query(ctx, `
		SELECT queue, state::text, count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running')
		   OR (state = 'discarded' AND finalized_at > now() - interval '24 hours')
		GROUP BY 1, 2`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var queue, state string
		var n int64
		if err := rows.Scan(&queue, &state, &n); err != nil {
			ch <- prometheus.NewInvalidMetric(jobsDesc, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), queue, state)
	}
	if err := rows.Err(); err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
	}
}
