package app

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// WidgetLimits caps what the public widget endpoints accept, per minute.
// Zero fields take the defaults; tests and benchmarks set their own.
type WidgetLimits struct {
	// VisitorPosts: messages and other writes per visitor.
	VisitorPosts int
	// IPPosts: writes per client IP, across all its visitors (an office
	// behind one NAT shares it, hence the larger number).
	IPPosts int
	// IPVisitors: new visitors (tokens) per client IP.
	IPVisitors int
	// IPReads: views and streams opened per client IP.
	IPReads int
	// IPSupportKeys: support keys tried per client IP (support.go), valid
	// or not: a 6-digit key is guessable only by trying many.
	IPSupportKeys int
}

// DefaultWidgetLimits are generous for people and tight for scripts.
var DefaultWidgetLimits = WidgetLimits{VisitorPosts: 20, IPPosts: 300, IPVisitors: 30, IPReads: 3000, IPSupportKeys: 10}

func (l WidgetLimits) withDefaults() WidgetLimits {
	d := DefaultWidgetLimits
	if l.VisitorPosts > 0 {
		d.VisitorPosts = l.VisitorPosts
	}
	if l.IPPosts > 0 {
		d.IPPosts = l.IPPosts
	}
	if l.IPVisitors > 0 {
		d.IPVisitors = l.IPVisitors
	}
	if l.IPReads > 0 {
		d.IPReads = l.IPReads
	}
	if l.IPSupportKeys > 0 {
		d.IPSupportKeys = l.IPSupportKeys
	}
	return d
}

// limiter is a set of token buckets, one per key (a visitor or an IP), kept
// in memory. It is per instance: with several instances behind a balancer
// each enforces its own share, which is fine for abuse protection. The map
// is bounded: idle buckets (full again, so forgetting them changes nothing)
// are swept, and when it is still full an arbitrary entry is dropped, which
// at worst hands one key a fresh burst.
type limiter struct {
	mu      sync.Mutex
	perMin  int
	buckets map[string]*bucket
	max     int
	now     func() time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// limiterMaxKeys bounds each limiter's memory (~100 bytes a key).
const limiterMaxKeys = 100_000

func newLimiter(perMinute int) *limiter {
	return &limiter{perMin: perMinute, buckets: map[string]*bucket{}, max: limiterMaxKeys, now: time.Now}
}

// idleAfter is how long a bucket takes to fill up again: after that it is
// the same as a new one.
func (l *limiter) idleAfter() time.Duration {
	return time.Minute + time.Second
}

// allow takes one token for key; when none is left it returns false and how
// long until one is.
func (l *limiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.sweep(now)
		}
		// Refill perMin tokens a minute; the whole minute's allowance may be
		// spent at once (a burst), then one token every 60/perMin seconds.
		b = &bucket{lim: rate.NewLimiter(rate.Limit(float64(l.perMin)/60), l.perMin)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets idle buckets, then arbitrary ones if the map is still full.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.seen) > l.idleAfter() {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < l.max {
			break
		}
		delete(l.buckets, k)
	}
}

// size is the number of keys held (tests check the bound).
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// widgetLimiters are the buckets of the widget endpoints.
type widgetLimiters struct {
	visitorPosts, ipPosts, ipVisitors, ipReads, ipSupportKeys *limiter
}

func newWidgetLimiters(l WidgetLimits) *widgetLimiters {
	l = l.withDefaults()
	return &widgetLimiters{
		visitorPosts: newLimiter(l.VisitorPosts), ipPosts: newLimiter(l.IPPosts),
		ipVisitors: newLimiter(l.IPVisitors), ipReads: newLimiter(l.IPReads),
		ipSupportKeys: newLimiter(l.IPSupportKeys),
	}
}
