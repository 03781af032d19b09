package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// login signs in through the API and returns the session's credentials.
func (e *env) login(email, pw string, extra map[string]string) (cred, resp) {
	e.t.Helper()
	r := e.do("POST", "/api/auth/login", cred{headers: extra}, map[string]string{"email": email, "password": pw})
	if r.status != http.StatusOK {
		return cred{}, r
	}
	var out struct {
		CSRFToken string `json:"csrfToken"`
	}
	r.json(e.t, &out)
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "parley_session" {
			return cred{cookie: c.Value, csrf: out.CSRFToken}, r
		}
	}
	e.t.Fatalf("login set no session cookie: %v", r.header)
	return cred{}, r
}

func TestLoginSessionCookie(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, clock: frozenClock()})
		c1, r := e.login("agent_assigned@example.com", password, nil)
		want(t, r, 200, "login")
		var ck *http.Cookie
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			ck = c
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
			t.Errorf("cookie over plain HTTP: %+v", ck)
		}
		if !strings.HasPrefix(c1.cookie, "ps_") || len(c1.cookie) < 40 {
			t.Errorf("session token %q is not 256 random bits", c1.cookie)
		}
		// The database keeps only the hash.
		if _, err := e.store.GetSessionByTokenHash(context.Background(), c1.cookie); err == nil {
			t.Error("the session token itself is stored")
		}
		c2, r := e.login("agent_assigned@example.com", password, map[string]string{"X-Forwarded-Proto": "https"})
		want(t, r, 200, "login behind TLS proxy")
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if !c.Secure {
				t.Errorf("cookie behind a TLS-terminating trusted proxy is not Secure: %+v", c)
			}
		}
		if c1.cookie == c2.cookie {
			t.Error("two logins share a session token")
		}
		var me struct {
			User struct{ Email string } `json:"user"`
		}
		r = e.do("GET", "/api/auth/me", c1, nil)
		want(t, r, 200, "me")
		r.json(t, &me)
		if me.User.Email != "agent_assigned@example.com" {
			t.Errorf("me = %s", r.body)
		}
		want(t, e.do("POST", "/api/auth/logout", c1, nil), 204, "logout")
		want(t, e.do("GET", "/api/auth/me", c1, nil), 401, "me after logout")
		want(t, e.do("GET", "/api/auth/me", c2, nil), 200, "other session after logout")
		_, r = e.login("agent_assigned@example.com", "wrong password!", nil)
		want(t, r, 401, "wrong password")
		_, r2 := e.login("nobody@example.com", "wrong password!", nil)
		if !bytes.Equal(r.body, r2.body) {
			t.Errorf("unknown email and wrong password answer differently: %s vs %s", r.body, r2.body)
		}
		_, r = e.login("disabled@example.com", password, nil)
		want(t, r, 401, "disabled user login")
	})
}

func TestCSRF(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		c := e.session(e.users["agent_assigned"])
		body := map[string]string{"availability": "away"}
		noHeader := c
		noHeader.noCSRF = true
		r := e.do("PATCH", "/api/auth/me", noHeader, body)
		want(t, r, 403, "PATCH without X-CSRF-Token")
		wrong := c
		wrong.csrf = "x" + c.csrf[1:]
		if c.csrf[0] == 'x' { // one token in 64 starts with x
			wrong.csrf = "y" + c.csrf[1:]
		}
		want(t, e.do("PATCH", "/api/auth/me", wrong, body), 403, "PATCH with a wrong X-CSRF-Token")
		want(t, e.do("POST", "/api/auth/logout", noHeader, nil), 403, "logout without X-CSRF-Token")
		want(t, e.do("GET", "/api/auth/me", noHeader, nil), 200, "GET needs no CSRF token")
		want(t, e.do("PATCH", "/api/auth/me", c, body), 200, "PATCH with the CSRF token")
		tok, _ := e.apiToken(e.users["agent_assigned"])
		want(t, e.do("PATCH", "/api/auth/me", cred{bearer: tok}, body), 200, "bearer needs no CSRF token")
	})
}

