// Package realtime is Parley's WebSocket endpoint (GET /ws): the protocol
// of docs/protocol.md, the subscriptions that carry a conversation's events
// to its sockets in seq order with nothing lost or repeated, presence,
// typing, and the limits that keep one client from hurting the others.
// Rules and storage belong to the Service (internal/desk, through
// NewDeskService); events travel through a parley.Broker, published after
// each commit by the desk, whose Events is a Publisher.
package realtime

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
)

// Options configure a Server. Zero values take the defaults shown.
type Options struct {
	Service Service       // required
	Broker  parley.Broker // required
	Logger  *slog.Logger  // nil: discard

	// AllowedOrigins lists the origins, besides the server's own, whose
	// pages may use an agent's session cookie on the socket: "https://host"
	// or a host pattern ("*.example.com", path.Match syntax). Sockets from
	// other origins must authenticate with a token.
	AllowedOrigins []string
	// ClientIP returns the caller's address (for the per-IP cap); nil: the
	// host of r.RemoteAddr. httpapi's trusted-proxy logic belongs here.
	ClientIP func(r *http.Request) string

	MaxConnsPerIP    int           // 500; < 0: no cap
	MaxFrameBytes    int64         // 64 KiB; a larger frame closes the socket with 1009
	QueueSize        int           // 256 frames queued per visitor socket before it is dropped as slow
	AgentQueueSize   int           // 1024 per agent socket, which gets the events of many conversations
	MaxSubscriptions int           // 200 conversations per visitor socket
	AgentMaxSubs     int           // 5000 conversations per agent socket
	FrameRate        float64       // 50 frames/s per visitor socket ...
	FrameBurst       int           // ... with bursts of 100
	AgentFrameRate   float64       // 1000 frames/s per agent socket (resuming a whole inbox) ...
	AgentFrameBurst  int           // ... with bursts of 5000
	SendRate         float64       // 10 sends/s per visitor socket ...
	SendBurst        int           // ... with bursts of 20
	AgentSendRate    float64       // 50 sends/s per agent socket ...
	AgentSendBurst   int           // ... with bursts of 100
	MaxStrikes       int           // 20 refused frames (decaying 1/s) before closing with 1008
	PingInterval     time.Duration // 30s: idle sockets are pinged this often
	PongTimeout      time.Duration // 10s for the pong of a ping before the socket is closed
	AuthTimeout      time.Duration // 10s for the auth frame
	WriteTimeout     time.Duration // 10s per batch of frames
	TypingInterval   time.Duration // 2s: at most one typing start per conversation
}

func (o *Options) defaults() {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setf := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	setd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&o.MaxConnsPerIP, 500)
	if o.MaxFrameBytes <= 0 {
		o.MaxFrameBytes = 64 << 10
	}
	set(&o.QueueSize, 256)
	set(&o.AgentQueueSize, 1024)
	o.QueueSize, o.AgentQueueSize = max(o.QueueSize, 4), max(o.AgentQueueSize, 4)
	set(&o.MaxSubscriptions, 200)
	set(&o.AgentMaxSubs, 5000)
	setf(&o.FrameRate, 50)
	set(&o.FrameBurst, 100)
	setf(&o.AgentFrameRate, 1000)
	set(&o.AgentFrameBurst, 5000)
	setf(&o.SendRate, 10)
	set(&o.SendBurst, 20)
	setf(&o.AgentSendRate, 50)
	set(&o.AgentSendBurst, 100)
	set(&o.MaxStrikes, 20)
	setd(&o.PingInterval, 30*time.Second)
	setd(&o.PongTimeout, 10*time.Second)
	setd(&o.AuthTimeout, 10*time.Second)
	setd(&o.WriteTimeout, 10*time.Second)
	setd(&o.TypingInterval, 2*time.Second)
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Server serves GET /ws. Create it with New; stop it with Shutdown, which
// http.Server.Shutdown does not do for hijacked connections.
type Server struct {
	opts   Options
	svc    Service
	broker parley.Broker
	log    *slog.Logger
	hub    *hub

	ids      atomic.Uint64
	draining atomic.Bool
	conns    sync.WaitGroup
	stop     chan struct{}
	stopOnce sync.Once
}

