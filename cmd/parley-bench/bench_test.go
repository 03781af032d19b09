package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/httpapi"
	"github.com/parleychat/parley/internal/memory"
	"github.com/parleychat/parley/internal/realtime"
	"github.com/parleychat/parley/internal/sqlite"
)

// TestBenchWithChurn runs a short bench with churn against a real server
// (SQLite, desk, REST and the socket on a loopback port) and requires the
// delivery promise to hold. It checks counts, never timings.
func TestBenchWithChurn(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	broker := memory.NewBroker()
	d := desk.New(store, desk.Options{Events: realtime.NewPublisher(broker)})
	const email, password = "bench@example.com", "a long bench password"
	if _, _, err := d.Bootstrap(ctx, email, password); err != nil {
		t.Fatal(err)
	}
	ws := realtime.New(realtime.Options{Service: realtime.NewDeskService(d, httpapi.SessionCookie), Broker: broker})
	api := httpapi.New(httpapi.Options{Desk: d, Store: store})
	defer api.Close()
	mux := http.NewServeMux()
	mux.Handle("/ws", ws)
	mux.Handle("/", api)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		ws.Shutdown(sctx)
	}()

	res, err := Run(ctx, Config{URL: hs.URL, Visitors: 20, Agents: 2, Rate: 100, Duration: 2 * time.Second,
		Churn: 0.2, Reply: 0.3, Drain: 20 * time.Second, AgentEmail: email, AgentPassword: password})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", res.Text())
	if res.Sent == 0 || res.Acked == 0 || res.Delivered != res.Acked {
		t.Errorf("sent %d, acked %d, delivered %d", res.Sent, res.Acked, res.Delivered)
	}
	if res.Reconnects == 0 {
		t.Error("churn cut no socket")
	}
	if !res.OK() {
		t.Errorf("lost %d, duplicated %d, gaps %d", res.Lost, res.Duplicated, res.Gaps)
	}
}
