package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// batchResult is what one caller of a batch got.
type batchResult struct {
	created bool
	err     error
}

// appendBatch commits ms as one batch, as if their appends had arrived
// together, and returns what each caller of AppendMessage would get. ctxs,
// when given, are the callers' contexts.
func appendBatch(t *testing.T, s *Store, ms []*parley.Message, ctxs ...context.Context) []batchResult {
	t.Helper()
	const op = "postgres.AppendMessage"
	args := make([]*appendArgs, len(ms))
	reqs := make([]*appendRequest, len(ms))
	for i, m := range ms {
		a, err := prepareAppend(op, m)
		must(t, err, "prepareAppend")
		ctx := t.Context()
		if i < len(ctxs) {
			ctx = ctxs[i]
		}
		args[i] = a
		reqs[i] = &appendRequest{ctx: ctx, args: a, result: make(chan appendOutcome, 1)}
	}
	s.appends.commit(reqs)
	res := make([]batchResult, len(ms))
	for i, r := range reqs {
		out := <-r.result
		res[i].created, res[i].err = s.appended(t.Context(), op, ms[i], args[i], out.appendResult, out.err)
	}
	return res
}

func mustLastSeq(t *testing.T, s *Store, convID string, want int64) {
	t.Helper()
	c, err := s.GetConversation(t.Context(), convID)
	must(t, err, "GetConversation")
	ms, err := s.ListMessages(t.Context(), convID, parley.MessageFilter{})
	must(t, err, "ListMessages")
	if c.LastSeq != want || int64(len(ms)) != want {
		t.Fatalf("conversation has last_seq %d and %d messages, want %d", c.LastSeq, len(ms), want)
	}
	for i, m := range ms {
		if m.Seq != int64(i+1) {
			t.Fatalf("seq %d at position %d: a gap", m.Seq, i)
		}
	}
}

// Identical appends in one batch store one row; every caller gets it, and
// the duplicates burn no seq.
func TestBatchIdenticalAppends(t *testing.T) {
	s := MustOpen(t)
	conv := mkConversation(t, s, "")
	other := mkConversation(t, s, "")
	var ms []*parley.Message
	for i := range 3 {
		m := text(conv.ID, parley.SenderCustomer, conv.CustomerID, fmt.Sprintf("try %d", i))
		m.ClientMsgID = "double-click"
		ms = append(ms, m)
	}
	after := text(conv.ID, parley.SenderCustomer, conv.CustomerID, "after")
	elsewhere := text(other.ID, parley.SenderCustomer, other.CustomerID, "elsewhere")
	elsewhere.ClientMsgID = "double-click"
	ms = append(ms, after, elsewhere)

	res := appendBatch(t, s, ms)
	for i, r := range res {
		must(t, r.err, fmt.Sprintf("append %d", i))
	}
	if !res[0].created || res[1].created || res[2].created {
		t.Fatalf("created = %v %v %v, want only the first", res[0].created, res[1].created, res[2].created)
	}
	for i := 1; i < 3; i++ {
		if ms[i].ID != ms[0].ID || ms[i].Seq != 1 || ms[i].Content != "try 0" || !ms[i].CreatedAt.Equal(ms[0].CreatedAt) {
			t.Errorf("duplicate %d filled with %+v, want the stored %+v", i, ms[i], ms[0])
		}
	}
	if !res[3].created || after.Seq != 2 {
		t.Errorf("append after the duplicates: created %v seq %d, want seq 2", res[3].created, after.Seq)
	}
	if !res[4].created || elsewhere.Seq != 1 {
		t.Errorf("same client id in another conversation: created %v seq %d", res[4].created, elsewhere.Seq)
	}
	mustLastSeq(t, s, conv.ID, 2)
	mustLastSeq(t, s, other.ID, 1)
}

