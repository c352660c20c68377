package pgembed_test

import (
	"context"
	"log"
	"os/signal"
	"syscall"

	"github.com/parleydesk/parley/internal/pgembed"
)

// Parley with no DATABASE_URL: a durable private server on the Unix
// socket, stopped last, after everything that uses it.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	pg, err := pgembed.Start(ctx, pgembed.Options{Dir: "/var/lib/parley/data/postgres", Fsync: true})
	if err != nil {
		log.Fatal(err) // errors.Is(err, pgembed.ErrNoBinaries) / pgembed.ErrInUse say what to do
	}
	defer pg.Stop(context.Background())
	if err := pg.EnsureDatabase(ctx, "parley"); err != nil {
		log.Print(err)
		return
	}
	databaseURL := pg.URL("parley") // postgres://parley@/parley?host=…&port=5432&sslmode=disable
	_ = databaseURL

	select {
	case <-ctx.Done(): // shut down
	case <-pg.Done(): // the server died: stop rather than serve errors
	}
}
