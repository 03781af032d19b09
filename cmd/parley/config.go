package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

// Config is every setting of the server, read once at start: defaults, then
// PARLEY_* environment variables, then flags. Validate rejects bad values
// before anything is opened.
type Config struct {
	Addr              string        // PARLEY_ADDR, -addr
	DataDir           string        // PARLEY_DATA_DIR, -data-dir
	DatabaseURL       string        // PARLEY_DATABASE_URL, -database-url; empty: SQLite file in DataDir
	SQLiteSynchronous string        // PARLEY_SQLITE_SYNCHRONOUS: NORMAL or FULL
	AdminEmail        string        // PARLEY_ADMIN_EMAIL
	AdminPassword     string        // PARLEY_ADMIN_PASSWORD; empty: generated and printed once
	TrustedProxies    string        // PARLEY_TRUSTED_PROXIES: comma-separated CIDRs or addresses
	AllowedOrigins    string        // PARLEY_ALLOWED_ORIGINS: other origins whose pages may use an agent's session on /ws
	NATSURL           string        // PARLEY_NATS_URL, -nats-url: empty runs one node with an in-process broker
	NATSPrefix        string        // PARLEY_NATS_PREFIX, -nats-prefix: subject prefix of this installation
	LogLevel          string        // PARLEY_LOG_LEVEL: debug, info, warn, error
	LogFormat         string        // PARLEY_LOG_FORMAT: text or json
	ShutdownTimeout   time.Duration // PARLEY_SHUTDOWN_TIMEOUT
	PublicURL         string        // PARLEY_PUBLIC_URL, -public-url: the origin visitors reach; empty: from each request
	GeoIPDB           string        // PARLEY_GEOIP_DB, -geoip-db: an MMDB country database; empty: no locations

	Blobs          string // PARLEY_BLOBS, -blobs: disk (files in DataDir/files) or postgres
	MaxUploadBytes int64  // PARLEY_MAX_UPLOAD_BYTES, -max-upload-bytes
	VisitorQuota   int64  // PARLEY_VISITOR_QUOTA_BYTES, -visitor-quota-bytes; 0: no quota
	MaxImagePixels int64  // PARLEY_MAX_IMAGE_PIXELS, -max-image-pixels
	// The agents' workflow.
	AutoAssign       string        // PARLEY_AUTO_ASSIGN: on or off
	RequeueOnOffline string        // PARLEY_REQUEUE_ON_OFFLINE: on or off
	OfflineGrace     time.Duration // PARLEY_OFFLINE_GRACE: 0 leaves availability to the agents

	proxies        []netip.Prefix
	allowedOrigins []string
	publicOrigin   string // PublicURL as scheme://host[:port]
}

func defaultConfig() Config {
	return Config{
		Addr:              ":8080",
		DataDir:           "./data",
		SQLiteSynchronous: "NORMAL",
		AdminEmail:        "admin@localhost",
		NATSPrefix:        "parley",
		LogLevel:          "info",
		LogFormat:         "text",
		ShutdownTimeout:   15 * time.Second,
		Blobs:             "disk",
		MaxUploadBytes:    desk.DefaultMaxUploadBytes,
		VisitorQuota:      desk.DefaultVisitorQuota,
		MaxImagePixels:    desk.DefaultMaxPixels,
		AutoAssign:        "on",
		RequeueOnOffline:  "on",
		OfflineGrace:      60 * time.Second,
	}
}

