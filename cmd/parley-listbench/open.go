package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// statements counts the statements an instance's pool sends (every query,
// exec and transaction command is one round trip); with trace set it also
// keeps their text.
type statements struct {
	n     atomic.Int64
	mu    sync.Mutex
	trace bool
	sqls  []string
}

type traceKey struct{}

type traced struct {
	sql   string
	start time.Time
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.n.Add(1)
	if s.trace {
		return context.WithValue(ctx, traceKey{}, traced{strings.Join(strings.Fields(d.SQL), " "), time.Now()})
	}
	return ctx
}

func (s *statements) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	s.traceEnd(ctx)
}

// TraceBatchStart counts a pipelined batch as one statement (one round
// trip); its trace shows the batch's statements joined by " ; ".
func (s *statements) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	s.n.Add(1)
	if s.trace {
		qs := make([]string, len(d.Batch.QueuedQueries))
		for i, q := range d.Batch.QueuedQueries {
			qs[i] = strings.Join(strings.Fields(q.SQL), " ")
		}
		return context.WithValue(ctx, traceKey{}, traced{"batch: " + strings.Join(qs, " ; "), time.Now()})
	}
	return ctx
}

func (s *statements) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (s *statements) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchEndData) {
	s.traceEnd(ctx)
}

// traceEnd keeps the trace of the statement (or batch) ctx started.
func (s *statements) traceEnd(ctx context.Context) {
	if t, ok := ctx.Value(traceKey{}).(traced); ok {
		if len(t.sql) > 150 {
			t.sql = t.sql[:150] + "…"
		}
		s.mu.Lock()
		s.sqls = append(s.sqls, fmt.Sprintf("%8.2f ms  %s", float64(time.Since(t.start).Microseconds())/1000, t.sql))
		s.mu.Unlock()
	}
}

// openKind is one way the desk opens a conversation.
type openKind struct {
	name    string
	headers map[string]string
	// path is the request's path for a conversation (its public id): the
	// conversation's own page unless set.
	path func(pid string) string
}

