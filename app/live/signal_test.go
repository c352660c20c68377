package live

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// takeSignals waits for a batch of signals on sub, sending sig from sender
// every 100 ms meanwhile (the receiving instance's listener may still be
// connecting: a signal nobody listens to is simply lost, as designed).
func takeSignals(t *testing.T, sender *Broker, sig Signal, sub *Subscription, wake chan struct{}) []Signal {
	t.Helper()
	ctx := context.Background()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	require.NoError(t, sender.Signal(ctx, sig))
	for {
		select {
		case <-wake:
			var out []Signal
			for _, b := range sub.Take() {
				require.Empty(t, b.Events, "a signal batch carries no events")
				out = append(out, b.Signals...)
			}
			if len(out) > 0 {
				return out
			}
		case <-tick.C:
			require.NoError(t, sender.Signal(ctx, sig))
		case <-deadline:
			t.Fatal("no signal arrived")
		}
	}
}

// TestSignalReachesOtherInstanceWithoutWriting: a typing signal sent by one
// instance reaches a staff stream and the conversation's customer's stream
// on a second instance over the same database, not another customer's, and
// writes no row.
func TestSignalReachesOtherInstanceWithoutWriting(t *testing.T) {
	t.Parallel()
	a := setup(t)
	b := setup(t, a.url)
	ctx := context.Background()

	counts := func() (n [3]int64) {
		for i, table := range []string{"events", "messages", "conversations"} {
			require.NoError(t, a.db.WithContext(ctx).Table(table).Count(&n[i]).Error)
		}
		return n
	}
	before := counts()

	staffWake, custWake, otherWake := make(chan struct{}, 1), make(chan struct{}, 1), make(chan struct{}, 1)
	ping := func(ch chan struct{}) func() {
		return func() {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
	staff, _ := b.rt.Subscribe(0, ping(staffWake))
	cust, _ := b.rt.Subscribe(41, ping(custWake))
	other, _ := b.rt.Subscribe(42, ping(otherWake))

	sig := Signal{Kind: SignalTyping, ConversationID: 7, CustomerID: 41, UserID: 3, UserName: "Ana"}
	got := takeSignals(t, a.rt, sig, staff, staffWake)
	require.Equal(t, sig, got[0])
	select {
	case <-custWake:
	case <-time.After(5 * time.Second):
		t.Fatal("the customer's stream did not get the agent's typing")
	}
	require.Equal(t, sig, cust.Take()[0].Signals[0])
	require.Empty(t, other.Take(), "another customer's stream hears nothing")

	// A customer's typing goes to staff only; presence is kept per instance.
	view := Signal{Kind: SignalViewing, ConversationID: 7, CustomerID: 41, UserID: 3, UserName: "Ana"}
	takeSignals(t, a.rt, view, staff, staffWake)
	require.Equal(t, []Viewer{{UserID: 3, Name: "Ana"}}, b.rt.Viewers(7))
	require.Empty(t, b.rt.Viewers(8))
	left := view
	left.Kind = SignalLeft
	takeSignals(t, a.rt, left, staff, staffWake)
	require.Empty(t, b.rt.Viewers(7))
	require.Empty(t, other.Take())

	require.Equal(t, before, counts(), "signals write no row")
}

// TestPresenceExpires: a viewer without a heartbeat drops out after
// PresenceTTL.
func TestPresenceExpires(t *testing.T) {
	t.Parallel()
	var p presence
	now := time.Now()
	p.apply(Signal{Kind: SignalViewing, ConversationID: 1, UserID: 2, UserName: "Bo"}, now)
	p.apply(Signal{Kind: SignalViewing, ConversationID: 1, UserID: 3, UserName: "Ana"}, now.Add(30*time.Second))
	require.Equal(t, []Viewer{{3, "Ana"}, {2, "Bo"}}, p.viewers(1, now.Add(40*time.Second)))
	require.Equal(t, []Viewer{{3, "Ana"}}, p.viewers(1, now.Add(50*time.Second)))
	require.Empty(t, p.viewers(1, now.Add(80*time.Second)))
	require.Empty(t, p.convs, "expired conversations are forgotten")

	// A tab closed without "left" on a conversation nobody signals about
	// again is forgotten too, when signals about others arrive.
	p.apply(Signal{Kind: SignalViewing, ConversationID: 7, UserID: 2, UserName: "Bo"}, now)
	p.apply(Signal{Kind: SignalViewing, ConversationID: 8, UserID: 3, UserName: "Ana"}, now.Add(2*PresenceTTL))
	require.NotContains(t, p.convs, int64(7))
	require.Contains(t, p.convs, int64(8))
}

// BenchmarkSignalAcrossInstances measures one signal's cost end to end: one
// NOTIFY sent by one instance until a staff subscriber of another instance
// has it (go test ./app/live -run '^$' -bench Signal).
func BenchmarkSignalAcrossInstances(b *testing.B) {
	a := setup(b)
	o := setup(b, a.url)
	wake := make(chan struct{}, 1)
	sub, _ := o.rt.Subscribe(0, func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	sig := Signal{Kind: SignalTyping, ConversationID: 1, CustomerID: 2, UserID: 3, UserName: "Ana"}
	// Wait for the listener.
	for ready := false; !ready; {
		require.NoError(b, a.rt.Signal(context.Background(), sig))
		select {
		case <-wake:
			sub.Take()
			ready = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		require.NoError(b, a.rt.Signal(context.Background(), sig))
		for got := 0; got == 0; {
			<-wake
			for _, bt := range sub.Take() {
				got += len(bt.Signals)
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// TestStartReturnsListening: once Start returns, the instance listens, so a
// signal sent at once (a visitor's page reported as the first request
// arrives) is heard, not lost.
func TestStartReturnsListening(t *testing.T) {
	t.Parallel()
	in := setup(t)
	ctx := context.Background()
	var listeners int64
	require.NoError(t, in.db.WithContext(ctx).Raw(
		`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN ' || ?`,
		ephemeralChannel).Scan(&listeners).Error)
	require.EqualValues(t, 1, listeners, "listening when Start returns")

	// Sent once each, never repeated.
	require.NoError(t, in.rt.Signal(ctx, Signal{Kind: SignalPage, CustomerID: 5, Frame: "f1", URL: "https://a.example/"}))
	require.NoError(t, in.rt.Signal(ctx, Signal{Kind: SignalPageOpen, CustomerID: 5, Frame: "f1"}))
	require.Eventually(t, func() bool { return in.rt.VisitorPage(5) != nil }, 5*time.Second, 10*time.Millisecond)
}
