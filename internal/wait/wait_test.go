package wait

import (
	"testing"
	"time"
)

func TestForReturnsOnceTrue(t *testing.T) {
	t.Parallel()
	n := 0
	For(t, time.Second, func() bool { n++; return n == 3 }, "n reaches 3")
	if n != 3 {
		t.Fatalf("cond called %d times, want 3", n)
	}
}

// recorder captures Fatalf instead of ending the test.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = format
	panic(r)
}

func TestForFailsAfterTimeout(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	defer func() {
		if recover() != r || r.msg == "" {
			t.Fatal("For did not fail when cond never held")
		}
	}()
	For(r, 30*time.Millisecond, func() bool { return false }, "never")
}
