package realtime

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
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
