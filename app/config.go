package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parleydesk/parley/storage"
)

// Config is everything Parley reads from its environment. The README's
// configuration table documents each variable; LoadConfig is the only place
// that parses them.
type Config struct {
	// Listen is the TCP address the HTTP server binds (PARLEY_LISTEN).
	Listen string
	// BaseURL is how browsers reach Parley (PARLEY_BASE_URL): links in emails
	// and the widget snippet use it, and an https URL makes cookies Secure.
	BaseURL *url.URL
	// DataDir holds the private PostgreSQL cluster (PARLEY_DATA_DIR).
	DataDir string
	// DatabaseURL points at an existing PostgreSQL server (DATABASE_URL);
	// empty starts the private one in DataDir.
	DatabaseURL string
	// DirectDatabaseURL is a connection to the same database that bypasses
	// any pooler (PARLEY_DIRECT_DATABASE_URL): migrations (a session
	// advisory lock), River's worker client (its leader election and
	// notifier) and the realtime broker's LISTEN need session semantics,
	// which a transaction-pooling PgBouncer does not give. Empty: they use
	// DATABASE_URL's pool.
	DirectDatabaseURL string
	// DBPooler names the connection pooler DATABASE_URL goes through
	// (PARLEY_DB_POOLER): "pgbouncer" (transaction pooling, no prepared
	// statements) makes the main pool use pgx's QueryExecModeExec and send
	// no startup parameter PgBouncer refuses; it requires
	// DirectDatabaseURL. Empty: DATABASE_URL is a PostgreSQL server.
	DBPooler string
	// DBMaxConns sizes the main pgx pool shared by GORM, River's job
	// inserts and the realtime broker's reads (PARLEY_DB_MAX_CONNS).
	DBMaxConns int32
	// SessionTTL is how long a staff session lives without activity
	// (PARLEY_SESSION_TTL, a Go duration like 336h).
	SessionTTL time.Duration
	// DebugListen, when set, serves Go's profiler (net/http/pprof) on that
	// address (PARLEY_DEBUG_LISTEN, e.g. 127.0.0.1:6060). Keep it private.
	DebugListen string
	// MetricsListen, when set, serves Prometheus metrics at /metrics on
	// that address (PARLEY_METRICS_LISTEN, e.g. 127.0.0.1:9100). Keep it
	// private.
	MetricsListen string
	// MetricsToken, when set, also serves /metrics on the main address to a
	// scraper sending "Authorization: Bearer <token>" (PARLEY_METRICS_TOKEN,
	// at least 16 characters).
	MetricsToken string
	SMTP         SMTPConfig
	LogLevel     slog.Level
	LogFormat    string // "text" or "json"

	// WidgetRateVisitor and WidgetRateIP cap the messages the widget accepts
	// per minute from one visitor and from one client IP
	// (PARLEY_WIDGET_RATE_VISITOR, PARLEY_WIDGET_RATE_IP).
	WidgetRateVisitor int
	WidgetRateIP      int

	// TrustedProxies are the addresses whose X-Forwarded-For header is
	// believed when telling the client's IP (PARLEY_TRUSTED_PROXIES: comma-
	// separated IPs or CIDR ranges; default loopback only; "none" trusts no
	// proxy).
	TrustedProxies []*net.IPNet

	// CustomerEmailDelay is how long an agent's reply waits for the visitor
	// to read it in the widget before it is emailed to them
	// (PARLEY_CUSTOMER_EMAIL_DELAY, a Go duration; default 2m).
	CustomerEmailDelay time.Duration

	// SMS is the provider that sends session invitations by text message.
	SMS SMSConfig

	// Files: where the bytes of files sent in conversations are kept
	// (storage package). FilesDir is PARLEY_FILES_DIR (default
	// DataDir/files), used unless S3.Endpoint (PARLEY_S3_ENDPOINT) is set.
	FilesDir string
	S3       storage.S3Config
	// Clamd is ClamAV's daemon scanning every upload (PARLEY_CLAMD: a
	// socket path or tcp://host:port); nil: no scan.
	Clamd *storage.Clamd
	// RTC is how browsers connect for screen sharing and calls (rtc_ice.go).
	RTC RTCConfig
}