// An append that fails in a batch is rolled back alone: the others commit
// with gapless seqs and the failed ones leave nothing behind.
func TestBatchFailureIsolated(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	a := mkConversation(t, s, "")
	b := mkConversation(t, s, "")
	first := &parley.Message{ConversationID: a.ID, SenderType: parley.SenderCustomer, SenderID: a.CustomerID,
		Kind: parley.KindFile, Attachments: []*parley.Attachment{attachment("first.pdf")}}
	_, err := s.AppendMessage(ctx, first)
	must(t, err, "append first")

	reused := func(conv *parley.Conversation) *parley.Message {
		m := &parley.Message{ConversationID: conv.ID, SenderType: parley.SenderCustomer, SenderID: conv.CustomerID,
			Kind: parley.KindFile, Attachments: []*parley.Attachment{attachment("again.pdf")}}
		m.Attachments[0].ID = first.Attachments[0].ID
		return m
	}
	missing := text(parley.NewID(), parley.SenderSystem, "", "nobody here")
	ms := []*parley.Message{
		reused(a),
		text(a.ID, parley.SenderCustomer, a.CustomerID, "a2"),
		reused(b),
		text(b.ID, parley.SenderCustomer, b.CustomerID, "b1"),
		missing,
		text(a.ID, parley.SenderCustomer, a.CustomerID, "a3"),
		reused(a),
	}
	res := appendBatch(t, s, ms)
	for _, i := range []int{0, 2, 6} {
		wantCode(t, res[i].err, parley.ECONFLICT, fmt.Sprintf("append %d (reused attachment id)", i))
		_, err := s.GetMessage(ctx, ms[i].ID)
		wantCode(t, err, parley.ENOTFOUND, fmt.Sprintf("failed append %d stored", i))
	}
	wantCode(t, res[4].err, parley.ENOTFOUND, "append to a missing conversation")
	for _, i := range []int{1, 3, 5} {
		must(t, res[i].err, fmt.Sprintf("append %d", i))
		if !res[i].created {
			t.Errorf("append %d not created", i)
		}
	}
	if ms[1].Seq != 2 || ms[5].Seq != 3 || ms[3].Seq != 1 {
		t.Errorf("seqs a2=%d a3=%d b1=%d, want 2, 3, 1", ms[1].Seq, ms[5].Seq, ms[3].Seq)
	}
	mustLastSeq(t, s, a.ID, 3)
	mustLastSeq(t, s, b.ID, 1)
	// The connection came back clean: the next append goes on.
	next := text(b.ID, parley.SenderCustomer, b.CustomerID, "b2")
	_, err = s.AppendMessage(ctx, next)
	must(t, err, "append after the batch")
	if next.Seq != 2 {
		t.Errorf("next seq %d, want 2", next.Seq)
	}
}

// When COMMIT fails, every caller of the batch gets the error and nothing
// of theirs is stored.
func TestBatchCommitFailure(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	// A deferred check runs at COMMIT, after every statement succeeded.
	_, err := s.pool.Exec(ctx, `CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.content = 'poison' THEN
				RAISE EXCEPTION 'poisoned' USING ERRCODE = 'check_violation';
			END IF;
			RETURN NULL;
		END $$`)
	must(t, err, "create function")
	_, err = s.pool.Exec(ctx, `CREATE CONSTRAINT TRIGGER refuse_poison AFTER INSERT ON messages
		DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_poison()`)
	must(t, err, "create trigger")

	convs := []*parley.Conversation{mkConversation(t, s, ""), mkConversation(t, s, ""), mkConversation(t, s, "")}
	ms := []*parley.Message{
		text(convs[0].ID, parley.SenderCustomer, convs[0].CustomerID, "fine"),
		text(convs[1].ID, parley.SenderCustomer, convs[1].CustomerID, "poison"),
		text(convs[2].ID, parley.SenderCustomer, convs[2].CustomerID, "fine too"),
	}
	for i, r := range appendBatch(t, s, ms) {
		wantCode(t, r.err, parley.EINVALID, fmt.Sprintf("append %d of a batch whose COMMIT failed", i))
	}
	for _, c := range convs {
		mustLastSeq(t, s, c.ID, 0)
	}
	m := text(convs[0].ID, parley.SenderCustomer, convs[0].CustomerID, "fine again")
	_, err = s.AppendMessage(ctx, m)
	must(t, err, "append after a failed COMMIT")
	mustLastSeq(t, s, convs[0].ID, 1)
}

