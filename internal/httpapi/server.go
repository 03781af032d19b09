// Package httpapi is Parley's REST API: it authenticates each request,
// decodes it strictly, calls internal/desk (where every permission is
// decided), and encodes the answer. Routes are declared in one table
// (routes.go) with the row of the authorization matrix each must satisfy.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

// Options configure a Server.
type Options struct {
	Desk           *desk.Desk
	Store          parley.Store // for /readyz (Ping) only; everything else goes through Desk
	Logger         *slog.Logger
	TrustedProxies []netip.Prefix // X-Forwarded-For is believed only from these
	UI             http.Handler   // serves everything not under /api, /healthz, /readyz, /ws; may be nil
	Realtime       http.Handler   // serves /ws (internal/realtime); may be nil
	Version        string
	// Clock is what the rate limiters read the time from; nil: time.Now.
	// Tests freeze it so that refills never depend on how fast they run.
	Clock func() time.Time
	// PublicURL is the origin (scheme://host[:port]) visitors reach the
	// server at, for the widget snippet; "" derives it from each request.
	PublicURL string
}

// SessionCookie is the name of the agents' session cookie.
const SessionCookie = "parley_session"

// Rate limits. Failed sign-ins: 10 per IP address, then one every 6 seconds;
// 5 per account, then one every 30 seconds. New visitors: 60 per IP address,
// then one per second.
const (
	loginIPBurst       = 10
	loginIPRefill      = 6 * time.Second
	loginAccountBurst  = 5
	loginAccountRefill = 30 * time.Second
	visitorBurst       = 60
	visitorRefill      = time.Second
	sweepEvery         = time.Minute
)

// Server is the HTTP handler of Parley.
type Server struct {
	desk    *desk.Desk
	store   parley.Store
	log     *slog.Logger
	proxies []netip.Prefix
	ui      http.Handler
	version string
	mux     *http.ServeMux
	// publicURL is Options.PublicURL.
	publicURL string

	loginIP      *limiter
	loginAccount *limiter
	visitorIP    *limiter

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

// New returns a Server. Call Close to stop its background work.
func New(opts Options) *Server {
	s := &Server{
		desk:         opts.Desk,
		store:        opts.Store,
		log:          opts.Logger,
		proxies:      opts.TrustedProxies,
		ui:           opts.UI,
		version:      opts.Version,
		publicURL:    strings.TrimSuffix(opts.PublicURL, "/"),
		mux:          http.NewServeMux(),
		loginIP:      newLimiter(loginIPBurst, loginIPRefill),
		loginAccount: newLimiter(loginAccountBurst, loginAccountRefill),
		visitorIP:    newLimiter(visitorBurst, visitorRefill),
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.Clock != nil {
		for _, l := range []*limiter{s.loginIP, s.loginAccount, s.visitorIP} {
			l.now = opts.Clock
		}
	}
	for _, rt := range Routes() {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.endpoint(rt))
	}
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, parley.Errorf(parley.ENOTFOUND, "No such endpoint."))
	})
	if opts.Realtime != nil {
		s.mux.Handle("/ws", opts.Realtime)
	}
	if s.ui != nil {
		s.mux.Handle("/", s.widgetFrames(s.ui))
	} else {
		s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	}
	go s.sweep()
	return s
}

// Close stops the limiters' sweeps.
func (s *Server) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
}

func (s *Server) sweep() {
	defer close(s.done)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.loginIP.sweep()
			s.loginAccount.sweep()
			s.visitorIP.sweep()
		}
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if isAPI(r.URL.Path) {
		h.Set("Cache-Control", "no-store")
	}
	s.mux.ServeHTTP(w, r)
}

func isAPI(p string) bool {
	return strings.HasPrefix(p, "/api/") || p == "/api" || p == "/healthz" || p == "/readyz"
}

// endpoint wraps a route's handler: it refuses credentials in the URL,
// authenticates the caller (unless the route is public), checks CSRF for
// cookie-authenticated writes, and writes the handler's error.
func (s *Server) endpoint(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Has("token") || q.Has("access_token") {
			s.writeError(w, r, parley.Errorf(parley.EINVALID, "Credentials are never accepted in the URL; send them in the Authorization header."))
			return
		}
		a := desk.Anon
		if !rt.Public {
			var err error
			a, err = s.authenticate(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if err := rt.handle(s, w, r, a); err != nil {
			s.writeError(w, r, err)
		}
	})
}

var errCSRF = &parley.Error{Code: parley.EFORBIDDEN, Message: "Missing or wrong X-CSRF-Token header."}

// authenticate returns the caller: by bearer token when an Authorization
// header is present (no cookie is then looked at), else by session cookie,
// else anonymous. Invalid credentials are EUNAUTHORIZED.
func (s *Server) authenticate(r *http.Request) (desk.Actor, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return desk.Anon, parley.Errorf(parley.EUNAUTHORIZED, "Use Authorization: Bearer <token>.")
		}
		return s.desk.AuthenticateBearer(ctx, strings.TrimSpace(tok))
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return desk.Anon, nil
	}
	a, err := s.desk.AuthenticateSession(ctx, c.Value)
	if err != nil {
		return desk.Anon, err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !desk.CheckCSRF(a, r.Header.Get("X-CSRF-Token")) {
			return desk.Anon, errCSRF
		}
	}
	return a, nil
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Value:    token,
		Path:     "/",
		Expires:  expires,
		HttpOnly: true,
		Secure:   s.overTLS(r),
		SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteLaxMode})
}

// health answers GET /healthz without touching the database.
func health(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// ready answers GET /readyz: 200 when the database answers.
func ready(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if s.store == nil {
		return parley.Errorf(parley.EUNAVAILABLE, "No database is configured.")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "err", err)
		return parley.Errorf(parley.EUNAVAILABLE, "The database is unavailable.")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "version": s.version})
	return nil
}
