package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/internal/realtime"
)

// Config is one run of the bench.
type Config struct {
	Scenario      string // "chat" (sockets) or "send" (POST /api/messages/send)
	URL           string
	Visitors      int
	Agents        int
	Clients       int     // send: keep-alive connections
	Rate          float64 // visitor messages per second, in total
	Duration      time.Duration
	Churn         float64 // fraction of sockets cut per second
	Reply         float64 // fraction of visitor messages answered
	Drain         time.Duration
	JSON          bool
	SourceAddrs   []string
	AgentEmail    string
	AgentPassword string
	CPUProfile    string // a file for parley-bench's own CPU profile
}

func (c *Config) validate() error {
	switch c.Scenario {
	case "", "chat":
		switch {
		case c.Visitors < 1 || c.Agents < 1:
			return errors.New("-visitors and -agents must be at least 1")
		case c.Rate <= 0:
			return errors.New("-rate must be positive")
		case c.Churn < 0 || c.Churn > 1 || c.Reply < 0 || c.Reply > 1:
			return errors.New("-churn and -reply must be between 0 and 1")
		case c.AgentPassword == "":
			return errors.New("-agent-password (or PARLEY_BENCH_AGENT_PASSWORD) is required")
		}
	case "send":
		if c.Clients < 1 || c.Visitors < c.Clients {
			return errors.New("-scenario send needs -clients of at least 1 and at least as many -visitors")
		}
	default:
		return fmt.Errorf("-scenario must be chat or send, not %q", c.Scenario)
	}
	if c.Duration <= 0 {
		return errors.New("-duration must be positive")
	}
	for _, a := range c.SourceAddrs {
		if net.ParseIP(a) == nil {
			return fmt.Errorf("-source-addrs: %q is not an IP address", a)
		}
	}
	return nil
}

// Result is what a run measured. Lost counts messages acked to their sender
// but never delivered to the other side; Duplicated, messages delivered to
// one socket twice; Gaps, messages that arrived after a later seq.
type Result struct {
	Scenario    string  `json:"scenario"`
	Sent        int64   `json:"sent"`
	Acked       int64   `json:"acked"`
	Delivered   int64   `json:"delivered"`
	Lost        int64   `json:"lost"`
	Duplicated  int64   `json:"duplicated"`
	Gaps        int64   `json:"gaps"`
	MsgsPerSec  float64 `json:"msgs_per_sec"`
	AckP50      float64 `json:"ack_p50_ms"`
	AckP99      float64 `json:"ack_p99_ms"`
	E2EP50      float64 `json:"e2e_p50_ms"`
	E2EP99      float64 `json:"e2e_p99_ms"`
	Connections int64   `json:"connections"`
	Reconnects  int64   `json:"reconnects"`
	Errors      int64   `json:"errors"` // error frames and failed dials
	// ErrorCodes counts the errors by code ("dial" for failed dials,
	// "close_<code>" for sockets the server closed).
	ErrorCodes map[string]int64 `json:"error_codes,omitempty"`
	Seconds    float64          `json:"seconds"`
}

// OK reports whether the delivery promise held.
func (r Result) OK() bool { return r.Lost == 0 && r.Duplicated == 0 && r.Gaps == 0 }

// Text is the summary for people.
func (r Result) Text() string {
	if r.Scenario == "send" {
		return fmt.Sprintf("sent %d, acknowledged %d, read back %d: lost %d, duplicated %d, gaps %d\n"+
			"%.0f requests/s over %.1fs; response p50 %.1f ms p99 %.1f ms\n"+
			"%d connections, %d reconnects, %d errors %v\n",
			r.Sent, r.Acked, r.Delivered, r.Lost, r.Duplicated, r.Gaps, r.MsgsPerSec, r.Seconds,
			r.AckP50, r.AckP99, r.Connections, r.Reconnects, r.Errors, r.ErrorCodes)
	}
	return fmt.Sprintf("sent %d, acked %d, delivered %d: lost %d, duplicated %d, gaps %d\n"+
		"%.0f msgs/s over %.1fs; ack p50 %.1f ms p99 %.1f ms; end to end p50 %.1f ms p99 %.1f ms\n"+
		"%d connections, %d reconnects, %d errors %v\n",
		r.Sent, r.Acked, r.Delivered, r.Lost, r.Duplicated, r.Gaps, r.MsgsPerSec, r.Seconds,
		r.AckP50, r.AckP99, r.E2EP50, r.E2EP99, r.Connections, r.Reconnects, r.Errors, r.ErrorCodes)
}

