// Package wait is the one bounded polling loop of Parley's tests: a test that
// waits for a job, a stream or a browser to catch up says what it waits for
// and for how long, instead of writing its own deadline loop.
package wait

import (
	"testing"
	"time"
)

// interval is how often cond is asked: short, so a test waits little past
// the moment its condition holds.
const interval = 10 * time.Millisecond

// For calls cond until it returns true, and fails the test (t.Fatalf with
// format and args, prefixed "timed out after …: ") if it has not within
// timeout. cond runs on the test's goroutine, so it may use require.
func For(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(interval)
	}
}
