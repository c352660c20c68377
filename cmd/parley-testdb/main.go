// Command parley-testdb manages the PostgreSQL server that Parley's tests
// share (package internal/dbtest). The Makefile's test target runs
// `go run ./cmd/parley-testdb stop` after `go test ./...`, so a test run
// leaves nothing running; `parley-testdb url` prints the server's URL, for
// looking at a failed test's database with psql.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parleydesk/parley/internal/dbtest"
)

const usage = `usage: parley-testdb <command>

  url    start the shared test server if needed and print its superuser URL
  stop   stop the shared test server if it runs
`

func main() {
	if len(os.Args) != 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()

	var err error
	switch os.Args[1] {
	case "url":
		var u string
		if u, err = dbtest.BaseURL(); err == nil {
			fmt.Println(u)
		}
	case "stop":
		err = dbtest.StopShared(ctx)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley-testdb:", err)
		cancelTimeout()
		cancel()
		os.Exit(1)
	}
}
