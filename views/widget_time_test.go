package views

import (
	"testing"
	"time"
)

// WidgetTimeText: the time alone on the same (UTC) day, day and time else.
func TestWidgetTimeText(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 12, 4, 0, 5, 0, 0, time.UTC), "00:05"},
		{time.Date(2026, 12, 4, 10, 29, 0, 0, time.FixedZone("x", 3600)), "09:29"},
		{time.Date(2026, 12, 3, 23, 59, 0, 0, time.UTC), "2026-12-03 23:59"},
		{time.Date(2025, 12, 4, 10, 0, 0, 0, time.UTC), "2025-12-04 10:00"},
	} {
		if got := WidgetTimeText(tc.t, now); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.t, got, tc.want)
		}
	}
}
