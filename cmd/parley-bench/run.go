package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/benchdb"
	"github.com/parleydesk/parley/internal/benchresult"
	"github.com/parleydesk/parley/models"
)

// server is one Parley process under test.
type server struct {
	cmd   *exec.Cmd
	base  string
	debug string // profiler address
}

func (s *server) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// raiseNoFile lifts the open-files limit for the thousands of streams (the
// servers inherit it).
func raiseNoFile() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	// As root the hard limit can rise too (20,000 streams need more than the
	// usual 20,000 descriptors once PostgreSQL and the load side count).
	want := uint64(1 << 17)
	if l.Max < want && syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}) == nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func run(ctx context.Context, o options) error {
	raiseNoFile()
	if len(o.bases) > 0 {
		return runOn(ctx, o)
	}
	var settings []string
	if o.statements > 0 {
		settings = []string{"shared_preload_libraries=pg_stat_statements"}
	}
	bdb, err := benchdb.Open(ctx, benchdb.Options{Name: "parley-bench", DataDir: o.dataDir, MaxConnections: 400, Settings: settings})
	if err != nil {
		return err
	}
	defer bdb.Close()
	dsn, db := bdb.DSN, bdb.Gorm
	// A fresh desk for every run.
	if err := db.Exec("TRUNCATE users, customers, conversations, events, river_job CASCADE").Error; err != nil {
		return err
	}
	// (desk_settings references users, so the cascade emptied it too.)
	if err := db.Exec("INSERT INTO desk_settings (id) VALUES (1) ON CONFLICT DO NOTHING").Error; err != nil {
		return err
	}

	var servers []*server
	defer func() {
		for _, s := range servers {
			s.cmd.Process.Signal(syscall.SIGTERM)
			s.cmd.Wait()
		}
	}()
	for i := range o.instances {
		addr, debug := freeAddr(), freeAddr()
		cmd := exec.CommandContext(ctx, os.Args[0], "-serve")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "PARLEY_LISTEN="+addr, "PARLEY_LOG_LEVEL=warn",
			"PARLEY_DB_MAX_CONNS=40", "PARLEY_DEBUG_LISTEN="+debug)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		if err := cmd.Start(); err != nil {
			return err
		}
		s := &server{cmd: cmd, base: "http://" + addr, debug: debug}
		servers = append(servers, s)
		if err := waitReady(ctx, s.base); err != nil {
			return fmt.Errorf("instance %d: %w", i+1, err)
		}
	}
	o.pgCPU = bdb.PostgresCPU
	visitorSrv, agentSrv := servers[0], servers[len(servers)-1]
	fmt.Printf("parley-bench: %d instance(s) on one database; visitors on %s, agents on %s\n", len(servers), visitorSrv.base, agentSrv.base)

	if o.idle > 0 && o.mode == "agent" {
		return idleAgentMemory(ctx, db, agentSrv, o.idle, max(o.agents, 1))
	}
	if o.idle > 0 {
		return idleMemory(ctx, db, visitorSrv, o.idle)
	}
	return load(ctx, o, db, []string{visitorSrv.base}, []string{agentSrv.base}, servers)
}

// runOn measures servers already running (-base): on DATABASE_URL, which is
// not emptied (the accounts and message tokens of each run are its own).
func runOn(ctx context.Context, o options) error {
	if os.Getenv("DATABASE_URL") == "" {
		return errors.New("-base needs DATABASE_URL: the database those servers use (the benchmark seeds agents and checks messages there)")
	}
	if o.idle > 0 {
		return errors.New("-idle measures a server's memory, so it starts its own: leave -base out")
	}
	bdb, err := benchdb.Open(ctx, benchdb.Options{Name: "parley-bench"})
	if err != nil {
		return err
	}
	defer bdb.Close()
	if err := bdb.Gorm.Exec("INSERT INTO desk_settings (id) VALUES (1) ON CONFLICT DO NOTHING").Error; err != nil {
		return err
	}
	for _, b := range o.bases {
		if err := waitReady(ctx, b); err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
	}
	fmt.Printf("parley-bench: servers at %s; agents and visitors spread over them in turn\n", strings.Join(o.bases, ", "))
	return load(ctx, o, bdb.Gorm, o.bases, o.bases, nil)
}

func waitReady(ctx context.Context, base string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("not ready after 60s")
}

// agent is a signed-in support agent.
type agent struct {
	client *http.Client
	csrf   string
	base   string
}

var csrfRe = regexp.MustCompile(`data-csrf-token="([^"]+)"`)

