package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The send scenario measures POST /api/messages/send, the seed's endpoint:
// -clients keep-alive connections each send one request after another, as
// fast as the server answers, each for its own share of the visitors (so one
// conversation's sends are never concurrent and its seqs must follow the
// order they were sent in). A request that fails on the network is sent
// again on a new connection with the same clientMessageId, as a real client
// retries. When sending stops, every visitor reads its conversation back
// over REST and the bench checks that each acknowledged message is stored
// exactly once, at the seq it was acknowledged with, and that no seq is
// missing.
//
// The client speaks HTTP/1.1 itself over one TCP connection per client: a
// load generator that costs little CPU leaves the two cores to the server
// it measures.

// sentMsg is one acknowledged send.
type sentMsg struct {
	clientID  string
	messageID string
	seq       int64
}

// sendTexts are what visitors write, in turn.
var sendTexts = []string{
	"Hello, I have a question about my order.",
	"It was supposed to arrive on Monday but the tracking page has not changed since.",
	"Can you check whether it left the warehouse?",
	"Thanks, and could I change the delivery address to my office?",
}

// maxTries bounds the tries of one request when the network fails.
const maxTries = 20

type sendVisitor struct {
	*visitor
	acked []sentMsg
}

func (b *bench) runSend(ctx context.Context) (Result, error) {
	vs, err := b.createVisitors(ctx)
	if err != nil {
		return Result{}, err
	}
	u, err := url.Parse(b.cfg.URL)
	if err != nil {
		return Result{}, err
	}
	if u.Scheme != "http" {
		return Result{}, errors.New("-scenario send speaks plain HTTP: -url must be http://")
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	svs := make([]*sendVisitor, len(vs))
	for i, v := range vs {
		svs[i] = &sendVisitor{visitor: v}
	}
	sendCtx, stop := context.WithTimeout(ctx, b.cfg.Duration)
	defer stop()
	lats := make([][]time.Duration, b.cfg.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range b.cfg.Clients {
		var mine []*sendVisitor
		for i := c; i < len(svs); i += b.cfg.Clients {
			mine = append(mine, svs[i])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			lats[c] = b.sendLoop(sendCtx, c, host, u.Host, mine)
		}()
	}
	wg.Wait()
	sending := time.Since(start)

	r := Result{Scenario: "send", Sent: b.sent.Load(), Acked: b.acked.Load(), Connections: int64(b.cfg.Clients),
		Reconnects: b.reconnects.Load(), Errors: b.errs.Load(), Seconds: sending.Seconds()}
	for _, v := range svs {
		if err := b.verifySends(ctx, v, &r); err != nil {
			return Result{}, fmt.Errorf("reading conversation %s back: %w", v.conv, err)
		}
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	b.mu.Lock()
	r.ErrorCodes = b.errCodes
	b.mu.Unlock()
	r.MsgsPerSec = float64(r.Acked) / sending.Seconds()
	r.AckP50, r.AckP99 = percentile(all, 0.50), percentile(all, 0.99)
	return r, nil
}

// sendLoop sends for vs, round robin, until ctx ends, and returns the
// latency of each acknowledged request.
func (b *bench) sendLoop(ctx context.Context, c int, addr, hostHeader string, vs []*sendVisitor) []time.Duration {
	var lats []time.Duration
	var conn *sendConn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	var req []byte
	for n := 0; ctx.Err() == nil; n++ {
		v := vs[n%len(vs)]
		id := fmt.Sprintf("s%d-%d", v.i, v.n)
		v.n++
		body, _ := json.Marshal(map[string]string{"conversationId": v.conv, "senderType": "customer",
			"message": sendTexts[n%len(sendTexts)], "clientMessageId": id,
			"timestamp": time.Now().UTC().Format(time.RFC3339Nano)})
		req = fmt.Appendf(req[:0], "POST /api/messages/send HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
			"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", hostHeader, v.token, len(body), body)
		b.sent.Add(1)
		// The first try, then retries of the same request on a new
		// connection while the network fails; sending stops only between
		// requests, so every request ends acknowledged or refused.
		for try := 0; ; try++ {
			if try == maxTries {
				b.fail("network")
				break
			}
			if conn == nil {
				var err error
				if conn, err = b.dialSend(c, addr); err != nil {
					b.fail("dial")
					time.Sleep(100 * time.Millisecond)
					continue
				}
			}
			t0 := time.Now()
			status, resp, keep, err := conn.roundTrip(req)
			if err != nil || !keep {
				conn.Close()
				conn = nil
			}
			if err != nil {
				b.reconnects.Add(1)
				continue
			}
			if status == http.StatusTooManyRequests {
				b.fail("rate_limited")
				time.Sleep(100 * time.Millisecond)
				continue
			}
			if status != http.StatusCreated && status != http.StatusOK {
				b.fail("http_" + strconv.Itoa(status))
				break
			}
			var out struct {
				MessageID string `json:"messageId"`
				Seq       int64  `json:"seq"`
			}
			if err := json.Unmarshal(resp, &out); err != nil || out.MessageID == "" {
				b.fail("bad_response")
				break
			}
			lats = append(lats, time.Since(t0))
			b.acked.Add(1)
			v.acked = append(v.acked, sentMsg{clientID: id, messageID: out.MessageID, seq: out.Seq})
			break
		}
	}
	return lats
}

// verifySends reads v's conversation back and counts into r what was lost
// (acknowledged, not stored), duplicated (one client id stored twice) and
// gaps (a seq missing, or an acknowledgement whose seq or id differs from
// what was stored).
func (b *bench) verifySends(ctx context.Context, v *sendVisitor, r *Result) error {
	type stored struct {
		ID       string `json:"id"`
		Seq      int64  `json:"seq"`
		ClientID string `json:"clientMessageId"`
	}
	byClient := map[string]stored{}
	var last int64
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET",
			fmt.Sprintf("%s/api/conversations/%s/messages?after=%d&limit=500", b.cfg.URL, v.conv, last), nil)
		req.Header.Set("Authorization", "Bearer "+v.token)
		resp, err := b.client(v.i).Do(req)
		if err != nil {
			return err
		}
		var page struct{ Messages []stored }
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if err != nil {
			return err
		}
		for _, m := range page.Messages {
			if m.Seq != last+1 {
				r.Gaps += m.Seq - last - 1
			}
			last = m.Seq
			if _, dup := byClient[m.ClientID]; dup && m.ClientID != "" {
				r.Duplicated++
				continue
			}
			byClient[m.ClientID] = m
		}
		if len(page.Messages) < 500 {
			break
		}
	}
	for _, a := range v.acked {
		m, ok := byClient[a.clientID]
		switch {
		case !ok:
			r.Lost++
		case m.ID != a.messageID || m.Seq != a.seq:
			r.Gaps++
		default:
			r.Delivered++
		}
	}
	return nil
}

// sendConn is one keep-alive HTTP/1.1 connection.
type sendConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bench) dialSend(c int, addr string) (*sendConn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	if srcs := b.cfg.SourceAddrs; len(srcs) > 0 {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(srcs[c%len(srcs)])}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &sendConn{Conn: conn, r: bufio.NewReaderSize(conn, 4096)}, nil
}

var errBadResponse = errors.New("malformed HTTP response")

// roundTrip writes req and reads one response: its status, its body and
// whether the connection may carry another request. Any error leaves the
// connection unusable.
func (c *sendConn) roundTrip(req []byte) (status int, body []byte, keep bool, err error) {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(req); err != nil {
		return 0, nil, false, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 201 Created"
	f := bytes.Fields(line)
	if len(f) < 2 {
		return 0, nil, false, errBadResponse
	}
	status, err = strconv.Atoi(string(f[1]))
	if err != nil {
		return 0, nil, false, errBadResponse
	}
	length, closing := -1, false
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, nil, false, errBadResponse
		}
		value = bytes.TrimSpace(value)
		switch strings.ToLower(string(name)) {
		case "content-length":
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, nil, false, errBadResponse
			}
		case "connection":
			closing = strings.EqualFold(string(value), "close")
		case "transfer-encoding":
			return 0, nil, false, errors.New("chunked responses are not expected from the send endpoint")
		}
	}
	if length < 0 {
		return 0, nil, false, errBadResponse
	}
	body = make([]byte, length)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return 0, nil, false, err
	}
	return status, body, !closing, nil
}