// loadConfig layers the environment and then the flags in args over the defaults.
func loadConfig(name string, args []string, getenv func(string) string) (Config, error) {
	c := defaultConfig()
	envs := []struct {
		key string
		dst *string
	}{
		{"PARLEY_ADDR", &c.Addr},
		{"PARLEY_DATA_DIR", &c.DataDir},
		{"PARLEY_DATABASE_URL", &c.DatabaseURL},
		{"PARLEY_SQLITE_SYNCHRONOUS", &c.SQLiteSynchronous},
		{"PARLEY_ADMIN_EMAIL", &c.AdminEmail},
		{"PARLEY_ADMIN_PASSWORD", &c.AdminPassword},
		{"PARLEY_TRUSTED_PROXIES", &c.TrustedProxies},
		{"PARLEY_ALLOWED_ORIGINS", &c.AllowedOrigins},
		{"PARLEY_NATS_URL", &c.NATSURL},
		{"PARLEY_NATS_PREFIX", &c.NATSPrefix},
		{"PARLEY_LOG_LEVEL", &c.LogLevel},
		{"PARLEY_LOG_FORMAT", &c.LogFormat},
		{"PARLEY_BLOBS", &c.Blobs},
		{"PARLEY_AUTO_ASSIGN", &c.AutoAssign},
		{"PARLEY_REQUEUE_ON_OFFLINE", &c.RequeueOnOffline},
		{"PARLEY_PUBLIC_URL", &c.PublicURL},
		{"PARLEY_GEOIP_DB", &c.GeoIPDB},
	}
	for _, e := range envs {
		if v := getenv(e.key); v != "" {
			*e.dst = v
		}
	}
	if v := getenv("PARLEY_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return c, fmt.Errorf("PARLEY_SHUTDOWN_TIMEOUT: %v", err)
		}
		c.ShutdownTimeout = d
	}
	for _, e := range []struct {
		key string
		dst *int64
	}{
		{"PARLEY_MAX_UPLOAD_BYTES", &c.MaxUploadBytes},
		{"PARLEY_VISITOR_QUOTA_BYTES", &c.VisitorQuota},
		{"PARLEY_MAX_IMAGE_PIXELS", &c.MaxImagePixels},
	} {
		if v := getenv(e.key); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return c, fmt.Errorf("%s must be a whole number, not %q", e.key, v)
			}
			*e.dst = n
		}
	}
	if v := getenv("PARLEY_OFFLINE_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return c, fmt.Errorf("PARLEY_OFFLINE_GRACE: %v", err)
		}
		c.OfflineGrace = d
	}

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on (PARLEY_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the SQLite database and files (PARLEY_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "postgres:// URL or SQLite file path; default: parley.db in the data dir (PARLEY_DATABASE_URL)")
	fs.StringVar(&c.SQLiteSynchronous, "sqlite-synchronous", c.SQLiteSynchronous, "SQLite synchronous setting: NORMAL or FULL (PARLEY_SQLITE_SYNCHRONOUS)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, "comma-separated proxy addresses or CIDRs whose X-Forwarded-For is believed (PARLEY_TRUSTED_PROXIES)")
	fs.StringVar(&c.AllowedOrigins, "allowed-origins", c.AllowedOrigins, "comma-separated origins (https://host or host patterns like *.example.com) whose pages may use an agent's session on the socket (PARLEY_ALLOWED_ORIGINS)")
	fs.StringVar(&c.NATSURL, "nats-url", c.NATSURL, "NATS server URL(s), comma-separated, to run several nodes; empty: one node (PARLEY_NATS_URL)")
	fs.StringVar(&c.NATSPrefix, "nats-prefix", c.NATSPrefix, "NATS subject prefix, to share a NATS server between installations (PARLEY_NATS_PREFIX)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (PARLEY_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (PARLEY_LOG_FORMAT)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "the URL visitors' browsers reach the server at, e.g. https://chat.example.com, for the widget snippet; default: the request's host and scheme (PARLEY_PUBLIC_URL)")
	fs.StringVar(&c.GeoIPDB, "geoip-db", c.GeoIPDB, "MMDB country database to find visitors' countries in; default: none (PARLEY_GEOIP_DB)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long to let requests finish on SIGTERM (PARLEY_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&c.Blobs, "blobs", c.Blobs, "where attachments are kept: disk (the data dir's files/) or postgres (the database; needs a postgres:// database URL) (PARLEY_BLOBS)")
	fs.Int64Var(&c.MaxUploadBytes, "max-upload-bytes", c.MaxUploadBytes, "the largest file one upload may carry (PARLEY_MAX_UPLOAD_BYTES)")
	fs.Int64Var(&c.VisitorQuota, "visitor-quota-bytes", c.VisitorQuota, "the bytes of all the files one visitor may send; 0 for no quota (PARLEY_VISITOR_QUOTA_BYTES)")
	fs.Int64Var(&c.MaxImagePixels, "max-image-pixels", c.MaxImagePixels, "the most pixels (width × height) an uploaded image may have (PARLEY_MAX_IMAGE_PIXELS)")
	fs.StringVar(&c.AutoAssign, "auto-assign", c.AutoAssign, "offer waiting conversations to available agents round-robin: on or off (PARLEY_AUTO_ASSIGN)")
	fs.StringVar(&c.RequeueOnOffline, "requeue-on-offline", c.RequeueOnOffline, "return an agent's open chats to the queue when they go offline: on or off (PARLEY_REQUEUE_ON_OFFLINE)")
	fs.DurationVar(&c.OfflineGrace, "offline-grace", c.OfflineGrace, "set an agent offline when their last socket has been closed this long; 0: never (PARLEY_OFFLINE_GRACE)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, c.validate()
}

func (c *Config) validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr must not be empty"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir must not be empty"))
	}
	c.SQLiteSynchronous = strings.ToUpper(c.SQLiteSynchronous)
	if c.SQLiteSynchronous != "NORMAL" && c.SQLiteSynchronous != "FULL" {
		errs = append(errs, fmt.Errorf("sqlite synchronous must be NORMAL or FULL, not %q", c.SQLiteSynchronous))
	}
	if c.NATSURL != "" && !strings.HasPrefix(c.NATSURL, "nats://") && !strings.HasPrefix(c.NATSURL, "tls://") {
		errs = append(errs, errors.New("nats url must start with nats:// or tls://"))
	}
	if c.NATSURL != "" && !c.isPostgres() {
		errs = append(errs, errors.New("several nodes (PARLEY_NATS_URL) need a shared PostgreSQL database (PARLEY_DATABASE_URL=postgres://...)"))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log format must be text or json, not %q", c.LogFormat))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown timeout must be positive"))
	}
	switch c.Blobs {
	case "disk":
	case "postgres":
		if !c.isPostgres() {
			errs = append(errs, errors.New("PARLEY_BLOBS=postgres needs a postgres:// PARLEY_DATABASE_URL"))
		}
	default:
		errs = append(errs, fmt.Errorf("blobs must be disk or postgres, not %q", c.Blobs))
	}
	if c.MaxUploadBytes <= 0 {
		errs = append(errs, errors.New("max upload bytes must be positive"))
	}
	if c.VisitorQuota < 0 {
		errs = append(errs, errors.New("visitor quota bytes must not be negative (0: no quota)"))
	}
	if c.MaxImagePixels <= 0 {
		errs = append(errs, errors.New("max image pixels must be positive"))
	}
	for _, sw := range []struct{ name, v string }{{"PARLEY_AUTO_ASSIGN", c.AutoAssign}, {"PARLEY_REQUEUE_ON_OFFLINE", c.RequeueOnOffline}} {
		if sw.v != "on" && sw.v != "off" {
			errs = append(errs, fmt.Errorf("%s must be on or off, not %q", sw.name, sw.v))
		}
	}
	if c.OfflineGrace < 0 {
		errs = append(errs, errors.New("offline grace must not be negative"))
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 10 {
		errs = append(errs, errors.New("PARLEY_ADMIN_PASSWORD must be at least 10 characters"))
	}
	c.allowedOrigins = nil
	for _, o := range strings.Split(c.AllowedOrigins, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if _, err := path.Match(o, ""); err != nil {
			errs = append(errs, fmt.Errorf("allowed origin %q: %v", o, err))
			continue
		}
		c.allowedOrigins = append(c.allowedOrigins, o)
	}
	c.publicOrigin = ""
	if c.PublicURL != "" {
		o, err := publicOrigin(c.PublicURL)
		if err != nil {
			errs = append(errs, err)
		}
		c.publicOrigin = o
	}
	c.proxies = nil
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			a, err := netip.ParseAddr(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("trusted proxy %q: %v", p, err))
				continue
			}
			c.proxies = append(c.proxies, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pr, err := netip.ParsePrefix(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("trusted proxy %q: %v", p, err))
			continue
		}
		c.proxies = append(c.proxies, pr.Masked())
	}
	return errors.Join(errs...)
}