// measureOpen opens the seeded desk's conversations through the real HTTP
// server (a TCP listener, keep-alive clients) as an agent does: the full page
// a link opens, and the boosted request a click in the list sends. For each
// concurrency it prints requests per second, p50 and p99 of the round trip,
// and the statements each open sends to PostgreSQL.
func measureOpen(ctx context.Context, db *gorm.DB, h http.Handler, st *statements, cookie *http.Cookie, pgCPU func() (time.Duration, bool), o options) error {
	var pids []string
	err := db.WithContext(ctx).Raw(`SELECT public_id FROM conversations WHERE kind = 'customer' AND status = 'open'
		ORDER BY id DESC`).Scan(&pids).Error
	if err != nil || len(pids) == 0 {
		return fmt.Errorf("open conversations to open: %v (%d found)", err, len(pids))
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := func() *http.Client {
		// What a browser sends: it takes brotli (the body is counted, not
		// decoded).
		return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	// The rows' links as the inbox renders them (the list's query string).
	query, err := rowQuery(ctx, client(), srv.URL, cookie)
	if err != nil {
		return err
	}
	kinds := []openKind{
		{"full page (link)", nil, nil},
		// What the desk's swap.js sends for a click on a row (a boosted
		// link; its target is the body, which has no id: no HX-Target).
		{"click in the list (boosted)", map[string]string{"HX-Request": "true", "HX-Boosted": "true",
			"HX-Current-URL": srv.URL + "/inbox"}, nil},
		// The inbox's first page as a link opens it, for comparison.
		{"inbox page 1 (link)", nil, func(string) string { return "/inbox" }},
	}
	get := func(c *http.Client, k openKind, pid string) (int, error) {
		path := "/conversations/" + pid + query
		if k.path != nil {
			path = k.path(pid)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		req.AddCookie(cookie)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
		for hk, hv := range k.headers {
			req.Header.Set(hk, hv)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		return int(n), nil
	}

	if o.trace {
		c := client()
		for _, k := range kinds {
			if _, err := get(c, k, pids[0]); err != nil { // warm
				return err
			}
			st.mu.Lock()
			st.sqls, st.trace = nil, true
			st.mu.Unlock()
			if _, err := get(c, k, pids[1]); err != nil {
				return err
			}
			st.mu.Lock()
			fmt.Printf("\nstatements of one open (%s), %d:\n", k.name, len(st.sqls))
			for i, q := range st.sqls {
				fmt.Printf("%3d %s\n", i+1, q)
			}
			st.sqls, st.trace = nil, false
			st.mu.Unlock()
		}
	}

	fmt.Printf("\nopening a conversation through the HTTP server, %s per row, viewer agent1, %d open conversations at random (/conversations/<pid>%s)\n\n",
		o.openFor, len(pids), query)
	// cpu/req is this process's CPU time (server and clients) per request,
	// pg cpu/req the private PostgreSQL's: what the machine's load moves
	// least.
	fmt.Printf("%-30s %4s %10s %9s %9s %11s %9s %9s %11s\n", "request", "c", "req/s", "p50", "p99", "statements", "bytes", "cpu/req", "pg cpu/req")
	for _, k := range kinds {
		if !strings.Contains(k.name, o.only) {
			continue
		}
		for _, conc := range []int{1, 10, 50} {
			var (
				mu    sync.Mutex
				ds    []time.Duration
				bytes int
				next  atomic.Int64
				first error
				wg    sync.WaitGroup
			)
			// Warm up as many connections as the row will use, each past
			// PostgreSQL's first five (custom) plans of every statement:
			// a server that has run a while has its connections and their
			// plans, which a cold row would spend its first seconds making.
			c := client()
			var (
				warm    sync.WaitGroup
				warmErr atomic.Pointer[error]
			)
			for w := range conc {
				warm.Go(func() {
					for i := range 8 {
						if _, err := get(c, k, pids[(w*8+i)%len(pids)]); err != nil {
							warmErr.CompareAndSwap(nil, &err)
							return
						}
					}
				})
			}
			warm.Wait()
			if err := warmErr.Load(); err != nil {
				return *err
			}
			before := st.n.Load()
			cpu0 := cpuTime()
			pg0, pgOK := pgCPU()
			start := time.Now()
			deadline := start.Add(o.openFor)
			for range conc {
				wg.Add(1)
				go func(seed uint64) {
					defer wg.Done()
					var local []time.Duration
					rnd := rand.New(rand.NewPCG(seed, uint64(conc)))
					for time.Now().Before(deadline) && ctx.Err() == nil {
						pid := pids[rnd.IntN(len(pids))]
						t0 := time.Now()
						n, err := get(c, k, pid)
						if err != nil {
							mu.Lock()
							first = cmpErr(first, err)
							mu.Unlock()
							return
						}
						local = append(local, time.Since(t0))
						mu.Lock()
						bytes = n
						mu.Unlock()
					}
					mu.Lock()
					ds = append(ds, local...)
					mu.Unlock()
				}(uint64(next.Add(1)))
			}
			wg.Wait()
			if first != nil {
				return first
			}
			elapsed := time.Since(start)
			cpu := cpuTime() - cpu0
			pgPer := "-"
			if pg1, ok := pgCPU(); ok && pgOK {
				pgPer = ms((pg1 - pg0) / time.Duration(len(ds)))
			}
			slices.Sort(ds)
			stmts := float64(st.n.Load()-before) / float64(len(ds))
			fmt.Printf("%-30s %4d %10.0f %9s %9s %11.1f %9d %9s %11s\n", k.name, conc, float64(len(ds))/elapsed.Seconds(),
				ms(pct(ds, 50)), ms(pct(ds, 99)), stmts, bytes, ms(cpu/time.Duration(len(ds))), pgPer)
		}
	}
	return nil
}

// rowQuery reads the query string of the inbox rows' links ("?list=…"), so
// the benchmark opens what a row's link opens.
func rowQuery(ctx context.Context, c *http.Client, base string, cookie *http.Cookie) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/inbox", nil)
	req.AddCookie(cookie)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`class="inbox-row[^"]*"[^>]*href="/conversations/[^"?]+(\?[^"]*)"`).FindSubmatch(body)
	if m == nil {
		m = regexp.MustCompile(`href="/conversations/[^"?]+(\?[^"]*)"`).FindSubmatch(body)
	}
	if m == nil {
		return "", fmt.Errorf("GET /inbox: no row link (status %d)", resp.StatusCode)
	}
	return html.UnescapeString(string(m[1])), nil
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
