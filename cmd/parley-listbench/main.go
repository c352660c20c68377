// Command parley-listbench measures the server time of Parley's big lists
// (the customers Inbox, the Tickets and Tasks lists) at scale: it seeds a
// desk with 100,000 conversations, 1,000,000 messages and 100,000 items, then
// requests each list's common views, page 1 and a deep page reached through
// the lists' own "Older" links, through Parley's real HTTP handler in this
// process, and prints p50/p99 of the time the handler takes.
//
//	go run ./cmd/parley-listbench                       (seed a temporary database, measure)
//	go run ./cmd/parley-listbench -data /tmp/lb          (keep the seeded database for the next run)
//	go run ./cmd/parley-listbench -requests 1000 -depth 200
//	go run ./cmd/parley-listbench -reports -requests 50  (the Reports page's query times)
//	go run ./cmd/parley-listbench -open -trace            (opening a conversation, through the HTTP server:
//	                                                       10,000 conversations × 10 messages unless -conversations/-messages)
//
// DATABASE_URL points it at an existing server instead (its database is
// emptied and seeded).
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

type options struct {
	conversations int
	messages      int
	items         int
	agents        int
	requests      int
	depth         int
	dataDir       string
	reseed        bool
	profile       string
	only          string
	reports       bool
	open          bool
	openFor       time.Duration
	trace         bool
}

func main() {
	var o options
	flag.IntVar(&o.conversations, "conversations", 100_000, "customer conversations to seed")
	flag.IntVar(&o.messages, "messages", 1_000_000, "messages to seed, spread over the conversations")
	flag.IntVar(&o.items, "items", 100_000, "tickets and tasks to seed (70% tickets)")
	flag.IntVar(&o.agents, "agents", 50, "support agents to seed (in 5 teams)")
	flag.IntVar(&o.requests, "requests", 300, "measured requests per view")
	flag.IntVar(&o.depth, "depth", 100, "the deep page: how many pages in, following the Older links")
	flag.StringVar(&o.dataDir, "data", "", "directory for the private PostgreSQL (default: a temporary one); a seeded one is reused")
	flag.BoolVar(&o.reseed, "reseed", false, "seed again even if the database already holds a seed of this size")
	flag.StringVar(&o.only, "only", "", "measure only the views (with -open: the requests, \"click\" or \"full\") whose name contains this")
	flag.BoolVar(&o.reports, "reports", false, "measure the Reports page's queries and page instead of the lists")
	flag.BoolVar(&o.open, "open", false, "measure opening conversations through the HTTP server (c=1, 10, 50) instead of the lists")
	flag.DurationVar(&o.openFor, "open-for", 5*time.Second, "with -open: how long each row (request kind × concurrency) runs")
	flag.BoolVar(&o.trace, "trace", false, "with -open: print the statements one open sends")
	flag.StringVar(&o.profile, "profile", "", "write a CPU profile of the measured requests to this file")
	flag.Parse()
	if o.open {
		// The desk for opening conversations (10,000 conversations ×
		// 10 messages), unless the scale is given.
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["conversations"] {
			o.conversations = 10_000
		}
		if !set["messages"] {
			o.messages = 10 * o.conversations
		}
		if !set["items"] {
			o.items = 1_000
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley-listbench:", err)
		os.Exit(1)
	}
}
