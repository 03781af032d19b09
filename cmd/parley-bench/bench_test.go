package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
	url, email, password := startServer(t)
	res, err := Run(ctx, Config{URL: url, Visitors: 20, Agents: 2, Rate: 100, Duration: 2 * time.Second,
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

// TestBenchSend runs the send scenario against a real server and requires
// every acknowledged message to be read back once, at its seq.
func TestBenchSend(t *testing.T) {
	url, _, _ := startServer(t)
	res, err := Run(context.Background(), Config{Scenario: "send", URL: url, Visitors: 12, Clients: 5,
		Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", res.Text())
	if res.Acked == 0 || res.Delivered != res.Acked || res.Errors != 0 {
		t.Errorf("sent %d, acked %d, read back %d, errors %d %v", res.Sent, res.Acked, res.Delivered, res.Errors, res.ErrorCodes)
	}
	if !res.OK() {
		t.Errorf("lost %d, duplicated %d, gaps %d", res.Lost, res.Duplicated, res.Gaps)
	}
}

// TestCommandLine runs the command as a user would, with its own CPU
// profile: it exits 0 when nothing was lost, prints the JSON summary last,
// and writes the profile (gzipped, as pprof writes it).
func TestCommandLine(t *testing.T) {
	url, _, _ := startServer(t)
	prof := filepath.Join(t.TempDir(), "bench.cpu")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-scenario", "send", "-url", url, "-visitors", "4", "-clients", "2",
		"-duration", "500ms", "-json", "-cpuprofile", prof}, func(string) string { return "" }, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res Result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil || res.Acked == 0 {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("the profile is not a pprof file (%d bytes)", len(b))
	}
}

// TestVerifySendsCounts checks the read-back against a server whose
// answers are given: a missing message is lost, a client id stored twice is
// duplicated, and a missing seq or a seq other than the acknowledged one is
// a gap.
func TestVerifySendsCounts(t *testing.T) {
	stored := `{"messages":[
		{"id":"m1","seq":1,"clientMessageId":"a"},
		{"id":"m2","seq":2,"clientMessageId":"b"},
		{"id":"m2b","seq":3,"clientMessageId":"b"},
		{"id":"m5","seq":5,"clientMessageId":"d"}]}`
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.URL.Query().Get("after") != "0" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.Write([]byte(stored))
	}))
	defer hs.Close()
	b := &bench{cfg: Config{URL: hs.URL}, clients: []*http.Client{hs.Client()}}
	v := &sendVisitor{visitor: &visitor{token: "tok", conv: "c"}, acked: []sentMsg{
		{clientID: "a", messageID: "m1", seq: 1}, // stored as acknowledged
		{clientID: "b", messageID: "m2", seq: 2}, // stored, then stored again
		{clientID: "c", messageID: "m3", seq: 3}, // never stored
		{clientID: "d", messageID: "m5", seq: 4}, // stored at another seq
	}}
	var r Result
	if err := b.verifySends(context.Background(), v, &r); err != nil {
		t.Fatal(err)
	}
	if r.Delivered != 2 || r.Lost != 1 || r.Duplicated != 1 || r.Gaps != 2 {
		t.Errorf("read back %d, lost %d, duplicated %d, gaps %d; want 2, 1, 1, 2", r.Delivered, r.Lost, r.Duplicated, r.Gaps)
	}
}

// startServer starts SQLite, desk, REST and the socket on a loopback port
// and returns its URL and an agent's login.
func startServer(t *testing.T) (url, email, password string) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	broker := memory.NewBroker()
	d := desk.New(store, desk.Options{Events: realtime.NewPublisher(broker)})
	email, password = "bench@example.com", "a long bench password"
	if _, _, err := d.Bootstrap(ctx, email, password); err != nil {
		t.Fatal(err)
	}
	ws := realtime.New(realtime.Options{Service: realtime.NewDeskService(d, httpapi.SessionCookie), Broker: broker})
	api := httpapi.New(httpapi.Options{Desk: d, Store: store})
	t.Cleanup(func() { api.Close() })
	mux := http.NewServeMux()
	mux.Handle("/ws", ws)
	mux.Handle("/", api)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		ws.Shutdown(sctx)
	})
	return hs.URL, email, password
}
