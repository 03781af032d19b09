package realtime

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/parleychat/parley"
)

// hub knows this node's sockets: to cap them per IP, to find the idle ones,
// to close them all on shutdown, and to tell when a principal comes online
// or goes offline (on the node, overall and per conversation).
type hub struct {
	srv *Server

	mu       sync.Mutex
	clients  map[*client]struct{}
	perIP    map[string]int
	online   map[string]int                 // principal key -> sockets
	watchers map[string][]conversationWatch // conversation -> its principals here
}

// conversationWatch counts one principal's sockets following a
// conversation. A conversation has few principals (its visitor, an agent
// or two), so they are a slice rather than a map: every socket adds one.
// It keeps what presence frames name, not the whole principal.
type conversationWatch struct {
	who     Who
	sockets int
}

func (w *conversationWatch) is(p Principal) bool {
	return w.who.Type == string(p.Type) && w.who.ID == p.ID
}

func newHub(s *Server) *hub {
	return &hub{srv: s, clients: map[*client]struct{}{}, perIP: map[string]int{},
		online: map[string]int{}, watchers: map[string][]conversationWatch{}}
}

func key(p Principal) string { return string(p.Type) + ":" + p.ID }

// admitIP reserves a connection slot for ip; false when the cap is reached.
func (h *hub) admitIP(ip string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if max := h.srv.opts.MaxConnsPerIP; max > 0 && h.perIP[ip] >= max {
		return false
	}
	h.perIP[ip]++
	return true
}

func (h *hub) releaseIP(ip string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.perIP[ip]--; h.perIP[ip] <= 0 {
		delete(h.perIP, ip)
	}
}

// add registers an authenticated client and announces its principal online
// when this is their first socket.
func (h *hub) add(c *client) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	k := key(c.p)
	h.online[k]++
	first := h.online[k] == 1
	h.mu.Unlock()
	if first {
		h.presence(c, true)
	}
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	_, ok := h.clients[c]
	delete(h.clients, c)
	k := key(c.p)
	last := false
	if ok {
		if h.online[k]--; h.online[k] <= 0 {
			delete(h.online, k)
			last = true
		}
	}
	h.mu.Unlock()
	if last {
		h.presence(c, false)
	}
}

// presence announces c's principal online or offline and tells the
// PresenceRecorder, outside the hub's lock. One principal's sockets may
// open and close at once (an agent reconnecting: the old socket's end and
// the new one's start race), so the calls of two transitions may run in
// either order, and the last one could contradict the count: an agent with
// a socket would be counted down to offline. After each call the count is
// read again, and while it says otherwise the other call is made, so the
// last call made always says what the count says.
func (h *hub) presence(c *client, online bool) {
	k := key(c.p)
	r, record := h.srv.svc.(PresenceRecorder)
	for {
		h.announce(c, parley.InboxTopic, "", online)
		if record {
			call := r.Disconnected
			if online {
				call = r.Connected
			}
			if err := call(context.WithoutCancel(c.ctx), c.p); err != nil {
				h.srv.log.Warn("realtime: recording presence", "err", err)
			}
		}
		h.mu.Lock()
		now := h.online[k] > 0
		h.mu.Unlock()
		if now == online {
			return
		}
		online = now
	}
}

// Online reports whether the principal has a socket on this node.
func (h *hub) isOnline(t parley.ParticipantType, id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.online[string(t)+":"+id] > 0
}

// watch records that c follows conversation conv, announces its principal
// there when first, and tells c who else is there.
func (h *hub) watch(c *client, conv string) {
	h.mu.Lock()
	ws := h.watchers[conv]
	i := slices.IndexFunc(ws, func(w conversationWatch) bool { return w.is(c.p) })
	if i < 0 {
		i = len(ws)
		ws = append(ws, conversationWatch{who: *whoOf(c.p)})
		h.watchers[conv] = ws
	}
	ws[i].sockets++
	first := ws[i].sockets == 1
	var others []Who
	for j, o := range ws {
		if j != i {
			others = append(others, o.who)
		}
	}
	h.mu.Unlock()
	for _, o := range others {
		c.reply(&Frame{Type: TypePresence, ConversationID: conv, From: &o, Online: true})
	}
	if first {
		h.announce(c, parley.ConversationTopic(conv), conv, true)
	}
}

func (h *hub) unwatch(c *client, conv string) {
	h.mu.Lock()
	last := false
	ws := h.watchers[conv]
	if i := slices.IndexFunc(ws, func(w conversationWatch) bool { return w.is(c.p) }); i >= 0 {
		if ws[i].sockets--; ws[i].sockets <= 0 {
			ws = slices.Delete(ws, i, i+1)
			last = true
			if len(ws) == 0 {
				delete(h.watchers, conv)
			} else {
				h.watchers[conv] = ws
			}
		}
	}
	h.mu.Unlock()
	if last {
		h.announce(c, parley.ConversationTopic(conv), conv, false)
	}
}

func (h *hub) announce(c *client, topic, conv string, online bool) {
	f := &Frame{Type: TypePresence, ConversationID: conv, From: whoOf(c.p), Online: online}
	if !online {
		now := parley.Now()
		f.LastSeen = &now
	}
	aud := audienceAll
	if topic == parley.InboxTopic {
		aud = audienceAgents
	}
	if err := h.srv.broker.Publish(context.WithoutCancel(c.ctx), topic, envelope(aud, 0, c.id, encode(f))); err != nil {
		h.srv.log.Warn("realtime: publishing presence", "err", err)
	}
}

func (h *hub) snapshot() []*client { return h.appendClients(nil) }

// appendClients appends the node's sockets to out.
func (h *hub) appendClients(out []*client) []*client {
	h.mu.Lock()
	defer h.mu.Unlock()
	out = slices.Grow(out, len(h.clients))
	for c := range h.clients {
		out = append(out, c)
	}
	return out
}

// sweep asks idle sockets for a pong and closes those whose pong is
// overdue. One ticker for the whole node, none per socket.
//
// It runs every second (or more often, for short intervals), so each sweep
// pings the sockets that fell idle in the last second: about one in 30 of a
// node's idle sockets, whose last frames are spread in time, and so their
// pongs, each of which wakes its socket for a moment, are spread too. A
// parked socket is pinged in place by the sweep (see requestPing).
func (h *hub) sweep(stop <-chan struct{}) {
	t := time.NewTicker(sweepInterval(h.srv.opts))
	defer t.Stop()
	var clients []*client // reused: a sweep allocates nothing
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			idle := now.Add(-h.srv.opts.PingInterval).UnixNano()
			clients = h.appendClients(clients[:0])
			for _, c := range clients {
				switch {
				case c.pongOverdue(now):
					c.cut(closeIdle, "no pong")
				case c.pingSent.Load() == 0 && c.lastRead.Load() < idle:
					c.requestPing()
				}
			}
			clear(clients) // keeps no closed socket alive until the next sweep
		}
	}
}

// sweepInterval is how often the hub sweeps: every second, or as often as a
// shorter ping interval or pong timeout needs.
func sweepInterval(o Options) time.Duration {
	return min(time.Second, o.PingInterval/2, o.PongTimeout)
}