func TestFilterInjection(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		senior := e.session(e.users["senior_agent"])
		agent := e.session(e.users["agent_assigned"])
		_, vis := e.visitor()
		inj := url.QueryEscape("active' OR 1=1--")
		for _, tc := range []struct {
			c    cred
			path string
		}{
			{senior, "/api/conversations?status=" + inj},
			{senior, "/api/conversations?status=active,closed%27--"},
			{senior, "/api/conversations?assignee=" + url.QueryEscape("' OR 1=1--")},
			{senior, "/api/conversations?assignee=" + url.QueryEscape("me OR 1=1")},
			{senior, "/api/conversations?limit=" + url.QueryEscape("1; DROP TABLE users")},
			{senior, "/api/conversations?limit=100000"},
			{senior, "/api/conversations?cursor=" + url.QueryEscape("' OR 1=1--")},
			{senior, "/api/conversations?order=" + url.QueryEscape("id; DROP TABLE users")},
			{senior, "/api/conversations/list?adminId=" + url.QueryEscape("' OR 1=1--")},
			{senior, "/api/conversations/list?adminId=" + e.users["senior_agent"].ID + "&status=" + inj},
			{agent, "/api/conversations?status=" + inj},
			{vis, "/api/conversations?status=" + inj},
			{vis, "/api/conversations?assignee=unassigned"},
			{senior, "/api/users?role=" + url.QueryEscape("admin' OR '1'='1")},
			{senior, "/api/users?availability=" + url.QueryEscape("online' --")},
			{senior, "/api/customers?cursor=" + url.QueryEscape("x' OR 1=1--")},
			{senior, "/api/conversations/" + parley.NewID() + "/messages?after=" + url.QueryEscape("0 OR 1=1")},
		} {
			r := e.do("GET", tc.path, tc.c, nil)
			if r.status != 400 || r.code() != "invalid" {
				t.Errorf("GET %s: %d %s, want 400 invalid", tc.path, r.status, r.body)
			}
		}
		// An agent asking for another agent's inbox is refused, not widened.
		r := e.do("GET", "/api/conversations?assignee="+e.users["agent_c"].ID, agent, nil)
		want(t, r, 403, "agent filtering by another assignee")
	})
}

func TestIDsInBodiesAreAuthorized(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		fx := e.fixture()
		ctx := context.Background()
		send := func(c cred, conv, senderType string) resp {
			return e.do("POST", "/api/messages/send", c, map[string]string{"conversationId": conv,
				"senderType": senderType, "message": "smuggled", "timestamp": "2025-01-02T03:04:05Z"})
		}
		r := send(fx.visB, fx.convA.ID, "customer")
		want(t, r, 404, "visitor B sending to A's conversation")
		missing := send(fx.visB, parley.NewID(), "customer")
		if !bytes.Equal(r.body, missing.body) {
			t.Errorf("the refusal differs from a missing conversation's: %s vs %s", r.body, missing.body)
		}
		want(t, send(fx.visB, "../"+fx.convA.ID, "customer"), 404, "a mangled id")
		want(t, send(fx.visA, fx.convA.ID, "admin"), 403, "visitor sending as admin")
		want(t, send(e.session(e.users["agent_assigned"]), fx.convA.ID, "customer"), 403, "agent sending as customer")
		want(t, send(fx.visA, fx.convA.ID, "system"), 400, "unknown senderType")
		ms, err := e.store.ListMessages(ctx, fx.convA.ID, parley.MessageFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 {
			t.Fatalf("conversation A has %d messages after refused sends, want 1", len(ms))
		}
		// The same through the resource routes and the upload route.
		want(t, e.do("POST", "/api/conversations/"+fx.convA.ID+"/messages", fx.visB, map[string]string{"content": "x"}), 404, "visitor B via path")
		want(t, e.do("POST", "/api/conversations/"+fx.convA.ID+"/read", fx.visB, map[string]int{"seq": 1}), 404, "visitor B marking read")
		want(t, e.do("GET", "/api/customers/"+fx.custA.ID, fx.visB, nil), 404, "visitor B reading A's profile")
		// An agent cannot transfer someone else's conversation to themselves.
		agent := e.session(e.users["agent_unassigned"])
		want(t, e.do("POST", "/api/conversations/"+fx.convB.ID+"/transfer", agent,
			map[string]string{"toAgentId": e.users["agent_unassigned"].ID}), 404, "agent transferring a foreign conversation")
		// Visitor responses never carry notes.
		lead := e.session(e.users["agent_assigned"])
		want(t, e.do("POST", "/api/conversations/"+fx.convA.ID+"/messages", lead, map[string]string{"content": "internal only", "kind": "note"}), 201, "note")
		want(t, e.do("POST", "/api/conversations/"+fx.convA.ID+"/messages", fx.visA, map[string]string{"content": "a note?", "kind": "note"}), 403, "visitor note")
		r = e.do("GET", "/api/conversations/"+fx.convA.ID+"/messages", fx.visA, nil)
		want(t, r, 200, "visitor reads own messages")
		if bytes.Contains(r.body, []byte("internal only")) {
			t.Errorf("a visitor sees a note: %s", r.body)
		}
		r = e.do("GET", "/api/conversations/"+fx.convA.ID+"/messages", lead, nil)
		if !bytes.Contains(r.body, []byte("internal only")) {
			t.Errorf("the agent does not see their note: %s", r.body)
		}
	})
}

