package app

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLimiterBucketsAndBound(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	l := newLimiter(6) // six a minute: one every 10 s after the burst
	l.now = func() time.Time { return now }
	for i := range 6 {
		ok, _ := l.allow("a")
		require.True(t, ok, "burst %d", i)
	}
	ok, retry := l.allow("a")
	require.False(t, ok)
	assert.InDelta(t, 10*time.Second, retry, float64(time.Millisecond))
	ok, _ = l.allow("b")
	assert.True(t, ok, "keys are independent")

	now = now.Add(10 * time.Second)
	ok, _ = l.allow("a")
	assert.True(t, ok, "a token came back")
	ok, _ = l.allow("a")
	assert.False(t, ok, "a refused attempt does not spend a token, but there is none left")

	// The map stays bounded: idle keys go first, then arbitrary ones.
	l.max = 10
	for i := range 50 {
		l.allow(fmt.Sprintf("k%d", i))
		assert.LessOrEqual(t, l.size(), l.max)
	}
	now = now.Add(2 * time.Minute)
	l.allow("fresh")
	assert.LessOrEqual(t, l.size(), 2, "idle buckets were swept")
}

func TestWidgetLimitsDefaults(t *testing.T) {
	t.Parallel()
	assert.Equal(t, DefaultWidgetLimits, WidgetLimits{}.withDefaults())
	got := WidgetLimits{VisitorPosts: 5}.withDefaults()
	assert.Equal(t, 5, got.VisitorPosts)
	assert.Equal(t, DefaultWidgetLimits.IPPosts, got.IPPosts)
}