// blockAppends makes appends of messages with content "wait" block on an
// advisory lock the returned function releases; waiting reports whether one
// is blocked on it.
func blockAppends(t *testing.T, s *Store) (release func(), waiting func() bool) {
	t.Helper()
	ctx := t.Context()
	key := rand.Int32N(1 << 30)
	_, err := s.pool.Exec(ctx, fmt.Sprintf(`CREATE FUNCTION hold_appends() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.content = 'wait' THEN
				PERFORM pg_advisory_xact_lock(%d);
			END IF;
			RETURN NULL;
		END $$`, key))
	must(t, err, "create function")
	_, err = s.pool.Exec(ctx, `CREATE TRIGGER hold_appends AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION hold_appends()`)
	must(t, err, "create trigger")
	holder, err := s.pool.Acquire(ctx)
	must(t, err, "acquire")
	_, err = holder.Exec(ctx, `SELECT pg_advisory_lock($1)`, key)
	must(t, err, "lock")
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, err := holder.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
			must(t, err, "unlock")
			holder.Release()
		})
	}
	t.Cleanup(release)
	waiting = func() bool {
		var n int
		err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND objid = $1 AND NOT granted`, key).Scan(&n)
		must(t, err, "pg_locks")
		return n > 0
	}
	return release, waiting
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A caller that gives up while its batch runs does not disturb the batch:
// the others in it still commit, its own append with them.
func TestBatchCallerCanceled(t *testing.T) {
	s := MustOpen(t)
	release, waiting := blockAppends(t, s)
	a := mkConversation(t, s, "")
	b := mkConversation(t, s, "")
	gone, cancel := context.WithCancel(t.Context())
	ms := []*parley.Message{
		text(a.ID, parley.SenderCustomer, a.CustomerID, "wait"),
		text(b.ID, parley.SenderCustomer, b.CustomerID, "still here"),
	}
	done := make(chan []batchResult)
	go func() { done <- appendBatch(t, s, ms, gone, t.Context()) }()
	eventually(t, "the batch blocks", waiting)
	cancel()
	release()
	res := <-done
	for i, r := range res {
		must(t, r.err, fmt.Sprintf("append %d", i))
	}
	mustLastSeq(t, s, a.ID, 1)
	mustLastSeq(t, s, b.ID, 1)

	// A caller canceled before its batch ran is left out of it.
	early, cancelEarly := context.WithCancel(t.Context())
	cancelEarly()
	ms = []*parley.Message{
		text(a.ID, parley.SenderCustomer, a.CustomerID, "never sent"),
		text(b.ID, parley.SenderCustomer, b.CustomerID, "sent"),
	}
	res = appendBatch(t, s, ms, early, t.Context())
	if !errors.Is(res[0].err, context.Canceled) {
		t.Errorf("canceled caller got %v, want context.Canceled", res[0].err)
	}
	must(t, res[1].err, "append beside a canceled one")
	mustLastSeq(t, s, a.ID, 1)
	mustLastSeq(t, s, b.ID, 2)
}

// AppendMessage returns as soon as its caller gives up, and the store goes
// on with gapless seqs whether or not that append committed.
func TestAppendCanceledWhileWaiting(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	release, waiting := blockAppends(t, s)
	conv := mkConversation(t, s, "")
	gone, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := s.AppendMessage(gone, text(conv.ID, parley.SenderCustomer, conv.CustomerID, "wait"))
		errc <- err
	}()
	eventually(t, "the append blocks", waiting)
	cancel()
	err := <-errc
	wantCode(t, err, parley.EUNAVAILABLE, "canceled append")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("canceled append: %v, want context.Canceled inside", err)
	}
	release()
	m := text(conv.ID, parley.SenderCustomer, conv.CustomerID, "next")
	_, err = s.AppendMessage(ctx, m)
	must(t, err, "append after a canceled one")
	mustLastSeq(t, s, conv.ID, m.Seq)
}

func TestAppendAfterClose(t *testing.T) {
	s := MustOpen(t)
	conv := mkConversation(t, s, "")
	s.Close()
	_, err := s.AppendMessage(t.Context(), text(conv.ID, parley.SenderCustomer, conv.CustomerID, "late"))
	wantCode(t, err, parley.EUNAVAILABLE, "AppendMessage after Close")
}

// Many writers over few conversations, with repeated client ids, through
// the queue: batches overlap, and each conversation still ends gapless with
// one row per client id.
func TestAppendBatchesUnderLoad(t *testing.T) {
	s := mustOpenOptions(t, Options{MaxConns: 8})
	ctx := t.Context()
	convs := []*parley.Conversation{mkConversation(t, s, ""), mkConversation(t, s, ""), mkConversation(t, s, "")}
	const writers, each = 24, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	ids := make([][]string, writers)
	for w := range writers {
		ids[w] = make([]string, each)
		wg.Go(func() {
			for i := range each {
				c := convs[(w/2+i)%len(convs)]
				m := text(c.ID, parley.SenderCustomer, c.CustomerID, "load")
				// Pairs of writers send the same client ids: one row each.
				m.ClientMsgID = fmt.Sprintf("w%d-%d", w/2, i)
				if _, err := s.AppendMessage(ctx, m); err != nil {
					errs <- err
					return
				}
				ids[w][i] = m.ID
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("append: %v", err)
	}
	for w := 0; w < writers; w += 2 {
		for i := range each {
			if ids[w][i] != ids[w+1][i] {
				t.Fatalf("writers %d and %d got different messages for one client id", w, w+1)
			}
		}
	}
	var total int64
	for _, c := range convs {
		got, err := s.GetConversation(ctx, c.ID)
		must(t, err, "GetConversation")
		mustLastSeq(t, s, c.ID, got.LastSeq)
		total += got.LastSeq
	}
	if total != writers/2*each {
		t.Errorf("%d messages stored, want %d", total, writers/2*each)
	}
}
