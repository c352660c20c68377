package main

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestScaleOut runs the scale-out check with small figures: PostgreSQL,
// PgBouncer in transaction pooling, three instances and nginx, all started
// here; zero lost or duplicated messages, then zero acknowledged messages
// lost when one instance is killed with SIGKILL mid-run. It needs Debian's
// pgbouncer and nginx (make deps-test installs them).
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, PgBouncer, nginx and three instances (about 40 s)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	res, err := run(ctx, options{instances: 3, visitors: 24, agents: 3, rate: 30, senders: 6,
		duration: 4 * time.Second, killAfter: 1500 * time.Millisecond}, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := res.check(); err != nil {
		t.Fatal(err)
	}
	t.Logf("took %s", time.Since(start).Round(time.Millisecond))
}