func login(ctx context.Context, base, email string, tr http.RoundTripper) (*agent, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: tr}
	page := func(path string) (string, error) {
		res, err := c.Get(base + path)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		m := csrfRe.FindSubmatch(b)
		if m == nil {
			return "", fmt.Errorf("no CSRF token on %s (status %d)", path, res.StatusCode)
		}
		return string(m[1]), nil
	}
	tok, err := page("/login")
	if err != nil {
		return nil, err
	}
	res, err := c.PostForm(base+"/login", url.Values{"email": {email}, "password": {"bench password"}, "_csrf": {tok}})
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if tok, err = page("/account"); err != nil {
		return nil, fmt.Errorf("login %s: %w", email, err)
	}
	return &agent{client: c, csrf: tok, base: base}, nil
}

// visitor is one widget visitor with one conversation.
type visitor struct {
	token string
	pid   string
	base  string
}

func newVisitor(ctx context.Context, db *gorm.DB, c *http.Client, base string, i int) (*visitor, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/widget/api/visitors", nil)
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`"token"\s*:\s*"([^"]+)"`).FindSubmatch(b)
	if res.StatusCode >= 300 || m == nil {
		return nil, fmt.Errorf("create visitor: %d %s", res.StatusCode, b)
	}
	v := &visitor{token: string(m[1]), base: base}
	form := url.Values{"body": {fmt.Sprintf("Hello from visitor %d", i)}, "page_url": {"https://shop.example/bench"}, "tz": {"UTC"}, "lang": {"en"}}
	if err := postForm(ctx, c, base+"/widget/conversations", form, "X-Parley-Visitor", v.token); err != nil {
		return nil, fmt.Errorf("start conversation: %w", err)
	}
	sum := sha256.Sum256([]byte(v.token))
	err = db.WithContext(ctx).Raw(`SELECT c.public_id::text FROM conversations c JOIN visitors v ON v.customer_id = c.customer_id
		WHERE v.token_hash = ? ORDER BY c.id DESC LIMIT 1`, sum[:]).Scan(&v.pid).Error
	if err != nil || v.pid == "" {
		return nil, fmt.Errorf("find conversation of visitor %d: %v", i, err)
	}
	return v, nil
}

func postForm(ctx context.Context, c *http.Client, u string, form url.Values, headers ...string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode >= 300 {
		return fmt.Errorf("POST %s: status %d", req.URL.Path, res.StatusCode)
	}
	return nil
}

// tokenRe finds benchmark message tokens in stream payloads.
var tokenRe = regexp.MustCompile(`bk(\d+)x`)

// stream reads one SSE stream and reports every token it carries.
type stream struct {
	ready chan struct{}
	seen  map[int64]int
	// reconnect: when the stream ends before its context, connect again
	// with Last-Event-ID, as EventSource does (-base: an instance may go).
	reconnect bool
	lastID    string
	// history notes each reconnect (when, resumed from which id), for the
	// report of a lost delivery.
	mu      sync.Mutex
	history []string
}

// streamStats counts what streams went through, across all of them.
var streamStats struct {
	reconnects, reloads atomic.Int64
	mu                  sync.Mutex
	upstreams           map[string]int // X-Parley-Upstream (the proxy's upstream) of each connection
}

func connectStream(ctx context.Context, c *http.Client, u, lastID string) (*http.Response, error) {
	cctx, cancel := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	// A stream that does not answer within 30 s counts as failed.
	t := time.AfterFunc(30*time.Second, cancel)
	res, err := c.Do(req)
	if !t.Stop() || err != nil {
		cancel()
		if err == nil {
			res.Body.Close()
			err = errors.New("stream did not answer within 30s")
		}
		return nil, err
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		res.Body.Close()
		cancel()
		return nil, fmt.Errorf("stream %s: status %d %s", req.URL.Path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	if up := res.Header.Get("X-Parley-Upstream"); up != "" {
		streamStats.mu.Lock()
		if streamStats.upstreams == nil {
			streamStats.upstreams = map[string]int{}
		}
		streamStats.upstreams[up]++
		streamStats.mu.Unlock()
	}
	body := res.Body
	res.Body = struct {
		io.Reader
		io.Closer
	}{body, closerFunc(func() error { cancel(); return body.Close() })}
	return res, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

func openStream(ctx context.Context, c *http.Client, u string, onToken func(seq int64, at time.Time, dup bool), s *stream) error {
	res, err := connectStream(ctx, c, u, s.lastID)
	if err != nil {
		return err
	}
	close(s.ready)
	go func() {
		// The stream lives until the caller's ctx ends, or the server closes
		// it (then, with reconnect, it resumes where it was).
		for {
			reload := s.read(res.Body, onToken)
			res.Body.Close()
			if ctx.Err() != nil || !s.reconnect {
				return
			}
			if reload {
				streamStats.reloads.Add(1)
				s.lastID = ""
			}
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
				if res, err = connectStream(ctx, c, u, s.lastID); err == nil {
					break
				}
			}
			streamStats.reconnects.Add(1)
			s.mu.Lock()
			s.history = append(s.history, fmt.Sprintf("reconnected at %s from id %q via %s", time.Now().Format("15:04:05.000"), s.lastID, res.Header.Get("X-Parley-Upstream")))
			s.mu.Unlock()
		}
	}()
	return nil
}

// read reads SSE events until the stream ends, reporting the tokens of each
// complete event (a cut-off event is not one, as for EventSource) and
// keeping its id; it reports whether the server asked for a reload.
func (s *stream) read(body io.Reader, onToken func(seq int64, at time.Time, dup bool)) (reload bool) {
	r := bufio.NewReaderSize(body, 16<<10)
	var event, id string
	var tokens []int64
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return false
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if event == "reload" {
				return true
			}
			now := time.Now()
			for _, seq := range tokens {
				s.mu.Lock() // the report reads seen when the run ends
				s.seen[seq]++
				again := s.seen[seq] > 1
				s.mu.Unlock()
				onToken(seq, now, again)
			}
			if id != "" {
				s.lastID = id
			}
			event, id, tokens = "", "", tokens[:0]
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
		case strings.HasPrefix(line, "data:"):
			for _, m := range tokenRe.FindAllStringSubmatch(line, -1) {
				seq, _ := strconv.ParseInt(m[1], 10, 64)
				tokens = append(tokens, seq)
			}
		}
	}
}