// New returns a Server; it starts the keepalive sweeper.
func New(opts Options) *Server {
	opts.defaults()
	s := &Server{opts: opts, svc: opts.Service, broker: opts.Broker, log: opts.Logger, stop: make(chan struct{})}
	s.hub = newHub(s)
	// Connection ids travel in broker events; a random base keeps them
	// apart across nodes.
	var b [8]byte
	rand.Read(b[:])
	s.ids.Store(binary.BigEndian.Uint64(b[:]) &^ (1 << 63))
	go s.hub.sweep(s.stop)
	return s
}

// Online reports whether the principal has a socket open on this node.
func (s *Server) Online(t parley.ParticipantType, id string) bool { return s.hub.isOnline(t, id) }

// Connections returns how many authenticated sockets are open.
func (s *Server) Connections() int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return len(s.hub.clients)
}

// Shutdown refuses new sockets, lets each socket finish the frame it is
// handling (so its ack goes out), flushes what is queued, and closes every
// socket with 1001. When ctx ends first, the rest are cut.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.stopOnce.Do(func() { close(s.stop) })
	for _, c := range s.hub.snapshot() {
		c.opMu.Lock()
		c.draining = true
		c.opMu.Unlock()
		c.closeAfterFlush(closeShutdown, "server shutting down")
	}
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range s.hub.snapshot() {
			c.conn.CloseNow()
		}
		<-done
		return ctx.Err()
	}
}

// queryCredentials are URL parameters refused outright: a credential in a
// URL is written to access logs and browser history.
var queryCredentials = []string{"token", "access_token", "auth", "authorization", "key", "api_key"}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		httpError(w, http.StatusMethodNotAllowed, parley.Errorf(parley.EINVALID, "Use GET to open a socket."))
		return
	}
	q := r.URL.Query()
	for _, k := range queryCredentials {
		if q.Has(k) {
			httpError(w, http.StatusBadRequest, parley.Errorf(parley.EINVALID,
				"Credentials are not accepted in the URL; send them in the auth frame or the Authorization header."))
			return
		}
	}
	if s.draining.Load() {
		httpError(w, http.StatusServiceUnavailable, errDraining)
		return
	}
	ip := s.clientIP(r)
	if !s.hub.admitIP(ip) {
		httpError(w, http.StatusTooManyRequests, parley.Errorf(parley.ERATELIMITED, "Too many connections from your address."))
		return
	}
	// The socket's context outlives the request and is never cancelled:
	// what runs for the socket ends with its connection. A context with no
	// Done channel also costs nothing per read (the WebSocket library
	// watches a cancellable one at every frame) or per store query, and
	// holds no children for an idle socket. It carries none of the
	// request's values (nothing reads them): derived from the request's, it
	// would keep net/http's contexts for the connection alive as long as
	// the socket.
	ctx := context.Background()
	// release gives back what the socket holds; the handler calls it when
	// the socket ends during the handshake, client.finish once it has been
	// handed off.
	accepted, handedOff := false, false
	release := func() {
		s.hub.releaseIP(ip)
		if accepted {
			s.conns.Done()
		}
	}
	defer func() {
		if !handedOff {
			release()
		}
	}()

	// Credentials in the handshake are checked before upgrading, so a bad
	// one costs no socket.
	var p Principal
	authed := false
	if tok := handshakeToken(r); tok != "" {
		var err error
		if p, err = s.svc.Authenticate(ctx, r, tok); err != nil {
			httpError(w, httpStatus(err), err)
			return
		}
		authed = true
	} else if len(r.Cookies()) > 0 && s.originAllowed(r) {
		pp, err := s.svc.Authenticate(ctx, r, "")
		switch {
		case err == nil:
			p, authed = pp, true
		case parley.IsCode(err, parley.EUNAUTHORIZED):
			// not signed in: the socket may still authenticate by frame
		default:
			httpError(w, httpStatus(err), err)
			return
		}
	}

	sb := &smallBuffers{ResponseWriter: w}
	conn, err := websocket.Accept(sb, r, &websocket.AcceptOptions{
		Subprotocols: []string{Version},
		// Origin is checked above, and only where it matters: for the
		// session cookie. Token sockets come from widgets on any site.
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return
	}
	s.conns.Add(1)
	accepted = true
	conn.SetReadLimit(s.opts.MaxFrameBytes)

	if !authed {
		var ok bool
		if p, ok = s.authenticateByFrame(ctx, conn, r); !ok {
			return
		}
	}

	c := &client{srv: s, conn: conn, ic: sb.conn, p: p, ip: ip, ctx: ctx, id: s.ids.Add(1), reading: true}
	c.ic.onPong = c.ponged
	c.drained = sync.NewCond(&c.mu)
	c.maxSubs = s.opts.MaxSubscriptions
	if p.IsAgent() {
		c.frames = newBucket(s.opts.AgentFrameRate, s.opts.AgentFrameBurst)
		c.sends = newBucket(s.opts.AgentSendRate, s.opts.AgentSendBurst)
		c.maxSubs = s.opts.AgentMaxSubs
		c.queueSize = s.opts.AgentQueueSize
	} else {
		c.frames = newBucket(s.opts.FrameRate, s.opts.FrameBurst)
		c.sends = newBucket(s.opts.SendRate, s.opts.SendBurst)
		c.queueSize = s.opts.QueueSize
	}
	c.strikes = newBucket(1, s.opts.MaxStrikes)
	c.touch()
	if s.draining.Load() {
		conn.Close(closeShutdown, "server shutting down")
		return
	}
	if p.IsAgent() {
		// Before ready, so a credential that ends from now on closes the
		// socket on whichever node ends it.
		cancel, err := s.broker.Subscribe(parley.UserTopic(p.ID), c.onUserEvent)
		if err != nil {
			s.log.Warn("realtime: subscribing to the user's events", "err", err)
			conn.Close(CloseCode(err), parley.ErrorMessage(err))
			return
		}
		c.user = cancel
	}
	// ready is written by this goroutine (see client.handleInline).
	c.handleInline(func() {
		c.reply(&Frame{Type: TypeReady, Version: Version, Principal: whoOf(p)})
		s.hub.add(c)
	})
	// The socket lives on in goroutines of its own (client.serveFrames) and
	// the handler returns: the hijacked connection is no longer net/http's,
	// and what the handshake held (the request and its headers, the stack
	// grown while authenticating and the middleware's frames) is freed
	// instead of being kept for the socket's life, a third of an idle
	// socket's memory.
	handedOff = true
	c.release = release
	sb.conn.lingerBetweenMessages()
	go c.serveFrames()
}