func TestSessionsEnd(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		admin := e.session(e.users["admin"])
		email := "agent_assigned@example.com"
		s1, _ := e.login(email, password, nil)
		s2, _ := e.login(email, password, nil)
		tok, _ := e.apiToken(e.users["agent_assigned"])

		// Password change: the other session ends, this one stays.
		newPW := "a brand new password"
		want(t, e.do("POST", "/api/auth/password", s1, map[string]string{"currentPassword": "wrong password!", "newPassword": newPW}), 403, "wrong current password")
		want(t, e.do("POST", "/api/auth/password", s1, map[string]string{"currentPassword": password, "newPassword": "short"}), 400, "weak password")
		want(t, e.do("POST", "/api/auth/password", s1, map[string]string{"currentPassword": password, "newPassword": newPW}), 204, "change password")
		want(t, e.do("GET", "/api/auth/me", s2, nil), 401, "other session after password change")
		want(t, e.do("GET", "/api/auth/me", s1, nil), 200, "own session after password change")
		_, r := e.login(email, password, nil)
		want(t, r, 401, "old password")
		s3, r := e.login(email, newPW, nil)
		want(t, r, 200, "new password")

		// Role change by an admin ends every session of the user.
		id := e.users["agent_assigned"].ID
		want(t, e.do("PATCH", "/api/users/"+id, admin, map[string]string{"role": "senior_agent"}), 200, "role change")
		want(t, e.do("GET", "/api/auth/me", s1, nil), 401, "session after role change")
		want(t, e.do("GET", "/api/auth/me", s3, nil), 401, "session after role change")
		want(t, e.do("GET", "/api/auth/me", cred{bearer: tok}, nil), 200, "API token survives a role change")
		r = e.do("GET", "/api/customers", cred{bearer: tok}, nil)
		want(t, r, 200, "API token acts with the new role")

		// Disabling ends sessions and stops tokens at once.
		s4, _ := e.login(email, newPW, nil)
		want(t, e.do("PATCH", "/api/users/"+id, admin, map[string]bool{"disabled": true}), 200, "disable")
		want(t, e.do("GET", "/api/auth/me", s4, nil), 401, "session after disable")
		want(t, e.do("GET", "/api/auth/me", cred{bearer: tok}, nil), 401, "API token after disable")
		_, r = e.login(email, newPW, nil)
		want(t, r, 401, "disabled login")
		want(t, e.do("PATCH", "/api/users/"+e.users["admin"].ID, admin, map[string]bool{"disabled": true}), 400, "admin disabling themselves")

		// An admin-set password ends the sessions too; re-enabling restores login.
		want(t, e.do("PATCH", "/api/users/"+id, admin, map[string]any{"disabled": false}), 200, "enable")
		s5, _ := e.login(email, newPW, nil)
		want(t, e.do("PATCH", "/api/users/"+id, admin, map[string]any{"password": "set by the admin"}), 200, "admin sets password")
		want(t, e.do("GET", "/api/auth/me", s5, nil), 401, "session after admin password reset")

		// Revoked tokens stop.
		tok2, t2 := e.apiToken(e.users["team_lead"])
		lead := cred{bearer: tok2}
		want(t, e.do("GET", "/api/auth/me", lead, nil), 200, "token")
		want(t, e.do("DELETE", "/api/tokens/"+t2.ID, lead, nil), 204, "revoke")
		want(t, e.do("GET", "/api/auth/me", lead, nil), 401, "revoked token")
	})
}