// ledger records when each message was posted and when it arrived.
type ledger struct {
	mu        sync.Mutex
	sentAt    map[int64]time.Time
	ackAt     map[int64]time.Duration
	expect    map[int64]int
	got       map[int64]int
	to        map[int64]string // who must receive seq: "agents" or "v<index>"
	latencies []time.Duration
	// toAgents and toVisitors split latencies by who received the message.
	toAgents, toVisitors []time.Duration
	dups                 int
	// rerenders: an agent's inbox row shown again with the same newest
	// message (a later event of its conversation re-renders the row):
	// not a duplicated delivery, since the row shows the conversation as it
	// is, not one message. Duplicates are counted on visitor streams,
	// where every message is a thread entry of its own.
	rerenders int
	measureOn time.Time
}

func (l *ledger) sent(seq int64, at time.Time, to string, receivers int) {
	l.mu.Lock()
	l.sentAt[seq], l.expect[seq], l.to[seq] = at, receivers, to
	l.mu.Unlock()
}

// receiver returns the callback for one stream: only deliveries meant for
// it count (an agent's reply also shows in other agents' inbox rows, which
// must not stand in for the visitor's delivery).
func (l *ledger) receiver(who string) func(seq int64, at time.Time, dup bool) {
	return func(seq int64, at time.Time, dup bool) {
		l.mu.Lock()
		defer l.mu.Unlock()
		sent, ok := l.sentAt[seq]
		if !ok || l.to[seq] != who && !(l.to[seq] == "agents" && strings.HasPrefix(who, "a")) {
			return
		}
		if dup {
			if strings.HasPrefix(who, "a") {
				l.rerenders++
			} else {
				l.dups++
			}
			return
		}
		l.got[seq]++
		if !sent.Before(l.measureOn) {
			l.latencies = append(l.latencies, at.Sub(sent))
			if strings.HasPrefix(who, "a") {
				l.toAgents = append(l.toAgents, at.Sub(sent))
			} else {
				l.toVisitors = append(l.toVisitors, at.Sub(sent))
			}
		}
	}
}

func (l *ledger) outstanding() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for seq, want := range l.expect {
		n += want - l.got[seq]
	}
	return n
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p)
	return d[i]
}