// RTCConfig is the connectivity of media sessions (issue 11).
type RTCConfig struct {
	// ICEServers are the STUN/TURN servers handed to browsers
	// (PARLEY_ICE_SERVERS: a JSON list like
	// [{"urls":["stun:stun.example.com:3478"]},{"urls":["turn:turn.example.com"],"username":"u","credential":"p"}]).
	ICEServers []ICEServer
	// TURNListen, when set, runs the embedded TURN server (pion/turn) on
	// that UDP address (PARLEY_TURN_LISTEN, e.g. 0.0.0.0:3478), with
	// short-lived per-session credentials (TURN REST, HMAC).
	TURNListen string
	// TURNPublicIP is the address relayed candidates carry
	// (PARLEY_TURN_PUBLIC_IP; default the listen address's IP).
	TURNPublicIP string
	// TURNURL is how browsers reach the embedded server
	// (PARLEY_TURN_URL; default turn:<public ip>:<port>?transport=udp).
	TURNURL string
	// TURNSecret signs the credentials (PARLEY_TURN_SECRET; default a
	// secret derived from the database's link secret, shared by every
	// instance). Set it to use an external TURN server with the same
	// REST-style credentials (coturn's use-auth-secret).
	TURNSecret string
	// RelayOnly makes browsers use relayed candidates only
	// (PARLEY_ICE_TRANSPORT_POLICY=relay; default all): hides addresses,
	// and lets tests force the path through TURN.
	RelayOnly bool
}

// ICEServer is one entry of RTCConfiguration.iceServers.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// SMSConfig chooses and configures the SMS sender (jobs/sms.go).
type SMSConfig struct {
	// Provider is PARLEY_SMS_PROVIDER: "twilio" (a Twilio-compatible
	// Messages API), "webhook" (a signed JSON POST to a gateway of one's
	// own), or empty: no SMS.
	Provider string
	// Region is the ISO 3166 country of phone numbers typed without +
	// (PARLEY_SMS_REGION, e.g. BR); empty requires international numbers.
	Region string
	// Twilio: PARLEY_TWILIO_BASE_URL (default https://api.twilio.com),
	// PARLEY_TWILIO_ACCOUNT_SID, PARLEY_TWILIO_AUTH_TOKEN, PARLEY_TWILIO_FROM.
	TwilioBaseURL, TwilioAccountSID, TwilioAuthToken, TwilioFrom string
	// Webhook: PARLEY_SMS_WEBHOOK_URL and PARLEY_SMS_WEBHOOK_SECRET (the
	// HMAC-SHA256 key of X-Parley-Signature).
	WebhookURL, WebhookSecret string
}

// SMTPConfig is the outgoing mail server used by notification jobs.
type SMTPConfig struct {
	Host     string // PARLEY_SMTP_HOST; empty disables email
	Port     int    // PARLEY_SMTP_PORT
	Username string // PARLEY_SMTP_USERNAME
	Password string // PARLEY_SMTP_PASSWORD
	From     string // PARLEY_SMTP_FROM, e.g. "Parley <support@example.com>"
	TLS      string // PARLEY_SMTP_TLS: "starttls" (default), "tls" or "none"
}

