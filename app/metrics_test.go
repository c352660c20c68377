package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testMetricsToken = "0123456789abcdef-metrics"

func (b *browser) metrics(token string) *response {
	b.e.t.Helper()
	h := []string{}
	if token != "" {
		h = append(h, "Authorization", "Bearer "+token)
	}
	return b.get("/metrics", h...)
}

// Without PARLEY_METRICS_TOKEN the main address has no /metrics, and with
// one it answers only that token: 404 to anyone else, as for an unknown URL.
func TestMetricsOnlyForTheToken(t *testing.T) {
	t.Parallel()
	b := setup(t).browser()
	assert.Equal(t, http.StatusNotFound, b.metrics("").StatusCode)
	assert.Equal(t, http.StatusNotFound, b.metrics(testMetricsToken).StatusCode, "no token configured")

	b = setup(t, envOpts{config: map[string]string{"PARLEY_METRICS_TOKEN": testMetricsToken}}).browser()
	assert.Equal(t, http.StatusNotFound, b.metrics("").StatusCode)
	assert.Equal(t, http.StatusNotFound, b.metrics("0123456789abcdef-metricz").StatusCode)
	res := b.get("/metrics", "Authorization", "Basic "+testMetricsToken)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Equal(t, http.StatusOK, b.metrics(testMetricsToken).StatusCode)
}

// The figures an operator watches: latency per route pattern (never per
// URL), open streams, broker lag, the pool, River's queues.
func TestMetricsReportTheInstance(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{config: map[string]string{"PARLEY_METRICS_TOKEN": testMetricsToken}})
	b := e.browser()
	w := e.newVisitor()
	pid := w.start("Hello, is anyone there?")
	w.get("/widget/conversations/" + pid)
	require.NoError(t, e.app.rt.Poll(t.Context()))

	res := b.metrics(testMetricsToken)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain"), res.Header.Get("Content-Type"))
	for _, want := range []string{
		`parley_http_request_duration_seconds_count{method="POST",route="/widget/api/visitors",status="2xx"} 1`,
		`parley_http_request_duration_seconds_bucket{method="GET",route="/widget/conversations/:pid",status="2xx",le="+Inf"} 1`,
		`parley_streams_open{audience="staff"} 0`,
		`parley_db_pool_max_connections 8`,
		`parley_realtime_lag_seconds_count`,
		`parley_db_pool_acquires_total`,
		`go_goroutines`,
	} {
		assert.Contains(t, res.body, want)
	}
	assert.NotContains(t, res.body, pid, "URLs are never labels")
	assert.NotContains(t, res.body, `parley_realtime_lag_seconds_count 0`, "the visitor's message was dispatched")
}
