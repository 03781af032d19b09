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
	"strings"
	"time"

	"github.com/parleychat/parley"
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
	LogLevel          string        // PARLEY_LOG_LEVEL: debug, info, warn, error
	LogFormat         string        // PARLEY_LOG_FORMAT: text or json
	ShutdownTimeout   time.Duration // PARLEY_SHUTDOWN_TIMEOUT
	PublicURL         string        // PARLEY_PUBLIC_URL, -public-url: the origin visitors reach; empty: from each request
	GeoIPDB           string        // PARLEY_GEOIP_DB, -geoip-db: an MMDB country database; empty: no locations

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
		LogLevel:          "info",
		LogFormat:         "text",
		ShutdownTimeout:   15 * time.Second,
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
		{"PARLEY_LOG_LEVEL", &c.LogLevel},
		{"PARLEY_LOG_FORMAT", &c.LogFormat},
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

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on (PARLEY_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the SQLite database and files (PARLEY_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "postgres:// URL or SQLite file path; default: parley.db in the data dir (PARLEY_DATABASE_URL)")
	fs.StringVar(&c.SQLiteSynchronous, "sqlite-synchronous", c.SQLiteSynchronous, "SQLite synchronous setting: NORMAL or FULL (PARLEY_SQLITE_SYNCHRONOUS)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, "comma-separated proxy addresses or CIDRs whose X-Forwarded-For is believed (PARLEY_TRUSTED_PROXIES)")
	fs.StringVar(&c.AllowedOrigins, "allowed-origins", c.AllowedOrigins, "comma-separated origins (https://host or host patterns like *.example.com) whose pages may use an agent's session on the socket (PARLEY_ALLOWED_ORIGINS)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (PARLEY_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (PARLEY_LOG_FORMAT)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "the URL visitors' browsers reach the server at, e.g. https://chat.example.com, for the widget snippet; default: the request's host and scheme (PARLEY_PUBLIC_URL)")
	fs.StringVar(&c.GeoIPDB, "geoip-db", c.GeoIPDB, "MMDB country database to find visitors' countries in; default: none (PARLEY_GEOIP_DB)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long to let requests finish on SIGTERM (PARLEY_SHUTDOWN_TIMEOUT)")
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
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log format must be text or json, not %q", c.LogFormat))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown timeout must be positive"))
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
