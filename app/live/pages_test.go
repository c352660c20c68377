package live

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Where a customer's widget is open: shown while one of the frame's
// streams is, whatever order a view switch ends and opens them in; gone at
// once when the last ends or the frame says it left, and after PageTTL
// without a report (an instance that died without telling).
func TestPagesFollowStreams(t *testing.T) {
	t.Parallel()
	var p pages
	now := time.Unix(1_700_000_000, 0)
	sig := func(kind, frame, url string) Signal {
		return Signal{Kind: kind, CustomerID: 7, Frame: frame, URL: url, Title: "T " + url}
	}
	p.apply(sig(SignalPage, "f1", "https://a.example/"), now)
	assert.Nil(t, p.current(7, now), "no stream yet")
	p.apply(sig(SignalPageOpen, "f1", ""), now)
	got := p.current(7, now)
	require.NotNil(t, got)
	assert.Equal(t, "https://a.example/", got.URL)
	assert.Equal(t, now, got.Since)

	// A view switch: the old stream ends before the new one opens.
	p.apply(sig(SignalPageGone, "f1", ""), now.Add(time.Second))
	assert.Nil(t, p.current(7, now.Add(time.Second)))
	p.apply(sig(SignalPageOpen, "f1", ""), now.Add(2*time.Second))
	require.NotNil(t, p.current(7, now.Add(2*time.Second)), "the page survived the switch")
	// ... or after.
	p.apply(sig(SignalPageOpen, "f1", ""), now.Add(3*time.Second))
	p.apply(sig(SignalPageGone, "f1", ""), now.Add(4*time.Second))
	require.NotNil(t, p.current(7, now.Add(4*time.Second)))

	// Navigation keeps Since only on the same page.
	p.apply(sig(SignalPage, "f1", "https://a.example/"), now.Add(5*time.Second))
	assert.Equal(t, now, p.current(7, now.Add(5*time.Second)).Since)
	p.apply(sig(SignalPage, "f1", "https://a.example/pricing"), now.Add(6*time.Second))
	got = p.current(7, now.Add(6*time.Second))
	assert.Equal(t, "https://a.example/pricing", got.URL)
	assert.Equal(t, now.Add(6*time.Second), got.Since)

	// Two tabs: the one heard of last wins; closing it shows the other.
	p.apply(sig(SignalPageOpen, "f2", ""), now.Add(7*time.Second))
	p.apply(sig(SignalPage, "f2", "https://a.example/cart"), now.Add(7*time.Second))
	assert.Equal(t, "https://a.example/cart", p.current(7, now.Add(7*time.Second)).URL)
	p.apply(sig(SignalPageGone, "f2", ""), now.Add(8*time.Second))
	assert.Equal(t, "https://a.example/pricing", p.current(7, now.Add(8*time.Second)).URL)
	assert.Nil(t, p.current(8, now), "another customer")

	// Without reports for PageTTL it expires; a report renews it.
	assert.Nil(t, p.current(7, now.Add(6*time.Second+PageTTL)))
	p.apply(sig(SignalPage, "f1", "https://a.example/pricing"), now.Add(PageTTL))
	assert.NotNil(t, p.current(7, now.Add(PageTTL+time.Minute)))

	// The frame says it left: gone with its stream still counted.
	p.apply(sig(SignalPageLeft, "f1", ""), now.Add(PageTTL+time.Minute))
	assert.Nil(t, p.current(7, now.Add(PageTTL+time.Minute)))

	// Dead frames are swept; a customer's frames are bounded.
	later := now.Add(time.Hour)
	for i := range maxFramesPerCustomer + 5 {
		f := "g" + string(rune('a'+i))
		p.apply(sig(SignalPageOpen, f, ""), later)
		p.apply(sig(SignalPage, f, "https://a.example/"), later)
	}
	p.mu.Lock()
	n := len(p.m[7])
	p.mu.Unlock()
	assert.LessOrEqual(t, n, maxFramesPerCustomer)
	p.apply(sig(SignalPage, "zz", "https://a.example/"), later.Add(2*PageTTL))
	p.mu.Lock()
	n = len(p.m[7])
	p.mu.Unlock()
	assert.Equal(t, 1, n, "expired frames swept")
}
