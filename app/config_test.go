package app

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, "localhost:8080", c.Listen)
	assert.Equal(t, "http://localhost:8080", c.BaseURL.String())
	assert.Equal(t, 336*time.Hour, c.SessionTTL)
	assert.Equal(t, slog.LevelInfo, c.LogLevel)
	assert.False(t, c.SecureCookies())
	assert.True(t, len(c.DataDir) > 0 && c.DataDir[0] == '/', "data dir is made absolute")
}

func TestLoadConfigBaseURLFollowsListen(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(map[string]string{"PARLEY_LISTEN": ":9000"}))
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:9000", c.BaseURL.String())
	c, err = LoadConfig(env(map[string]string{"PARLEY_BASE_URL": "https://help.example.com/"}))
	require.NoError(t, err)
	assert.Equal(t, "https://help.example.com", c.BaseURL.String())
	assert.True(t, c.SecureCookies())
}

func TestLoadConfigBadValuesNameTheVariable(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"PARLEY_LISTEN":         "8080",
		"PARLEY_BASE_URL":       "ftp://x",
		"PARLEY_DB_MAX_CONNS":   "two",
		"PARLEY_SESSION_TTL":    "forever",
		"PARLEY_LOG_LEVEL":      "loud",
		"PARLEY_LOG_FORMAT":     "xml",
		"PARLEY_SMTP_PORT":      "99999",
		"PARLEY_SMTP_TLS":       "maybe",
		"DATABASE_URL":          "mysql://x",
		"PARLEY_METRICS_LISTEN": "9100",
		"PARLEY_METRICS_TOKEN":  "short",
	}
	for key, val := range cases {
		_, err := LoadConfig(env(map[string]string{key: val}))
		require.Error(t, err, key)
		assert.Contains(t, err.Error(), key)
	}
	_, err := LoadConfig(env(map[string]string{"PARLEY_SMTP_HOST": "smtp.example.com"}))
	require.ErrorContains(t, err, "PARLEY_SMTP_FROM")
}

func TestLoadConfigWidgetRates(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, 20, c.WidgetRateVisitor)
	assert.Equal(t, 300, c.WidgetRateIP)
	c, err = LoadConfig(env(map[string]string{"PARLEY_WIDGET_RATE_VISITOR": "5", "PARLEY_WIDGET_RATE_IP": "50"}))
	require.NoError(t, err)
	assert.Equal(t, 5, c.WidgetRateVisitor)
	assert.Equal(t, 50, c.WidgetRateIP)
	for key, val := range map[string]string{"PARLEY_WIDGET_RATE_VISITOR": "0", "PARLEY_WIDGET_RATE_IP": "lots"} {
		_, err := LoadConfig(env(map[string]string{key: val}))
		require.ErrorContains(t, err, key)
	}
}

func TestLoadConfigCustomerEmailDelay(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, 2*time.Minute, c.CustomerEmailDelay)
	c, err = LoadConfig(env(map[string]string{"PARLEY_CUSTOMER_EMAIL_DELAY": "30s"}))
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, c.CustomerEmailDelay)
	for _, val := range []string{"0", "soon", "48h"} {
		_, err := LoadConfig(env(map[string]string{"PARLEY_CUSTOMER_EMAIL_DELAY": val}))
		require.ErrorContains(t, err, "PARLEY_CUSTOMER_EMAIL_DELAY", val)
	}
}