func load(ctx context.Context, o options, db *gorm.DB, visitorBases, agentBases []string, servers []*server) error {
	external := len(o.bases) > 0
	// Accounts of their own for each run on a database that is kept.
	tag := ""
	if external {
		tag = fmt.Sprintf("-%d", time.Now().UnixNano())
	}
	runStart := time.Now()
	tr := &http.Transport{MaxIdleConnsPerHost: o.senders + 16, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}
	streamTr := &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	streamClient := &http.Client{Transport: streamTr}

	// Agents: support agents signed in on the agent instance.
	var agents []*agent
	for i := range o.agents {
		email := fmt.Sprintf("agent%d%s@bench.example", i, tag)
		if _, err := models.CreateUser(ctx, db, models.UserInput{Name: fmt.Sprintf("Agent %d", i), Email: email,
			Password: "bench password", Role: models.RoleAgent, CustomerSupport: true}); err != nil {
			return err
		}
		ag, err := login(ctx, agentBases[i%len(agentBases)], email, tr)
		if err != nil {
			return err
		}
		agents = append(agents, ag)
	}
	// Visitors: created through the widget API, a few at a time.
	start := time.Now()
	visitors := make([]*visitor, o.visitors)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range o.visitors {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			v, err := newVisitor(ctx, db, client, visitorBases[i%len(visitorBases)], i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			visitors[i] = v
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Printf("set-up: %d agents signed in, %d visitors with a conversation (%.1fs)\n", len(agents), len(visitors), time.Since(start).Seconds())
	// Starting 1,000 conversations queued their follow-up jobs (each
	// notifies every agent); measure messaging once those are done.
	if o.drain {
		if err := drainJobs(ctx, db); err != nil {
			return err
		}
	}

	led := &ledger{sentAt: map[int64]time.Time{}, ackAt: map[int64]time.Duration{}, expect: map[int64]int{}, got: map[int64]int{}, to: map[int64]string{}}
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	streams := map[string]*stream{}
	// A page opens its stream at the position it was rendered at (since=),
	// so that a stream that ends before its first event still resumes from
	// there: the streams that reconnect start at the committed horizon.
	var since string
	if external {
		h, err := models.CommittedHorizon(ctx, db)
		if err != nil {
			return err
		}
		since = strconv.FormatUint(h.XID, 10)
	}
	// Agents watch the Open inbox; visitors watch their conversation.
	for i, ag := range agents {
		s := &stream{ready: make(chan struct{}), seen: map[int64]int{}, reconnect: external, lastID: since}
		streams[fmt.Sprintf("a%d", i)] = s
		ac := &http.Client{Jar: ag.client.Jar, Transport: streamTr}
		if err := openStream(streamCtx, ac, ag.base+"/desk/events?view=inbox&status=open&filter=all", led.receiver(fmt.Sprintf("a%d", i)), s); err != nil {
			return fmt.Errorf("agent %d stream: %w", i, err)
		}
	}
	for i, v := range visitors {
		s := &stream{ready: make(chan struct{}), seen: map[int64]int{}, reconnect: external, lastID: since}
		streams[fmt.Sprintf("v%d", i)] = s
		if err := openStream(streamCtx, streamClient, v.base+"/widget/events?visitor="+url.QueryEscape(v.token), led.receiver(fmt.Sprintf("v%d", i)), s); err != nil {
			return fmt.Errorf("visitor %d stream: %w", i, err)
		}
	}
	rssBefore := make([]int64, len(servers))
	for i, s := range servers {
		rssBefore[i] = s.rss()
	}
	time.Sleep(500 * time.Millisecond)

	// Post: each message carries a unique token (and an idempotency key, as
	// the widget's and the desk's posts do); who must receive it depends
	// on who wrote it. Conversations are taken in turn, so no conversation
	// gets two messages in one delivery batch.
	var seq, failed, missed atomic.Int64
	if external {
		// Tokens no earlier run on this database used.
		seq.Store(time.Now().UnixMilli() * 1000)
	}
	var next atomic.Int64
	acks := make(chan time.Duration, 1<<16)
	post := func(ctx context.Context) {
		n := seq.Add(1)
		token := fmt.Sprintf("bk%dx", n)
		vi := int(next.Add(1)-1) % len(visitors)
		v := visitors[vi]
		byAgent := o.mode == "agent" || (o.mode == "both" && n%2 == 0)
		t0 := time.Now()
		var err error
		if byAgent {
			ag := agents[int(n)%len(agents)]
			led.sent(n, t0, fmt.Sprintf("v%d", vi), 1)
			err = postForm(ctx, ag.client, ag.base+"/conversations/"+v.pid+"/messages",
				url.Values{"body": {"Reply " + token}, "kind": {"message"}}, "X-CSRF-Token", ag.csrf, "Idempotency-Key", "key-"+token)
		} else {
			led.sent(n, t0, "agents", len(agents))
			err = postForm(ctx, client, v.base+"/widget/conversations/"+v.pid+"/messages",
				url.Values{"body": {"Question " + token}}, "X-Parley-Visitor", v.token, "Idempotency-Key", "key-"+token)
		}
		if err != nil {
			if failed.Add(1) <= 3 {
				fmt.Fprintln(os.Stderr, "post failed:", err)
			}
			led.mu.Lock()
			delete(led.expect, n)
			led.mu.Unlock()
			return
		}
		select {
		case acks <- time.Since(t0):
		default:
		}
	}

	postCtx, stopPosting := context.WithTimeout(ctx, o.warmup+o.duration)
	defer stopPosting()
	led.measureOn = time.Now().Add(o.warmup)
	jobs := make(chan struct{}, o.senders*4)
	var sendersWG sync.WaitGroup
	for range o.senders {
		sendersWG.Add(1)
		go func() {
			defer sendersWG.Done()
			for range jobs {
				post(ctx) // requests finish even when the posting window closes
			}
		}()
	}
	// CPU over the measured window (from the warm-up's end until the
	// deliveries drain): the servers' and the private PostgreSQL's.
	var cpuStart cpuSample
	cpuStarted := make(chan struct{})
	go func() {
		defer close(cpuStarted)
		time.Sleep(time.Until(led.measureOn))
		cpuStart = sampleCPU(servers, o.pgCPU)
		if o.statements > 0 {
			if err := db.Exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").Error; err != nil {
				fmt.Fprintln(os.Stderr, "pg_stat_statements:", err)
			}
			db.Exec("SELECT pg_stat_statements_reset()")
		}
	}()
	began := time.Now()
	// (parley-scale waits for this line to time its kill -9.)
	fmt.Println("posting: started")
	// Typing signals alongside the messages: visitors and agents in turn,
	// each on the next conversation (so no sender is throttled).
	var typed, typeFailed atomic.Int64
	if o.typing > 0 {
		go func() {
			t := time.NewTicker(time.Duration(float64(time.Second) / o.typing))
			defer t.Stop()
			for i := 0; ; i++ {
				select {
				case <-postCtx.Done():
					return
				case <-t.C:
				}
				v := visitors[i%len(visitors)]
				go func() {
					var err error
					if i%2 == 0 {
						err = postForm(ctx, client, v.base+"/widget/conversations/"+v.pid+"/typing",
							url.Values{"state": {"typing"}, "draft": {"a draft"}}, "X-Parley-Visitor", v.token)
					} else {
						ag := agents[i%len(agents)]
						err = postForm(ctx, ag.client, ag.base+"/conversations/"+v.pid+"/typing",
							url.Values{"state": {"typing"}, "kind": {"message"}}, "X-CSRF-Token", ag.csrf)
					}
					typed.Add(1)
					if err != nil && typeFailed.Add(1) <= 3 {
						fmt.Fprintln(os.Stderr, "typing failed:", err)
					}
				}()
			}
		}()
	}
	for kind, path := range map[string]string{"profile": o.profile, "allocs": o.allocs} {
		if path == "" || len(servers) == 0 {
			continue
		}
		go func() {
			time.Sleep(o.warmup)
			if err := saveProfile(ctx, servers[0].debug, kind, o.duration, path); err != nil {
				fmt.Fprintln(os.Stderr, kind+":", err)
			}
		}()
	}
	if o.rate > 0 {
		interval := time.Duration(float64(time.Second) / o.rate)
		next := time.Now()
	feed:
		for {
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				select {
				case <-postCtx.Done():
					break feed
				case <-time.After(d):
				}
			}
			select {
			case jobs <- struct{}{}:
			case <-postCtx.Done():
				break feed
			default: // senders saturated: the slot is missed; the report shows the achieved rate
				missed.Add(1)
			}
		}
	} else {
	closed:
		for {
			select {
			case jobs <- struct{}{}:
			case <-postCtx.Done():
				break closed
			}
		}
	}
	close(jobs)
	sendersWG.Wait()
	elapsed := time.Since(began)

	// Let deliveries drain.
	drainBy := time.Now().Add(10 * time.Second)
	for led.outstanding() > 0 && time.Now().Before(drainBy) {
		time.Sleep(20 * time.Millisecond)
	}
	<-cpuStarted
	cpuEnd := sampleCPU(servers, o.pgCPU)
	var top []topStatement
	if o.statements > 0 {
		db.Raw(`SELECT regexp_replace(query, '\s+', ' ', 'g') AS query, calls, total_exec_time AS total_ms
			FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT ?`, o.statements).Scan(&top)
	}
	rss := make([]int64, len(servers))
	for i, s := range servers {
		rss[i] = s.rss()
	}
	stopStreams()

	// Every acknowledged message (its POST answered 2xx) must be stored:
	// read this run's tokens back from the database, with the conversation
	// and id of each.
	type storedMsg struct{ ID, ConversationID int64 }
	stored := map[int64]storedMsg{}
	var backs []struct {
		ID             int64
		ConversationID int64
		Body           string
	}
	if err := db.WithContext(ctx).Raw(`SELECT id, conversation_id, body FROM messages WHERE created_at >= ? AND body ~ 'bk[0-9]+x'`, runStart.Add(-time.Second)).
		Scan(&backs).Error; err != nil {
		return fmt.Errorf("read the messages back: %w", err)
	}
	for _, b := range backs {
		for _, m := range tokenRe.FindAllStringSubmatch(b.Body, -1) {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			stored[n] = storedMsg{ID: b.ID, ConversationID: b.ConversationID}
		}
	}

	led.mu.Lock()
	defer led.mu.Unlock()
	// An agent's inbox row shows its conversation's newest message, and so
	// does a visitor's home view (the bench's visitors stream their home
	// view, the conversation list): a message that a newer one of the same
	// conversation overtook before the row was rendered (both committed
	// before the stream read the row, or both in one replay after a
	// reconnect) reaches the screen as that newer row. It counts as
	// delivered (superseded, with no latency), as the screen is current.
	newest := map[string]map[int64]int64{} // stream → conversation → newest message id seen
	for who, st := range streams {
		st.mu.Lock()
		for seq := range st.seen {
			if m, ok := stored[seq]; ok {
				if newest[who] == nil {
					newest[who] = map[int64]int64{}
				}
				newest[who][m.ConversationID] = max(newest[who][m.ConversationID], m.ID)
			}
		}
		st.mu.Unlock()
	}
	var superseded int64
	for n, want := range led.expect {
		if led.got[n] >= want {
			continue
		}
		m, ok := stored[n]
		if !ok {
			continue
		}
		for who, st := range streams {
			if led.to[n] != who && !(led.to[n] == "agents" && strings.HasPrefix(who, "a")) {
				continue // not a receiver of n
			}
			st.mu.Lock()
			saw := st.seen[n] > 0
			st.mu.Unlock()
			if saw {
				continue
			}
			if newest[who][m.ConversationID] > m.ID {
				led.got[n]++
				superseded++
			}
		}
	}
	var posted, measured, expected, got, lostToAgents, lostToVisitors int64
	for n, want := range led.expect {
		posted++
		expected += int64(want)
		got += int64(min(led.got[n], want))
		if miss := int64(want - min(led.got[n], want)); miss > 0 {
			if led.to[n] == "agents" {
				lostToAgents += miss
			} else {
				lostToVisitors += miss
			}
		}
		if !led.sentAt[n].Before(led.measureOn) {
			measured++
		}
	}
	close(acks)
	var ackL []time.Duration
	for d := range acks {
		ackL = append(ackL, d)
	}
	slices.Sort(ackL)
	slices.Sort(led.latencies)
	slices.Sort(led.toAgents)
	slices.Sort(led.toVisitors)
	where := fmt.Sprintf("instances=%d", o.instances)
	if external {
		where = "base=" + strings.Join(o.bases, ",")
	}
	fmt.Printf("config: %s visitors=%d agents=%d mode=%s rate=%s senders=%d duration=%s (+%s warm-up)\n",
		where, o.visitors, o.agents, o.mode, rateText(o.rate), o.senders, o.duration, o.warmup)
	fmt.Printf("posted: %d messages in %.1fs = %.0f/s (measured window: %d); failed posts: %d; slots missed (senders busy): %d\n",
		posted, elapsed.Seconds(), float64(posted)/elapsed.Seconds(), measured, failed.Load(), missed.Load())
	if o.typing > 0 {
		fmt.Printf("typing signals: %d sent alongside (%.0f/s), failed: %d\n", typed.Load(), float64(typed.Load())/elapsed.Seconds(), typeFailed.Load())
	}
	fmt.Printf("post round trip (HTTP 2xx): p50 %s  p99 %s\n", pct(ackL, 0.50).Round(10*time.Microsecond), pct(ackL, 0.99).Round(10*time.Microsecond))
	fmt.Printf("post→delivery: p50 %s  p99 %s  max %s  (%d deliveries measured)\n",
		pct(led.latencies, 0.50).Round(10*time.Microsecond), pct(led.latencies, 0.99).Round(10*time.Microsecond),
		pct(led.latencies, 1).Round(10*time.Microsecond), len(led.latencies))
	fmt.Printf("  to agents: p50 %s  p99 %s (%d); to visitors: p50 %s  p99 %s (%d)\n",
		pct(led.toAgents, 0.50).Round(10*time.Microsecond), pct(led.toAgents, 0.99).Round(10*time.Microsecond), len(led.toAgents),
		pct(led.toVisitors, 0.50).Round(10*time.Microsecond), pct(led.toVisitors, 0.99).Round(10*time.Microsecond), len(led.toVisitors))
	fmt.Printf("delivered: %d of %d expected = %.0f deliveries/s; lost %d (to agents %d, to visitors %d); duplicated %d\n",
		got, expected, float64(got)/elapsed.Seconds(), expected-got, lostToAgents, lostToVisitors, led.dups)
	fmt.Printf("inbox rows and visitors' home views: %d deliveries superseded by a newer message of the conversation; agents' rows shown again: %d\n", superseded, led.rerenders)
	for i := range servers {
		fmt.Printf("server %d RSS: %.1f MiB (%.1f MiB before posting)\n", i+1, float64(rss[i])/(1<<20), float64(rssBefore[i])/(1<<20))
	}
	if len(top) > 0 {
		fmt.Printf("statements PostgreSQL spent most time on in the measured window (per message posted in it, and per call):\n")
		for _, t := range top {
			q := t.Query
			if len(q) > 100 {
				q = q[:100] + "…"
			}
			fmt.Printf("  %7.3f ms/msg  %7.3f ms/call  %7d calls  %s\n", t.TotalMs/float64(max(measured, 1)), t.TotalMs/float64(max(t.Calls, 1)), t.Calls, q)
		}
	}
	if len(servers) > 0 && measured > 0 {
		srv := (cpuEnd.servers - cpuStart.servers) / time.Duration(measured)
		if cpuEnd.pgOK && cpuStart.pgOK {
			pg := (cpuEnd.pg - cpuStart.pg) / time.Duration(measured)
			fmt.Printf("CPU per message posted in the measured window: servers %.2f ms, PostgreSQL %.2f ms, together %.2f ms\n",
				ms(srv), ms(pg), ms(srv+pg))
		} else {
			fmt.Printf("CPU per message posted in the measured window: servers %.2f ms (PostgreSQL: not this machine's to read)\n", ms(srv))
		}
	}

	var ackedMissing, storedUnacked int64
	for n := range led.expect {
		if _, ok := stored[n]; !ok {
			ackedMissing++
		}
	}
	for n := range stored {
		if _, ok := led.expect[n]; !ok && led.sentAt[n] != (time.Time{}) {
			storedUnacked++
		}
	}
	// Say what became of a few lost deliveries.
	shown := 0
	for n, want := range led.expect {
		if led.got[n] >= want || shown >= 5 {
			continue
		}
		shown++
		var row struct {
			ID        int64
			CreatedAt time.Time
			EventID   int64
			XID       int64 `gorm:"column:xid"`
		}
		db.WithContext(ctx).Raw(`SELECT m.id, m.created_at, e.id AS event_id, e.xid::text::bigint AS xid FROM messages m
			LEFT JOIN events e ON e.message_id = m.id WHERE m.body LIKE ? ORDER BY e.id LIMIT 1`, fmt.Sprintf("%%bk%dx%%", n)).Scan(&row)
		fmt.Printf("lost: bk%dx for %s, posted %s, got %d of %d; message %d created %s, event %d xid %d\n", n, led.to[n],
			led.sentAt[n].Format("15:04:05.000"), led.got[n], want, row.ID, row.CreatedAt.Format("15:04:05.000"), row.EventID, row.XID)
		for who, st := range streams {
			if who == led.to[n] || led.to[n] == "agents" && strings.HasPrefix(who, "a") {
				st.mu.Lock()
				fmt.Printf("  stream %s: last id %q; %v\n", who, st.lastID, st.history)
				st.mu.Unlock()
			}
		}
	}
	fmt.Printf("acknowledged: %d posts answered 2xx; missing from the database: %d; stored though their POST failed: %d\n",
		posted, ackedMissing, storedUnacked)
	streamStats.mu.Lock()
	ups := maps.Clone(streamStats.upstreams)
	streamStats.mu.Unlock()
	if external {
		fmt.Printf("streams: %d reconnected (resumed with Last-Event-ID), %d reloads; connections per upstream: %v\n",
			streamStats.reconnects.Load(), streamStats.reloads.Load(), ups)
	}
	if o.jsonPath != "" {
		r := result{Posted: posted, Failed: failed.Load(), PostsPerSec: float64(posted) / elapsed.Seconds(),
			PostP50Ms: ms(pct(ackL, 0.50)), PostP99Ms: ms(pct(ackL, 0.99)),
			DeliveryP50Ms: ms(pct(led.latencies, 0.50)), DeliveryP99Ms: ms(pct(led.latencies, 0.99)),
			Expected: expected, Delivered: got, Lost: expected - got, LostToAgents: lostToAgents, LostToVisitors: lostToVisitors,
			Duplicated: int64(led.dups), Superseded: superseded, AckedMissing: ackedMissing, StoredUnacked: storedUnacked,
			Reconnects: streamStats.reconnects.Load(), Reloads: streamStats.reloads.Load(), Upstreams: ups}
		b, _ := json.MarshalIndent(r, "", "  ")
		if err := os.WriteFile(o.jsonPath, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// result is what -json writes: the figures printed above.
type result = benchresult.Result

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func rateText(r float64) string {
	if r <= 0 {
		return "closed-loop"
	}
	return fmt.Sprintf("%.0f/s", r)
}

// idleMemory opens n idle visitor streams on one server and reports how much
// its memory grew per connection.
func idleMemory(ctx context.Context, db *gorm.DB, s *server, n int) error {
	// Visitors are inserted directly: the point is the streams, not sign-up.
	tokens := make([]string, n)
	start := time.Now()
	for i := 0; i < n; i += 1000 {
		var b strings.Builder
		b.WriteString("WITH c AS (INSERT INTO customers (name) SELECT '' FROM generate_series(1, ?) RETURNING id), ")
		b.WriteString("n AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM c) INSERT INTO visitors (token_hash, customer_id) SELECT t.h, n.id FROM n JOIN (VALUES ")
		var args []any
		k := min(1000, n-i)
		args = append(args, k)
		for j := 0; j < k; j++ {
			tok := fmt.Sprintf("bench-idle-%d-%d", i+j, rand.Int64())
			tokens[i+j] = tok
			sum := sha256.Sum256([]byte(tok))
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(fmt.Sprintf("(%d, ?::bytea)", j+1))
			args = append(args, sum[:])
		}
		b.WriteString(") AS t(k, h) ON t.k = n.k")
		if err := db.WithContext(ctx).Exec(b.String(), args...).Error; err != nil {
			return fmt.Errorf("insert visitors: %w", err)
		}
	}
	fmt.Printf("set-up: %d visitors (%.1fs)\n", n, time.Since(start).Seconds())
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
	return holdIdleStreams(ctx, s, n, func(i int) (*http.Client, string) {
		return c, s.base + "/widget/events?visitor=" + url.QueryEscape(tokens[i])
	})
}

// idleAgentMemory opens n idle desk streams (the inbox's, as an open desk
// tab keeps) over agents signed-in support agents, and reports the
// server's memory per stream.
func idleAgentMemory(ctx context.Context, db *gorm.DB, s *server, n, agents int) error {
	start := time.Now()
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	streamTr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	var clients []*http.Client
	for i := range agents {
		email := fmt.Sprintf("idle-agent%d@bench.example", i)
		if _, err := models.CreateUser(ctx, db, models.UserInput{Name: fmt.Sprintf("Agent %d", i), Email: email,
			Password: "bench password", Role: models.RoleAgent, CustomerSupport: true}); err != nil {
			return err
		}
		ag, err := login(ctx, s.base, email, tr)
		if err != nil {
			return err
		}
		clients = append(clients, &http.Client{Jar: ag.client.Jar, Transport: streamTr})
	}
	fmt.Printf("set-up: %d agents signed in (%.1fs)\n", agents, time.Since(start).Seconds())
	return holdIdleStreams(ctx, s, n, func(i int) (*http.Client, string) {
		return clients[i%len(clients)], s.base + "/desk/events?view=inbox&status=open&filter=all"
	})
}

// holdIdleStreams opens n streams (stream i from open(i)), waits for the
// server to settle and prints its memory per stream.
func holdIdleStreams(ctx context.Context, s *server, n int, open func(i int) (*http.Client, string)) error {
	// What the set-up allocated is collected and handed back first.
	settle := func() {
		for range 3 {
			if res, err := http.Get("http://" + s.debug + "/debug/pprof/heap?gc=1"); err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			time.Sleep(time.Second)
		}
	}
	settle()
	before := s.rss()
	streamCtx, stop := context.WithCancel(ctx)
	defer stop()
	start := time.Now()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, u := open(i)
			st := &stream{ready: make(chan struct{}), seen: map[int64]int{}}
			if err := openStream(streamCtx, c, u, func(int64, time.Time, bool) {}, st); err != nil {
				if failed.Add(1) <= 3 {
					fmt.Fprintln(os.Stderr, err)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("connected: %d idle streams in %.1fs (%d failed)\n", n-int(failed.Load()), time.Since(start).Seconds(), failed.Load())
	settle()
	after := s.rss()
	per := float64(after-before) / float64(max(n-int(failed.Load()), 1))
	fmt.Printf("server RSS: %.1f MiB before, %.1f MiB with %d idle streams: %.1f KiB per connection\n",
		float64(before)/(1<<20), float64(after)/(1<<20), n, per/1024)
	return nil
}

// saveProfile records a profile of a server over d: kind "profile" (CPU)
// or "allocs" (what was allocated meanwhile).
func saveProfile(ctx context.Context, addr, kind string, d time.Duration, path string) error {
	u := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", addr, kind, int(d.Seconds()))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, res.Body)
	return err
}

// drainJobs waits (up to a minute) until no job is due or running.
func drainJobs(ctx context.Context, db *gorm.DB) error {
	start := time.Now()
	for time.Since(start) < time.Minute {
		var n int64
		err := db.WithContext(ctx).Raw(`SELECT count(*) FROM river_job
			WHERE state IN ('available', 'running', 'retryable') OR (state = 'scheduled' AND scheduled_at <= now() + interval '15 seconds')`).Scan(&n).Error
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Printf("set-up: follow-up jobs done (%.1fs)\n", time.Since(start).Seconds())
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return errors.New("follow-up jobs of the set-up still running after a minute")
}

// cpuSample is the CPU time used so far by the servers and the private
// PostgreSQL.
type cpuSample struct {
	servers, pg time.Duration
	pgOK        bool
}

func sampleCPU(servers []*server, pgCPU func() (time.Duration, bool)) cpuSample {
	var c cpuSample
	for _, s := range servers {
		c.servers += benchdb.ProcessCPU(s.cmd.Process.Pid)
	}
	if pgCPU != nil {
		c.pg, c.pgOK = pgCPU()
	}
	return c
}

// topStatement is a row of pg_stat_statements.
type topStatement struct {
	Query   string
	Calls   int64
	TotalMs float64
}
