// Command parley-bench measures Parley's live messaging end to end: it starts
// one or more real Parley server processes on one database, connects widget
// visitors and support agents over SSE, posts messages through the real HTTP
// endpoints and reports post→delivery latency, delivered throughput, lost and
// duplicated deliveries, and the servers' memory.
//
//	go run ./cmd/parley-bench -visitors 1000 -agents 5 -rate 200 -duration 20s -instances 2
//	go run ./cmd/parley-bench -mode agent -rate 0 -senders 10      (closed loop: maximum rate)
//	go run ./cmd/parley-bench -rate 200 -typing 200                  (typing signals alongside)
//	go run ./cmd/parley-bench -idle 20000                          (memory per idle SSE connection)
//
// Everything runs on this machine (127.0.0.1): the load generator, the
// servers and PostgreSQL share its cores, as the README's figures do.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/parleydesk/parley/app"
)

type options struct {
	visitors  int
	agents    int
	rate      float64
	senders   int
	duration  time.Duration
	instances int
	mode      string
	idle      int
	dataDir   string
	warmup    time.Duration
	profile   string
	allocs    string
	typing    float64
	// bases, when set, are servers already running (a proxy in front of
	// several instances, as parley-scale starts them): none is started, the
	// database (DATABASE_URL) is not emptied, and streams that end
	// reconnect and resume, as browsers do.
	bases    []string
	jsonPath string
	drain    bool
	// pgCPU reads the private PostgreSQL's CPU time (nil, or not ok, with
	// a server of DATABASE_URL's).
	pgCPU func() (time.Duration, bool)
	// statements: print the statements PostgreSQL spent most time on in
	// the measured window (pg_stat_statements, private server only).
	statements int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-serve" {
		serve()
		return
	}
	var o options
	flag.IntVar(&o.visitors, "visitors", 1000, "widget visitors connected over SSE, each with a conversation")
	flag.IntVar(&o.agents, "agents", 5, "support agents with the desk inbox open over SSE")
	flag.Float64Var(&o.rate, "rate", 200, "messages per second to post (0: closed loop, as fast as the senders go)")
	flag.IntVar(&o.senders, "senders", 10, "concurrent senders")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "how long to post")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "posting before measuring starts")
	flag.IntVar(&o.instances, "instances", 1, "Parley server processes on the one database (visitors use one, agents another)")
	flag.StringVar(&o.mode, "mode", "both", "who posts: visitor (visitors write, agents receive), agent (agents reply, visitors receive) or both")
	flag.Float64Var(&o.typing, "typing", 0, "typing signals per second sent while posting (half by visitors, half by agents; ephemeral, nothing stored)")
	flag.IntVar(&o.statements, "statements", 0, "print the N statements the private PostgreSQL spent most time on in the measured window (pg_stat_statements)")
	flag.IntVar(&o.idle, "idle", 0, "instead of posting: open this many idle visitor streams (with -mode agent: desk streams, spread over -agents agents) and report server memory per connection")
	flag.StringVar(&o.profile, "profile", "", "write a CPU profile of server 1 during the measured window to this file")
	flag.StringVar(&o.allocs, "allocs", "", "write the allocations of server 1 during the measured window to this file (pprof, -sample_index=alloc_space)")
	flag.StringVar(&o.dataDir, "data", "", "directory for the private PostgreSQL (default: a temporary directory); DATABASE_URL uses a server instead")
	var bases string
	flag.StringVar(&bases, "base", "", "comma-separated base URLs of servers already running on DATABASE_URL (e.g. a proxy in front of several instances): agents and visitors are spread over them in turn; nothing is started or emptied")
	flag.StringVar(&o.jsonPath, "json", "", "also write the figures to this file as JSON")
	flag.BoolVar(&o.drain, "drain", true, "before posting, wait for the set-up's follow-up jobs (notifications due within 15 s) to be done")
	flag.Parse()
	for _, b := range strings.Split(bases, ",") {
		if b = strings.TrimRight(strings.TrimSpace(b), "/"); b != "" {
			o.bases = append(o.bases, b)
		}
	}
	if o.mode != "visitor" && o.mode != "agent" && o.mode != "both" {
		fmt.Fprintln(os.Stderr, "parley-bench: -mode is visitor, agent or both")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley-bench:", err)
		os.Exit(1)
	}
}

// serve runs a Parley server in this process (the benchmark starts its
// servers by running itself with -serve, so it needs no separate build).
func serve() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := app.LoadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := cfg.NewLogger(os.Stderr)
	slog.SetDefault(log)
	// The load comes from one address, so the per-IP limits meant for the
	// public widget would throttle the benchmark itself.
	unlimited := &app.WidgetLimits{VisitorPosts: 1_000_000, IPPosts: 1_000_000, IPVisitors: 1_000_000, IPReads: 1_000_000}
	a, err := app.New(ctx, cfg, app.Options{Logger: log, WidgetLimits: unlimited})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