// record follows one message from send to delivery.
type record struct {
	sentAt    time.Time
	acked     bool
	delivered bool
}

type bench struct {
	cfg     Config
	clients []*http.Client // one per source address
	wsURL   string

	mu      sync.Mutex
	records map[string]*record // by clientMessageId
	ackLat  []time.Duration
	e2eLat  []time.Duration

	sent, acked, delivered, duplicated, gaps atomic.Int64
	reconnects, errs, open, peak             atomic.Int64
	errCodes                                 map[string]int64 // under mu
}

// fail counts an error of the given code.
func (b *bench) fail(code string) {
	b.errs.Add(1)
	b.mu.Lock()
	if b.errCodes == nil {
		b.errCodes = map[string]int64{}
	}
	b.errCodes[code]++
	b.mu.Unlock()
}

// Run runs the bench against cfg.URL and returns what it measured.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	b := &bench{cfg: cfg, records: map[string]*record{}}
	b.wsURL = "ws" + strings.TrimPrefix(strings.TrimSuffix(cfg.URL, "/"), "http") + "/ws"
	srcs := cfg.SourceAddrs
	if len(srcs) == 0 {
		srcs = []string{""}
	}
	for _, s := range srcs {
		d := &net.Dialer{Timeout: 10 * time.Second}
		if s != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(s)}
		}
		b.clients = append(b.clients, &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			DialContext: d.DialContext, MaxIdleConnsPerHost: 64}})
	}

	if cfg.Scenario == "send" {
		return b.runSend(ctx)
	}
	cookie, err := b.login(ctx)
	if err != nil {
		return Result{}, err
	}
	visitors, err := b.createVisitors(ctx)
	if err != nil {
		return Result{}, err
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	agents := make([]*peer, cfg.Agents)
	for i := range agents {
		agents[i] = b.newPeer(i, http.Header{"Cookie": {cookie}}, false)
	}
	for _, v := range visitors {
		h := fnv.New32a()
		h.Write([]byte(v.conv))
		a := agents[int(h.Sum32())%len(agents)]
		a.convs = append(a.convs, v.conv)
	}
	all := slices.Clone(agents)
	for _, v := range visitors {
		all = append(all, v.peer)
	}
	for _, p := range all {
		wg.Add(1)
		go func() { defer wg.Done(); p.loop(runCtx) }()
	}
	setup := time.After(2 * time.Minute)
	for _, p := range all {
		select {
		case <-p.readyOnce:
		case <-setup:
			return Result{}, errors.New("sockets did not all connect and resume within 2 minutes")
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}

	start := time.Now()
	sendCtx, stopSending := context.WithTimeout(runCtx, cfg.Duration)
	defer stopSending()
	var senders sync.WaitGroup
	interval := time.Duration(float64(time.Second) * float64(cfg.Visitors) / cfg.Rate)
	for _, v := range visitors {
		senders.Add(1)
		go func() { defer senders.Done(); b.visitorSends(sendCtx, v, interval) }()
	}
	if cfg.Churn > 0 {
		go b.churn(sendCtx, all)
	}
	senders.Wait()
	sending := time.Since(start)

	// Let deliveries and retried sends finish.
	deadline := time.Now().Add(cfg.Drain)
	for time.Now().Before(deadline) && !b.settled(all) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	return b.result(sending), nil
}

func (b *bench) client(i int) *http.Client { return b.clients[i%len(b.clients)] }

func (b *bench) login(ctx context.Context) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": b.cfg.AgentEmail, "password": b.cfg.AgentPassword})
	req, _ := http.NewRequestWithContext(ctx, "POST", b.cfg.URL+"/api/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	jar, _ := cookiejar.New(nil)
	c := *b.client(0)
	c.Jar = jar
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("signing in: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("signing in as %s: HTTP %d", b.cfg.AgentEmail, resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "parley_session" {
			return ck.Name + "=" + ck.Value, nil
		}
	}
	return "", errors.New("signing in: no session cookie")
}

type visitor struct {
	i     int
	token string
	conv  string
	peer  *peer
	n     int
}