func TestLoginBruteForce(t *testing.T) {
	t.Run("per_ip", func(t *testing.T) { eachStore(t, loginLimitPerIP) })
	t.Run("per_account", func(t *testing.T) { eachStore(t, loginLimitPerAccount) })
}

// frozenClock returns a clock that always tells the time it was made.
func frozenClock() func() time.Time {
	t0 := time.Now()
	return func() time.Time { return t0 }
}

func loginLimitPerIP(t *testing.T, open func(testing.TB) parley.Store) {
	// No trusted proxy: X-Forwarded-For is ignored. The limiters' clock
	// stands still, so no token comes back however slowly the logins run.
	e := newEnv(t, open, envOptions{clock: frozenClock()})
	// Per IP: different accounts, rotating X-Forwarded-For.
	limited := 0
	for i := 0; i < 14; i++ {
		_, r := e.login(fmt.Sprintf("guess%d@example.com", i), "wrong password!",
			map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i)})
		if r.status == 429 {
			limited++
			if r.code() != "rate_limited" {
				t.Errorf("429 with code %q", r.code())
			}
		} else if r.status != 401 {
			t.Fatalf("attempt %d: %d %s", i, r.status, r.body)
		}
	}
	if limited != 4 {
		t.Errorf("%d of 14 failed logins from one address were limited, want 4 (burst of 10)", limited)
	}
	// Even the right password is refused while limited.
	_, r := e.login("agent_assigned@example.com", password, map[string]string{"X-Forwarded-For": "198.51.100.99"})
	want(t, r, 429, "right password from a limited address")
}

func loginLimitPerAccount(t *testing.T, open func(testing.TB) parley.Store) {
	// Per account, even from many (trusted-proxy-reported) addresses.
	e := newEnv(t, open, envOptions{proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, clock: frozenClock()})
	limited := 0
	for i := 0; i < 8; i++ {
		_, r := e.login("team_lead@example.com", "wrong password!",
			map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i)})
		if r.status == 429 {
			limited++
		}
	}
	if limited != 3 {
		t.Errorf("%d of 8 failed logins on one account were limited, want 3 (burst of 5)", limited)
	}
	// Another account from a fresh address is unaffected.
	_, r := e.login("agent_c@example.com", password, map[string]string{"X-Forwarded-For": "198.51.100.7"})
	want(t, r, 200, "another account")
}

func TestTokenInURLRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		_, vis := e.visitor()
		for _, p := range []string{"token", "access_token"} {
			r := e.do("GET", "/api/conversations?"+p+"="+url.QueryEscape(vis.bearer), cred{}, nil)
			if r.status != 400 || r.code() != "invalid" {
				t.Errorf("?%s=<visitor token>: %d %s, want 400 invalid", p, r.status, r.body)
			}
			// Refused even next to valid credentials: the URL may be logged anywhere.
			r = e.do("GET", "/api/conversations?"+p+"="+url.QueryEscape(vis.bearer), vis, nil)
			want(t, r, 400, "token in the URL with a header too")
		}
		// The visitor endpoint never puts the token in a URL or a cookie.
		r := e.do("POST", "/api/visitors", cred{}, map[string]string{"name": "Ann", "email": "ann@example.org"})
		want(t, r, 201, "create visitor")
		var v struct{ VisitorID, Token string }
		r.json(t, &v)
		if !strings.HasPrefix(v.Token, "pv_") || !parley.ValidID(v.VisitorID) || r.header.Get("Set-Cookie") != "" || r.header.Get("Location") != "" {
			t.Errorf("visitor response %s %v", r.body, r.header)
		}
		want(t, e.do("GET", "/api/customers/"+v.VisitorID, cred{bearer: v.Token}, nil), 200, "visitor reads own profile")
	})
}