// LoadConfig reads the configuration through getenv (os.Getenv in main, a
// map in tests). A bad value is an error naming the variable.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Listen:      get("PARLEY_LISTEN", "localhost:8080"),
		DataDir:     get("PARLEY_DATA_DIR", "data"),
		DatabaseURL: get("DATABASE_URL", ""),

		DirectDatabaseURL: get("PARLEY_DIRECT_DATABASE_URL", ""),
		DBPooler:          strings.ToLower(get("PARLEY_DB_POOLER", "")),
		LogFormat:         get("PARLEY_LOG_FORMAT", "text"),
		DebugListen:       get("PARLEY_DEBUG_LISTEN", ""),

		MetricsListen: get("PARLEY_METRICS_LISTEN", ""),
		MetricsToken:  get("PARLEY_METRICS_TOKEN", ""),
	}
	var errs []string
	bad := func(key, format string, args ...any) {
		errs = append(errs, key+": "+fmt.Sprintf(format, args...))
	}

	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		bad("PARLEY_LISTEN", "want host:port like localhost:8080 or :8080, got %q", c.Listen)
	}
	if c.DebugListen != "" {
		if _, _, err := net.SplitHostPort(c.DebugListen); err != nil {
			bad("PARLEY_DEBUG_LISTEN", "want host:port like 127.0.0.1:6060, got %q", c.DebugListen)
		}
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			bad("PARLEY_METRICS_LISTEN", "want host:port like 127.0.0.1:9100, got %q", c.MetricsListen)
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		bad("PARLEY_METRICS_TOKEN", "want at least 16 characters (a random token), got %d", len(c.MetricsToken))
	}
	defBase := "http://localhost:8080"
	if err == nil {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		defBase = "http://" + net.JoinHostPort(host, port)
	}
	base := get("PARLEY_BASE_URL", defBase)
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PARLEY_BASE_URL", "want an absolute http or https URL like https://help.example.com, got %q", base)
	} else {
		c.BaseURL = u
	}

	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}

	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.Contains(c.DatabaseURL, "=") {
		bad("DATABASE_URL", "want a PostgreSQL URL like postgres://user:pass@host:5432/parley")
	}

	if c.DirectDatabaseURL != "" && !strings.HasPrefix(c.DirectDatabaseURL, "postgres://") && !strings.HasPrefix(c.DirectDatabaseURL, "postgresql://") && !strings.Contains(c.DirectDatabaseURL, "=") {
		bad("PARLEY_DIRECT_DATABASE_URL", "want a PostgreSQL URL like postgres://user:pass@db-host:5432/parley")
	}
	if c.DirectDatabaseURL != "" && c.DatabaseURL == "" {
		bad("PARLEY_DIRECT_DATABASE_URL", "set only with DATABASE_URL (the private PostgreSQL needs neither)")
	}
	switch c.DBPooler {
	case "":
	case "pgbouncer":
		if c.DatabaseURL == "" || c.DirectDatabaseURL == "" {
			bad("PARLEY_DB_POOLER", "pgbouncer needs DATABASE_URL (through PgBouncer) and PARLEY_DIRECT_DATABASE_URL (to PostgreSQL itself, for LISTEN, River and migrations)")
		}
	default:
		bad("PARLEY_DB_POOLER", "want pgbouncer or nothing, got %q", c.DBPooler)
	}

	maxConns := get("PARLEY_DB_MAX_CONNS", "20")
	if n, err := strconv.Atoi(maxConns); err != nil || n < 4 || n > 1000 {
		bad("PARLEY_DB_MAX_CONNS", "want a number from 4 to 1000, got %q", maxConns)
	} else {
		c.DBMaxConns = int32(n)
	}

	ttl := get("PARLEY_SESSION_TTL", "336h")
	if d, err := time.ParseDuration(ttl); err != nil || d < time.Minute {
		bad("PARLEY_SESSION_TTL", "want a duration of at least 1m like 336h, got %q", ttl)
	} else {
		c.SessionTTL = d
	}

	proxies := get("PARLEY_TRUSTED_PROXIES", "127.0.0.0/8,::1")
	if nets, err := parseTrustedProxies(proxies); err != nil {
		bad("PARLEY_TRUSTED_PROXIES", "want comma-separated IP addresses or CIDR ranges like 10.0.0.5,192.168.1.0/24, or none: %v", err)
	} else {
		c.TrustedProxies = nets
	}

	for _, r := range []struct {
		key, def string
		dst      *int
	}{
		{"PARLEY_WIDGET_RATE_VISITOR", "20", &c.WidgetRateVisitor},
		{"PARLEY_WIDGET_RATE_IP", "300", &c.WidgetRateIP},
	} {
		v := get(r.key, r.def)
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 1_000_000 {
			bad(r.key, "want a number of messages per minute from 1 to 1000000, got %q", v)
		} else {
			*r.dst = n
		}
	}

	switch lvl := strings.ToLower(get("PARLEY_LOG_LEVEL", "info")); lvl {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		bad("PARLEY_LOG_LEVEL", "want debug, info, warn or error, got %q", lvl)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("PARLEY_LOG_FORMAT", "want text or json, got %q", c.LogFormat)
	}

	c.SMTP = SMTPConfig{
		Host:     get("PARLEY_SMTP_HOST", ""),
		Username: get("PARLEY_SMTP_USERNAME", ""),
		Password: getenv("PARLEY_SMTP_PASSWORD"),
		From:     get("PARLEY_SMTP_FROM", ""),
		TLS:      strings.ToLower(get("PARLEY_SMTP_TLS", "starttls")),
	}
	smtpPort := get("PARLEY_SMTP_PORT", "587")
	if n, err := strconv.Atoi(smtpPort); err != nil || n < 1 || n > 65535 {
		bad("PARLEY_SMTP_PORT", "want a port number, got %q", smtpPort)
	} else {
		c.SMTP.Port = n
	}
	switch c.SMTP.TLS {
	case "starttls", "tls", "none":
	default:
		bad("PARLEY_SMTP_TLS", "want starttls, tls or none, got %q", c.SMTP.TLS)
	}
	delay := get("PARLEY_CUSTOMER_EMAIL_DELAY", "2m")
	if d, err := time.ParseDuration(delay); err != nil || d < time.Second || d > 24*time.Hour {
		bad("PARLEY_CUSTOMER_EMAIL_DELAY", "want a duration from 1s to 24h like 2m, got %q", delay)
	} else {
		c.CustomerEmailDelay = d
	}
	c.SMS = SMSConfig{
		Provider: strings.ToLower(get("PARLEY_SMS_PROVIDER", "")), Region: strings.ToUpper(get("PARLEY_SMS_REGION", "")),
		TwilioBaseURL: get("PARLEY_TWILIO_BASE_URL", "https://api.twilio.com"), TwilioAccountSID: get("PARLEY_TWILIO_ACCOUNT_SID", ""),
		TwilioAuthToken: getenv("PARLEY_TWILIO_AUTH_TOKEN"), TwilioFrom: get("PARLEY_TWILIO_FROM", ""),
		WebhookURL: get("PARLEY_SMS_WEBHOOK_URL", ""), WebhookSecret: getenv("PARLEY_SMS_WEBHOOK_SECRET"),
	}
	switch c.SMS.Provider {
	case "":
	case "twilio":
		if u, err := url.Parse(c.SMS.TwilioBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("PARLEY_TWILIO_BASE_URL", "want an http(s) URL, got %q", c.SMS.TwilioBaseURL)
		}
		for k, v := range map[string]string{"PARLEY_TWILIO_ACCOUNT_SID": c.SMS.TwilioAccountSID, "PARLEY_TWILIO_AUTH_TOKEN": c.SMS.TwilioAuthToken, "PARLEY_TWILIO_FROM": c.SMS.TwilioFrom} {
			if v == "" {
				bad(k, "required when PARLEY_SMS_PROVIDER is twilio")
			}
		}
	case "webhook":
		if u, err := url.Parse(c.SMS.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("PARLEY_SMS_WEBHOOK_URL", "want an http(s) URL, got %q", c.SMS.WebhookURL)
		}
		if len(c.SMS.WebhookSecret) < 16 {
			bad("PARLEY_SMS_WEBHOOK_SECRET", "want at least 16 characters")
		}
	default:
		bad("PARLEY_SMS_PROVIDER", "want twilio, webhook or nothing, got %q", c.SMS.Provider)
	}
	c.FilesDir = get("PARLEY_FILES_DIR", filepath.Join(c.DataDir, "files"))
	if abs, err := filepath.Abs(c.FilesDir); err == nil {
		c.FilesDir = abs
	}
	c.S3 = storage.S3Config{
		Endpoint: get("PARLEY_S3_ENDPOINT", ""), Bucket: get("PARLEY_S3_BUCKET", ""), Region: get("PARLEY_S3_REGION", ""),
		AccessKey: get("PARLEY_S3_ACCESS_KEY", ""), SecretKey: getenv("PARLEY_S3_SECRET_KEY"),
	}
	if c.S3.Endpoint != "" {
		if _, err := storage.NewS3(c.S3); err != nil {
			bad("PARLEY_S3_ENDPOINT", "%v", err)
		}
	}
	if cl, err := storage.ParseClamd(get("PARLEY_CLAMD", "")); err != nil {
		bad("PARLEY_CLAMD", "%v", err)
	} else {
		c.Clamd = cl
	}
	c.RTC = RTCConfig{TURNListen: get("PARLEY_TURN_LISTEN", ""), TURNPublicIP: get("PARLEY_TURN_PUBLIC_IP", ""),
		TURNURL: get("PARLEY_TURN_URL", ""), TURNSecret: getenv("PARLEY_TURN_SECRET")}
	if raw := get("PARLEY_ICE_SERVERS", ""); raw != "" {
		if err := parseICEServers(raw, &c.RTC.ICEServers); err != nil {
			bad("PARLEY_ICE_SERVERS", "want a JSON list like [{\"urls\":[\"stun:stun.example.com:3478\"]}]: %v", err)
		}
	}
	if c.RTC.TURNListen != "" {
		if _, _, err := net.SplitHostPort(c.RTC.TURNListen); err != nil {
			bad("PARLEY_TURN_LISTEN", "want host:port like 0.0.0.0:3478, got %q", c.RTC.TURNListen)
		}
	}
	if c.RTC.TURNPublicIP != "" && net.ParseIP(c.RTC.TURNPublicIP) == nil {
		bad("PARLEY_TURN_PUBLIC_IP", "want an IP address, got %q", c.RTC.TURNPublicIP)
	}
	switch p := strings.ToLower(get("PARLEY_ICE_TRANSPORT_POLICY", "all")); p {
	case "all":
	case "relay":
		c.RTC.RelayOnly = true
	default:
		bad("PARLEY_ICE_TRANSPORT_POLICY", "want all or relay, got %q", p)
	}
	if c.SMTP.Host != "" && c.SMTP.From == "" {
		bad("PARLEY_SMTP_FROM", "required when PARLEY_SMTP_HOST is set, e.g. \"Support <support@example.com>\"")
	}

	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// parseTrustedProxies reads PARLEY_TRUSTED_PROXIES: IPs (one address) and
// CIDR ranges, comma-separated; "none" is the empty list.
func parseTrustedProxies(s string) ([]*net.IPNet, error) {
	if strings.EqualFold(s, "none") {
		return nil, nil
	}
	var out []*net.IPNet
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			_, n, err := net.ParseCIDR(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR range", f)
			}
			out = append(out, n)
			continue
		}
		ip := net.ParseIP(f)
		if ip == nil {
			return nil, fmt.Errorf("%q is not an IP address", f)
		}
		bits := 128
		if ip4 := ip.To4(); ip4 != nil {
			ip, bits = ip4, 32
		}
		out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
	}
	if len(out) == 0 {
		return nil, errors.New("no address given")
	}
	return out, nil
}

// SecureCookies reports whether cookies must be marked Secure: whenever
// browsers reach Parley over https.
func (c Config) SecureCookies() bool { return c.BaseURL != nil && c.BaseURL.Scheme == "https" }

// NewLogger builds the process logger from the configuration.
func (c Config) NewLogger(w interface{ Write([]byte) (int, error) }) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