// post sends a JSON request, retrying while the server rate-limits it.
func (b *bench) post(ctx context.Context, i int, path, token string, in, out any) error {
	body, _ := json.Marshal(in)
	for {
		req, _ := http.NewRequestWithContext(ctx, "POST", b.cfg.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := b.client(i).Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			resp.Body.Close()
			select {
			case <-time.After(time.Second):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("POST %s: HTTP %d", path, resp.StatusCode)
		}
		return json.NewDecoder(resp.Body).Decode(out)
	}
}

func (b *bench) createVisitors(ctx context.Context) ([]*visitor, error) {
	vs := make([]*visitor, b.cfg.Visitors)
	errc := make(chan error, len(vs))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range vs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var v struct{ Token string }
			if err := b.post(ctx, i, "/api/visitors", "", map[string]string{"name": fmt.Sprint("bench visitor ", i)}, &v); err != nil {
				errc <- fmt.Errorf("creating a visitor: %w", err)
				return
			}
			var c struct{ ID string }
			if err := b.post(ctx, i, "/api/conversations", v.Token, map[string]any{}, &c); err != nil {
				errc <- fmt.Errorf("starting a conversation: %w", err)
				return
			}
			vs[i] = &visitor{i: i, token: v.Token, conv: c.ID}
			vs[i].peer = b.newPeer(b.cfg.Agents+i, http.Header{"Authorization": {"Bearer " + v.Token}}, true)
			vs[i].peer.convs = []string{c.ID}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	return vs, nil
}

func (b *bench) visitorSends(ctx context.Context, v *visitor, interval time.Duration) {
	// Spread the first sends over one interval so the load is even.
	select {
	case <-time.After(rand.N(interval)):
	case <-ctx.Done():
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		id := fmt.Sprintf("v%d-%d", v.i, v.n)
		v.n++
		b.send(v.peer, v.conv, id, "hello "+id)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

func (b *bench) send(p *peer, conv, id, content string) {
	b.mu.Lock()
	b.records[id] = &record{sentAt: time.Now()}
	b.mu.Unlock()
	b.sent.Add(1)
	p.send(realtime.Frame{Type: realtime.TypeSend, ConversationID: conv, ClientMessageID: id, Content: content})
}

func (b *bench) onAck(f realtime.Frame) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.records[f.ClientMessageID]
	if r == nil || r.acked {
		return
	}
	r.acked = true
	b.acked.Add(1)
	b.ackLat = append(b.ackLat, time.Since(r.sentAt))
}

// onDelivered counts a message reaching the side it was written for.
func (b *bench) onDelivered(f realtime.Frame) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.records[f.ClientMessageID]
	if r == nil {
		return
	}
	if r.delivered {
		b.duplicated.Add(1)
		return
	}
	r.delivered = true
	b.delivered.Add(1)
	b.e2eLat = append(b.e2eLat, time.Since(r.sentAt))
}

// settled reports whether every acked message was delivered and no send
// waits for its ack.
func (b *bench) settled(peers []*peer) bool {
	for _, p := range peers {
		p.mu.Lock()
		n := len(p.outbox)
		p.mu.Unlock()
		if n > 0 {
			return false
		}
	}
	return b.acked.Load() == b.delivered.Load()
}

func (b *bench) churn(ctx context.Context, peers []*peer) {
	const tick = 100 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	var owed float64
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		owed += b.cfg.Churn * float64(len(peers)) * tick.Seconds()
		for ; owed >= 1; owed-- {
			peers[rand.N(len(peers))].cut()
		}
	}
}

func (b *bench) result(sending time.Duration) Result {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := Result{
		Scenario: "chat", Sent: b.sent.Load(), Acked: b.acked.Load(), Delivered: b.delivered.Load(),
		Duplicated: b.duplicated.Load(), Gaps: b.gaps.Load(), Connections: b.peak.Load(),
		Reconnects: b.reconnects.Load(), Errors: b.errs.Load(), ErrorCodes: b.errCodes, Seconds: sending.Seconds(),
	}
	for _, rec := range b.records {
		if rec.acked && !rec.delivered {
			r.Lost++
		}
	}
	r.MsgsPerSec = float64(r.Delivered) / sending.Seconds()
	r.AckP50, r.AckP99 = percentile(b.ackLat, 0.50), percentile(b.ackLat, 0.99)
	r.E2EP50, r.E2EP99 = percentile(b.e2eLat, 0.50), percentile(b.e2eLat, 0.99)
	return r
}

func percentile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q * float64(len(ds)-1))
	return float64(ds[i].Microseconds()) / 1000
}