func TestConcurrentStartConversation(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		cust, vis := e.visitor()
		const n = 50
		var wg sync.WaitGroup
		results := make([]resp, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.do("POST", "/api/conversations", vis, nil)
			}()
		}
		wg.Wait()
		ids := map[string]int{}
		created := 0
		for _, r := range results {
			if r.status != 200 && r.status != 201 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if r.status == 201 {
				created++
			}
			var c struct {
				ID     string
				Status string
			}
			r.json(t, &c)
			if c.Status != "waiting" {
				t.Errorf("status %q", c.Status)
			}
			ids[c.ID]++
		}
		if len(ids) != 1 || created != 1 {
			t.Errorf("%d distinct conversations, %d created; want 1 and 1", len(ids), created)
		}
		p, err := e.store.ListConversations(context.Background(), parley.InboxFilter{CustomerID: cust.ID})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 1 {
			t.Errorf("the store holds %d conversations for the visitor, want 1", p.Total)
		}
	})
}

func TestStrictDecoding(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		fx := e.fixture()
		path := "/api/conversations/" + fx.convA.ID + "/messages"
		big := bytes.Repeat([]byte("a"), 2<<20)
		for _, tc := range []struct {
			name, ctype string
			body        []byte
			status      int
			msg         string
		}{
			{"unknown field", "application/json", []byte(`{"content":"hi","admin":true}`), 400, "admin"},
			{"object for a string", "application/json", []byte(`{"content":{"$gt":""}}`), 400, "content"},
			{"number for a string", "application/json", []byte(`{"content":"x","clientMessageId":5}`), 400, "clientMessageId"},
			{"two values", "application/json", []byte(`{"content":"hi"}{"content":"again"}`), 400, ""},
			{"array", "application/json", []byte(`[{"content":"hi"}]`), 400, ""},
			{"not JSON", "application/json", []byte(`{"content":`), 400, ""},
			{"empty", "application/json", nil, 400, ""},
			{"form", "application/x-www-form-urlencoded", []byte(`content=hi`), 400, ""},
			{"2 MiB", "application/json", append(append([]byte(`{"content":"`), big...), '"', '}'), 413, ""},
			{"over-long content", "application/json", []byte(`{"content":"` + strings.Repeat("b", parley.MaxContentLen+1) + `"}`), 400, "content"},
			{"NUL", "application/json", []byte(`{"content":"a\u0000b"}`), 400, ""},
			{"kind", "application/json", []byte(`{"content":"hi","kind":"system"}`), 400, ""},
		} {
			var body any
			if tc.body != nil {
				body = tc.body
			}
			r := e.doRaw("POST", path, fx.visA, body, tc.ctype)
			if r.status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.status)
				continue
			}
			if tc.msg != "" && !strings.Contains(string(r.body), tc.msg) {
				t.Errorf("%s: the message does not name %s: %s", tc.name, tc.msg, r.body)
			}
		}
		admin := e.session(e.users["admin"])
		r := e.do("POST", "/api/users", admin, map[string]any{"email": "x@example.com", "name": "X", "password": password, "role": "root"})
		want(t, r, 400, "unknown role")
		r = e.do("POST", "/api/users", admin, map[string]any{"email": "x@example.com", "name": "X", "password": password, "maxChats": "5"})
		want(t, r, 400, "string for a number")
		r = e.do("PATCH", "/api/users/"+e.users["agent_c"].ID, admin, map[string]any{"disabled": "yes"})
		want(t, r, 400, "string for a bool")
	})
}

