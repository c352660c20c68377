package app

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadConfigTrustedProxies(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(nil))
	require.NoError(t, err)
	require.Len(t, c.TrustedProxies, 2, "loopback only by default")
	assert.Equal(t, "127.0.0.0/8", c.TrustedProxies[0].String())
	assert.Equal(t, "::1/128", c.TrustedProxies[1].String())

	c, err = LoadConfig(env(map[string]string{"PARLEY_TRUSTED_PROXIES": " 10.0.0.5, 192.168.0.0/16 ,fd00::/8"}))
	require.NoError(t, err)
	var got []string
	for _, n := range c.TrustedProxies {
		got = append(got, n.String())
	}
	assert.Equal(t, []string{"10.0.0.5/32", "192.168.0.0/16", "fd00::/8"}, got)

	c, err = LoadConfig(env(map[string]string{"PARLEY_TRUSTED_PROXIES": "none"}))
	require.NoError(t, err)
	assert.Empty(t, c.TrustedProxies)

	for _, bad := range []string{"10.0.0.300", "10.0.0.0/33", "proxy.example", ",", "10.0.0.1;10.0.0.2"} {
		_, err := LoadConfig(env(map[string]string{"PARLEY_TRUSTED_PROXIES": bad}))
		require.ErrorContains(t, err, "PARLEY_TRUSTED_PROXIES", bad)
	}
}

// edgeOnly is an App with no database, enough to serve the routes that need
// none (/healthz) through the real middleware.
func edgeOnly(t *testing.T, vars map[string]string) *App {
	t.Helper()
	cfg, err := LoadConfig(env(vars))
	require.NoError(t, err)
	a := &App{cfg: cfg, log: slog.New(slog.DiscardHandler)}
	a.echo = a.newEcho()
	return a
}

// X-Forwarded-For is believed only from the configured proxies: by default
// loopback, never a neighbour on a private network.
func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	t.Parallel()
	ipOf := func(a *App, remote string) string {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.RemoteAddr = net.JoinHostPort(remote, "40000")
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		return a.echo.IPExtractor(req)
	}
	def := edgeOnly(t, nil)
	assert.Equal(t, "203.0.113.9", ipOf(def, "127.0.0.1"))
	assert.Equal(t, "203.0.113.9", ipOf(def, "::1"))
	assert.Equal(t, "10.1.2.3", ipOf(def, "10.1.2.3"), "a private address is not a proxy unless configured")
	assert.Equal(t, "192.168.1.7", ipOf(def, "192.168.1.7"))
	assert.Equal(t, "169.254.0.1", ipOf(def, "169.254.0.1"))

	lan := edgeOnly(t, map[string]string{"PARLEY_TRUSTED_PROXIES": "10.0.0.0/8"})
	assert.Equal(t, "203.0.113.9", ipOf(lan, "10.1.2.3"))
	assert.Equal(t, "127.0.0.1", ipOf(lan, "127.0.0.1"), "the setting replaces the default")

	none := edgeOnly(t, map[string]string{"PARLEY_TRUSTED_PROXIES": "none"})
	assert.Equal(t, "127.0.0.1", ipOf(none, "127.0.0.1"))
}

// Browsers are told to keep to https when Parley is served over https, and
// only then.
func TestHSTSFollowsTheBaseURL(t *testing.T) {
	t.Parallel()
	hsts := func(a *App) string {
		rec := httptest.NewRecorder()
		a.echo.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		return rec.Header().Get("Strict-Transport-Security")
	}
	assert.Equal(t, "max-age=31536000", hsts(edgeOnly(t, map[string]string{"PARLEY_BASE_URL": "https://help.example.com"})))
	assert.Empty(t, hsts(edgeOnly(t, map[string]string{"PARLEY_BASE_URL": "http://localhost:8080"})))
}
