// Command parley-scale tests Parley scaled out on one machine, as
// docs/deploy.md describes it: a primary PostgreSQL, PgBouncer (Debian's,
// transaction pooling) in front of it, several Parley instances whose main
// pool goes through PgBouncer (PARLEY_DB_POOLER=pgbouncer) while LISTEN,
// River and migrations use a direct connection, and nginx (Debian's) in
// front of the instances, SSE unbuffered. It then runs parley-bench through
// nginx twice:
//
//  1. steady: every message delivered once (zero lost, zero duplicated);
//  2. one instance killed with SIGKILL mid-run: every acknowledged message
//     (its POST answered 2xx) is in the database and delivered, streams
//     resuming on the other instances with Last-Event-ID.
//
// It exits non-zero when a check fails. Everything runs in a temporary
// directory, removed on exit (also on Ctrl-C).
//
//	make scale-test
//	go run ./cmd/parley-scale -visitors 300 -agents 6 -rate 150 -duration 15s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var o options
	flag.IntVar(&o.instances, "instances", 3, "Parley instances behind nginx")
	flag.IntVar(&o.visitors, "visitors", 200, "widget visitors (one conversation and one stream each)")
	flag.IntVar(&o.agents, "agents", 6, "support agents with the inbox open")
	flag.Float64Var(&o.rate, "rate", 100, "messages per second (half by visitors, half by agents)")
	flag.IntVar(&o.senders, "senders", 10, "concurrent senders")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "posting time of each run")
	flag.DurationVar(&o.killAfter, "kill-after", 0, "in the second run, how long after posting starts one instance gets SIGKILL (default: half the run)")
	flag.StringVar(&o.bench, "bench", "", "parley-bench binary (it also runs the instances, with -serve); default: built with go build")
	flag.BoolVar(&o.drain, "drain", true, "let the set-up's follow-up jobs finish before posting (about 10 s per run)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configurations and logs)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	res, err := run(ctx, o, os.Stdout)
	stop()
	if err == nil {
		err = res.check()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley-scale:", err)
		os.Exit(1)
	}
	fmt.Println("parley-scale: PASS")
}