// peer is one client socket that reconnects whenever it is cut, resumes its
// conversations from the seqs it holds, and resends what was not acked.
type peer struct {
	b         *bench
	idx       int
	header    http.Header
	visitor   bool
	convs     []string
	readyOnce chan struct{}
	readied   bool

	mu     sync.Mutex
	conn   *websocket.Conn
	held   map[string]int64          // conversation -> highest seq held
	outbox map[string]realtime.Frame // unacked sends by clientMessageId
}

func (b *bench) newPeer(idx int, h http.Header, visitor bool) *peer {
	return &peer{b: b, idx: idx, header: h, visitor: visitor, readyOnce: make(chan struct{}),
		held: map[string]int64{}, outbox: map[string]realtime.Frame{}}
}

func (p *peer) loop(ctx context.Context) {
	first := true
	for ctx.Err() == nil {
		if !first {
			p.b.reconnects.Add(1)
		}
		first = false
		if err := p.session(ctx); err != nil && ctx.Err() == nil {
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
}

// session runs one connection until it ends.
func (p *peer) session(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	conn, _, err := websocket.Dial(dctx, p.b.wsURL, &websocket.DialOptions{
		HTTPClient: p.b.client(p.idx), HTTPHeader: p.header, Subprotocols: []string{realtime.Version}})
	cancel()
	if err != nil {
		p.b.fail("dial")
		return err
	}
	conn.SetReadLimit(1 << 20)
	if n := p.b.open.Add(1); n > p.b.peak.Load() {
		p.b.peak.Store(n) // approximate under races; it is a figure, not a check
	}
	defer p.b.open.Add(-1)
	defer conn.CloseNow()
	go func() { <-ctx.Done(); conn.CloseNow() }()

	p.mu.Lock()
	p.conn = conn
	var frames [][]byte
	for _, c := range p.convs {
		last := p.held[c]
		b, _ := json.Marshal(realtime.Frame{Type: realtime.TypeResume, ConversationID: c, LastSeq: &last})
		frames = append(frames, b)
	}
	for _, f := range p.outbox {
		b, _ := json.Marshal(f)
		frames = append(frames, b)
	}
	p.mu.Unlock()
	for _, b := range frames {
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			return err
		}
	}
	resumed := 0
	if len(p.convs) == 0 && !p.readied {
		p.readied = true
		close(p.readyOnce)
	}
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if code := websocket.CloseStatus(err); code != -1 {
				p.b.fail(fmt.Sprintf("close_%d", code))
			}
			return err
		}
		var f realtime.Frame
		if err := json.Unmarshal(data, &f); err != nil {
			return err
		}
		switch f.Type {
		case realtime.TypeResumed:
			if resumed++; resumed == len(p.convs) && !p.readied {
				p.readied = true
				close(p.readyOnce)
			}
		case realtime.TypeAck:
			p.mu.Lock()
			delete(p.outbox, f.ClientMessageID)
			p.mu.Unlock()
			p.b.onAck(f)
		case realtime.TypeMessage:
			p.onMessage(f)
		case realtime.TypeError:
			p.b.fail(f.Code)
		}
	}
}

func (p *peer) onMessage(f realtime.Frame) {
	p.mu.Lock()
	held := p.held[f.ConversationID]
	switch {
	case f.Seq <= held:
		p.b.duplicated.Add(1)
		p.mu.Unlock()
		return
	case f.Seq > held+1:
		p.b.gaps.Add(f.Seq - held - 1)
	}
	p.held[f.ConversationID] = f.Seq
	p.mu.Unlock()

	mine := (f.SenderType == "customer") == p.visitor
	if mine {
		return
	}
	p.b.onDelivered(f)
	if !p.visitor && p.b.cfg.Reply > 0 && rand.Float64() < p.b.cfg.Reply {
		p.b.send(p, f.ConversationID, "a-"+f.ID, "re: "+f.Content)
	}
}

func (p *peer) send(f realtime.Frame) {
	b, _ := json.Marshal(f)
	p.mu.Lock()
	p.outbox[f.ClientMessageID] = f
	conn := p.conn
	p.mu.Unlock()
	if conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn.Write(ctx, websocket.MessageText, b) // a failed write is resent from the outbox
		cancel()
	}
}

func (p *peer) cut() {
	p.mu.Lock()
	conn := p.conn
	p.mu.Unlock()
	if conn != nil {
		conn.CloseNow()
	}
}