// fileLimits returns the desk's file limits.
func (c *Config) fileLimits() desk.FileLimits {
	quota := c.VisitorQuota
	if quota == 0 {
		quota = -1 // the desk's "no quota"
	}
	return desk.FileLimits{MaxBytes: c.MaxUploadBytes, VisitorQuota: quota, MaxPixels: c.MaxImagePixels}
}

// publicOrigin checks a public URL (http or https, a host, no path beyond
// "/", no query) and returns it as scheme://host[:port].
func publicOrigin(raw string) (string, error) {
	bad := fmt.Errorf("public URL %q must look like https://chat.example.com (scheme and host, no path)", raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", bad
	}
	o := u.Scheme + "://" + strings.ToLower(u.Host)
	// The origin goes into the snippet as it is: it must be a plain host.
	if err := parley.ValidateOrigin("https://" + strings.ToLower(u.Host)); err != nil {
		return "", bad
	}
	return o, nil
}

// isPostgres reports whether the database URL selects PostgreSQL.
func (c *Config) isPostgres() bool {
	u := strings.ToLower(c.DatabaseURL)
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// sqlitePath returns the SQLite file the server uses when not on PostgreSQL.
func (c *Config) sqlitePath() string {
	if c.DatabaseURL == "" {
		return filepath.Join(c.DataDir, "parley.db")
	}
	return strings.TrimPrefix(strings.TrimPrefix(c.DatabaseURL, "sqlite://"), "sqlite:")
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log level must be debug, info, warn or error, not %q", s)
	}
	return l, nil
}

func newLogger(c Config) *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