// authenticateByFrame waits for the auth frame of a socket that brought no
// credentials, closing it with 4401 when none comes in time.
func (s *Server) authenticateByFrame(ctx context.Context, conn *websocket.Conn, r *http.Request) (Principal, bool) {
	timer := time.AfterFunc(s.opts.AuthTimeout, func() {
		conn.Close(CloseUnauthorized, "authentication timed out")
	})
	typ, data, err := conn.Read(ctx)
	timer.Stop()
	if err != nil {
		conn.CloseNow()
		return Principal{}, false
	}
	var f Frame
	if typ != websocket.MessageText || json.Unmarshal(data, &f) != nil || f.Type != TypeAuth || f.Token == "" {
		conn.Close(CloseUnauthorized, "authenticate first: {\"type\":\"auth\",\"token\":...}")
		return Principal{}, false
	}
	p, err := s.svc.Authenticate(ctx, r, f.Token)
	if err != nil {
		if !parley.IsCode(err, parley.EUNAUTHORIZED) {
			s.log.Warn("realtime: authenticating", "err", err)
		}
		conn.Close(CloseCode(err), parley.ErrorMessage(err))
		return Principal{}, false
	}
	return p, true
}

// handshakeToken returns a token from the Authorization header or the
// parley.auth.<token> subprotocol.
func handshakeToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); strings.HasPrefix(p, tokenProtocolPrefix) {
				return p[len(tokenProtocolPrefix):]
			}
		}
	}
	return ""
}

// originAllowed reports whether a session cookie may be used by the page
// that opened the socket: its own origin, an allowed one, or no browser at
// all (no Origin header; cross-site requests from browsers always send it).
func (s *Server) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, pat := range s.opts.AllowedOrigins {
		target := u.Host
		if strings.Contains(pat, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(pat), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

func (s *Server) clientIP(r *http.Request) string {
	if s.opts.ClientIP != nil {
		return s.opts.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// httpStatus maps the errors refused before the upgrade; the socket's own
// table is closeCodes.
func httpStatus(err error) int {
	switch parley.ErrorCode(err) {
	case parley.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case parley.EFORBIDDEN:
		return http.StatusForbidden
	case parley.ERATELIMITED:
		return http.StatusTooManyRequests
	case parley.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case parley.EINVALID:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func httpError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
		"code": parley.ErrorCode(err), "message": parley.ErrorMessage(err)}})
}