func TestConversationFlow(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		_, vis := e.visitor()
		r := e.do("POST", "/api/conversations", vis, nil)
		want(t, r, 201, "start")
		var c struct{ ID, Status string }
		r.json(t, &c)
		send := func(cr cred, st, msg, cid string) resp {
			return e.do("POST", "/api/messages/send", cr, map[string]string{"conversationId": c.ID, "senderType": st,
				"message": msg, "timestamp": "2025-01-02T03:04:05.123Z", "clientMessageId": cid})
		}
		r = send(vis, "customer", "Hello?", "m1")
		want(t, r, 201, "visitor sends")
		var sent struct {
			MessageID, Status, DeliveredAt string
			Seq                            int64
		}
		r.json(t, &sent)
		if sent.Status != "sent" || sent.Seq != 1 || sent.DeliveredAt == "" || !parley.ValidID(sent.MessageID) {
			t.Errorf("send response %s", r.body)
		}
		r = send(vis, "customer", "Hello?", "m1")
		want(t, r, 200, "retry with the same clientMessageId")
		var again struct{ MessageID string }
		r.json(t, &again)
		if again.MessageID != sent.MessageID {
			t.Errorf("a retry made a new message")
		}
		// Any agent sees a waiting conversation; replying claims it.
		a1 := e.session(e.users["agent_unassigned"])
		a2 := e.session(e.users["agent_c"])
		want(t, e.do("GET", "/api/conversations/"+c.ID, a2, nil), 200, "agent sees waiting")
		r = e.do("GET", "/api/conversations/list?adminId="+e.users["agent_unassigned"].ID+"&status=waiting", a1, nil)
		want(t, r, 200, "seed inbox")
		var inbox struct {
			Conversations []struct {
				ID     string
				Unread int
			}
			TotalCount, UnreadCount int
			NextCursor              string
		}
		r.json(t, &inbox)
		if inbox.TotalCount != 1 || inbox.UnreadCount != 1 || len(inbox.Conversations) != 1 || inbox.Conversations[0].Unread != 1 {
			t.Errorf("inbox %s", r.body)
		}
		r = send(a1, "admin", "Hi, how can I help?", "")
		want(t, r, 201, "agent replies")
		r = e.do("GET", "/api/conversations/"+c.ID, a1, nil)
		var got struct{ Status, AssigneeID string }
		r.json(t, &got)
		if got.Status != "active" || got.AssigneeID != e.users["agent_unassigned"].ID {
			t.Errorf("after the reply: %s", r.body)
		}
		want(t, e.do("GET", "/api/conversations/"+c.ID, a2, nil), 404, "other agent no longer sees it")
		want(t, e.do("POST", "/api/conversations/"+c.ID+"/claim", e.session(e.users["senior_agent"]), nil), 409, "claim taken")
		want(t, e.do("POST", "/api/conversations/"+c.ID+"/read", a1, map[string]int{"seq": 99}), 200, "mark read")
		r = e.do("GET", "/api/conversations?assignee=me", a1, nil)
		r.json(t, &inbox)
		if inbox.TotalCount != 1 || inbox.UnreadCount != 0 {
			t.Errorf("after reading: %s", r.body)
		}
		r = e.do("GET", "/api/conversations/"+c.ID+"/messages?after=1&limit=10", vis, nil)
		var ms struct {
			Messages []struct {
				Seq        int64
				SenderType string
			}
		}
		r.json(t, &ms)
		if len(ms.Messages) != 1 || ms.Messages[0].Seq != 2 || ms.Messages[0].SenderType != "agent" {
			t.Errorf("messages after 1: %s", r.body)
		}
		// Close; the visitor can no longer post, and a new conversation starts.
		want(t, e.do("PATCH", "/api/conversations/"+c.ID, a1, map[string]string{"status": "closed"}), 200, "close")
		want(t, send(vis, "customer", "one more thing", ""), 409, "post to closed")
		r = e.do("POST", "/api/conversations", vis, nil)
		want(t, r, 201, "new conversation after close")
		want(t, e.do("PATCH", "/api/conversations/"+c.ID, a1, map[string]string{"status": "active"}), 409, "reopen while another is open")
	})
}

