package realtime

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/memory"
)

// gatedService is the real service (NewDeskService on a desk over a real
// store) with a gate in front of Send: when set, Send signals entered and
// waits for the gate to open, so a test can act while a send is in flight.
type gatedService struct {
	Service

	mu      sync.Mutex
	gate    chan struct{}
	entered chan struct{}
}

func (s *gatedService) Send(ctx context.Context, p Principal, in SendInput) (*parley.Message, bool, error) {
	s.mu.Lock()
	gate, entered := s.gate, s.entered
	s.mu.Unlock()
	if gate != nil {
		entered <- struct{}{}
		<-gate
	}
	return s.Service.Send(ctx, p, in)
}

func (s *gatedService) Connected(ctx context.Context, p Principal) error {
	return s.Service.(PresenceRecorder).Connected(ctx, p)
}

func (s *gatedService) Disconnected(ctx context.Context, p Principal) error {
	return s.Service.(PresenceRecorder).Disconnected(ctx, p)
}

func hashToken(tok string) string { return desk.HashToken(tok) }

func newToken(prefix string) string {
	var b [32]byte
	rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// principal authenticates token as the socket would.
func (e *env) principal(token string) Principal {
	e.t.Helper()
	p, err := e.svc.Authenticate(ctxT, &http.Request{}, token)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// presenceLog is a PresenceRecorder whose Disconnected can be held at a
// gate, to order the calls of two racing transitions.
type presenceLog struct {
	Service
	mu      sync.Mutex
	calls   []string
	gate    chan struct{} // Disconnected waits for it when set
	entered chan struct{}
}

func (l *presenceLog) Connected(ctx context.Context, p Principal) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, "connected")
	return nil
}

func (l *presenceLog) Disconnected(ctx context.Context, p Principal) error {
	if l.gate != nil {
		l.entered <- struct{}{}
		<-l.gate
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, "disconnected")
	return nil
}

// TestPresenceAfterRacingReconnect: an agent's old socket ends as the new
// one starts, and the old one's Disconnected runs after the new one's
// Connected. The last call must still say the agent is connected (else an
// agent with a socket is taken offline after the grace period).
func TestPresenceAfterRacingReconnect(t *testing.T) {
	rec := &presenceLog{gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	srv := New(Options{Service: rec, Broker: memory.NewBroker()})
	p := Principal{Type: parley.ParticipantAgent, ID: parley.NewID(), Name: "Alice"}
	newClient := func(id uint64) *client {
		c := &client{srv: srv, p: p, ctx: context.Background(), id: id}
		c.drained = sync.NewCond(&c.mu)
		return c
	}
	old, fresh := newClient(1), newClient(2)
	srv.hub.add(old)
	defer func() {
		// The clients have no sockets: out of the hub before the server
		// would ping them.
		srv.hub.remove(fresh)
		srv.Shutdown(t.Context())
	}()
	done := make(chan struct{})
	go func() {
		srv.hub.remove(old)
		close(done)
	}()
	<-rec.entered // the old socket's Disconnected has begun
	srv.hub.add(fresh)
	close(rec.gate)
	<-done
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if n := len(rec.calls); n == 0 || rec.calls[n-1] != "connected" {
		t.Fatalf("presence calls %v: the last one contradicts the open socket", rec.calls)
	}
}
