package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/geoip"
	"github.com/parleychat/parley/internal/httpapi"
	"github.com/parleychat/parley/internal/memory"
	"github.com/parleychat/parley/internal/nats"
	"github.com/parleychat/parley/internal/realtime"
	"github.com/parleychat/parley/web"
)

// initialPasswordFile keeps a generated admin password for the operator, the
// way many self-hosted servers do, until they change it and delete the file.
const initialPasswordFile = "initial-admin-password"

func serve(ctx context.Context, cfg Config, stdout io.Writer) error {
	started := time.Now()
	log := newLogger(cfg)

	// A configured GeoIP database must open: a typo would otherwise leave
	// every visitor without a location, silently.
	var locator desk.Locator
	if cfg.GeoIPDB != "" {
		db, err := geoip.Open(cfg.GeoIPDB)
		if err != nil {
			return fmt.Errorf("PARLEY_GEOIP_DB: %w", err)
		}
		defer db.Close()
		locator = db
		log.Info("geoip database opened", "path", cfg.GeoIPDB, "type", db.Type())
	}

	s, dbName, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		return err
	}

	blobs, blobsName, err := openBlobs(cfg, s)
	if err != nil {
		return err
	}
	broker, err := openBroker(cfg, log)
	if err != nil {
		return err
	}
	defer broker.Close()
	d := desk.New(s, desk.Options{Logger: log, Events: realtime.NewPublisher(broker),
		Blobs: blobs, Files: cfg.fileLimits(),
		AutoAssign: cfg.AutoAssign == "on", RequeueOnOffline: cfg.RequeueOnOffline == "on", OfflineGrace: cfg.OfflineGrace,
		Locator: locator})
	defer d.Close()
	sweepCtx, stopSweep := context.WithCancel(ctx)
	sweepDone := make(chan struct{})
	go func() { defer close(sweepDone); sweepBlobs(sweepCtx, d, blobs, log) }()
	defer func() { stopSweep(); <-sweepDone }()
	created, generated, err := d.Bootstrap(ctx, cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("creating the first admin: %w", err)
	}
	login, err := adminLogin(cfg, created, generated)
	if err != nil {
		return err
	}

	// The socket's per-address cap needs the API's view of the client
	// address (trusted proxies), and the API serves the socket: ws reads
	// api only once a request arrives.
	var api *httpapi.Server
	ws := realtime.New(realtime.Options{
		Service:        realtime.NewDeskService(d, httpapi.SessionCookie),
		Broker:         broker,
		Logger:         log,
		AllowedOrigins: cfg.allowedOrigins,
		ClientIP:       func(r *http.Request) string { return api.ClientIP(r) },
	})
	api = httpapi.New(httpapi.Options{
		Desk:           d,
		Store:          s,
		Logger:         log,
		TrustedProxies: cfg.proxies,
		UI:             web.UI(),
		Realtime:       ws,
		Version:        version,
		PublicURL:      cfg.publicOrigin,
	})
	defer api.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // uploads stream through this
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	url := "http://" + displayHost(ln.Addr())
	log.Info("parley started", "version", version, "addr", ln.Addr().String(), "database", dbName, "files", blobsName,
		"ui", web.Built, "startup", time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(stdout, "\nParley is running at %s\n  dashboard:  %s/admin\n  widget:     %s/widget\n  %s\n\n", url, url, url, login)

	select {
	case err := <-errc:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Sockets first: each finishes the frame it handles (its ack goes out),
	// then closes with 1001; http.Server.Shutdown does not wait for hijacked
	// connections.
	if err := ws.Shutdown(sctx); err != nil {
		log.Warn("closing sockets", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// closingBroker is a parley.Broker the server closes at the end.
type closingBroker interface {
	parley.Broker
	Close() error
}

// memoryBroker is the single node's broker; it holds nothing to close.
type memoryBroker struct{ *memory.Broker }

func (memoryBroker) Close() error { return nil }

// openBroker returns NATS when configured (several nodes), otherwise the
// in-process broker of a single node.
func openBroker(cfg Config, log *slog.Logger) (closingBroker, error) {
	if cfg.NATSURL == "" {
		return memoryBroker{memory.NewBroker()}, nil
	}
	return nats.Open(cfg.NATSURL, nats.Options{Prefix: cfg.NATSPrefix, Logger: log})
}

// adminLogin returns the line that tells the operator how to sign in.
func adminLogin(cfg Config, created bool, generated string) (string, error) {
	file := filepath.Join(cfg.DataDir, initialPasswordFile)
	switch {
	case created && generated != "":
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return "", err
		}
		if err := os.WriteFile(file, []byte(generated+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("saving the generated admin password: %w", err)
		}
		return fmt.Sprintf("admin login: %s / %s  (also saved in %s: change it, then delete that file)", cfg.AdminEmail, generated, file), nil
	case created:
		return fmt.Sprintf("admin login: %s / the password in PARLEY_ADMIN_PASSWORD", cfg.AdminEmail), nil
	}
	if b, err := os.ReadFile(file); err == nil {
		return fmt.Sprintf("admin login: %s / %s  (from %s: delete it once changed)", cfg.AdminEmail, string(trimNL(b)), file), nil
	}
	return "admin login: the accounts already created (the first admin was " + cfg.AdminEmail + ")", nil
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func displayHost(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return tcp.String()
}