// TestSendAfterAnotherNodeChanged changes a conversation straight in the
// store, as another node would without this one hearing of it, between
// sends: every send is checked against the conversation as stored then,
// not as this node last saw it.
func TestSendAfterAnotherNodeChanged(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		ctx := context.Background()
		cust, vis := e.visitor()
		c := e.conversation(cust, parley.StatusWaiting, "")
		a, other := e.users["agent_unassigned"], e.users["agent_c"]
		agentA, agentC := e.session(a), e.session(other)
		n := 1 // messages stored
		send := func(cr cred, st, msg string, status int, what string) {
			t.Helper()
			r := e.do("POST", "/api/messages/send", cr, map[string]string{"conversationId": c.ID, "senderType": st,
				"message": msg, "timestamp": "2025-01-02T03:04:05.123Z"})
			want(t, r, status, what)
			if status == 201 {
				n++
			}
			if got, _ := e.messageCount(c.ID); got != n {
				t.Fatalf("%s: %d messages stored, want %d", what, got, n)
			}
		}
		update := func(up parley.ConversationUpdate) {
			t.Helper()
			if _, err := e.store.UpdateConversation(ctx, c.ID, up); err != nil {
				t.Fatal(err)
			}
		}
		stateIs := func(status parley.Status, assignee string) {
			t.Helper()
			got, err := e.store.GetConversation(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != status || got.AssigneeID != assignee {
				t.Fatalf("conversation %s assigned to %q, want %s assigned to %q", got.Status, got.AssigneeID, status, assignee)
			}
		}

		send(vis, "customer", "Hello?", 201, "visitor, waiting")
		send(agentA, "admin", "Hi, A here.", 201, "A replies and claims")
		stateIs(parley.StatusActive, a.ID)

		// Handed to C elsewhere: A no longer sees it, C may answer.
		update(parley.ConversationUpdate{AssigneeID: ptr(other.ID)})
		send(agentA, "admin", "Still me?", 404, "A after the hand-over")
		send(agentC, "admin", "C here now.", 201, "C after the hand-over")
		send(vis, "customer", "Thanks", 201, "visitor after the hand-over")

		// Back in the queue elsewhere: the visitor still writes, and A's
		// reply claims it again.
		update(parley.ConversationUpdate{Status: ptr(parley.StatusWaiting), AssigneeID: ptr("")})
		send(vis, "customer", "Anyone?", 201, "visitor after the requeue")
		stateIs(parley.StatusWaiting, "")
		send(agentA, "admin", "A again.", 201, "A claims it again")
		stateIs(parley.StatusActive, a.ID)

		// Closed elsewhere: nobody writes.
		update(parley.ConversationUpdate{Status: ptr(parley.StatusClosed)})
		send(vis, "customer", "One more thing", 409, "visitor after the close")
		send(agentA, "admin", "Bye", 409, "A after the close")

		// Deleted elsewhere.
		if err := e.store.DeleteConversation(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		n = 0
		send(vis, "customer", "Hello?", 404, "visitor after the delete")
	})
}

func TestListPagination(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		for range 7 {
			cust, _ := e.visitor()
			e.conversation(cust, parley.StatusWaiting, "")
		}
		lead := e.session(e.users["team_lead"])
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			p := "/api/conversations/list?adminId=" + e.users["team_lead"].ID + "&limit=3"
			if cursor != "" {
				p += "&cursor=" + url.QueryEscape(cursor)
			}
			r := e.do("GET", p, lead, nil)
			want(t, r, 200, "page")
			var page struct {
				Conversations []struct{ ID string }
				TotalCount    int
				NextCursor    string
			}
			r.json(t, &page)
			if page.TotalCount != 7 {
				t.Errorf("totalCount %d", page.TotalCount)
			}
			for _, c := range page.Conversations {
				if seen[c.ID] {
					t.Errorf("%s on two pages", c.ID)
				}
				seen[c.ID] = true
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		if len(seen) != 7 {
			t.Errorf("saw %d conversations, want 7", len(seen))
		}
	})
}
