package desk

import (
	"testing"

	"github.com/parleychat/parley"
)

// TestRecentConversations: the desk's memory of conversations gives back
// what was put, follows changes only of what it holds, forgets, and never
// holds more than recentCap.
func TestRecentConversations(t *testing.T) {
	var r recent
	if r.get(parley.NewID()) != nil {
		t.Fatal("an empty memory returned a conversation")
	}
	c := &parley.Conversation{ID: parley.NewID(), CustomerID: parley.NewID(), Status: parley.StatusWaiting,
		LastMessagePreview: "not remembered", LastSeq: 7}
	r.put(c)
	got := r.get(c.ID)
	if got == nil || got.ID != c.ID || got.CustomerID != c.CustomerID || got.State() != c.State() ||
		got.LastMessagePreview != "" || got.LastSeq != 0 {
		t.Fatalf("get = %+v, want the id, customer, status and assignee of %+v only", got, c)
	}
	agent := parley.NewID()
	r.update(&parley.Conversation{ID: c.ID, CustomerID: c.CustomerID, Status: parley.StatusActive, AssigneeID: agent})
	if got := r.get(c.ID); got.Status != parley.StatusActive || got.AssigneeID != agent || got.CustomerID != c.CustomerID {
		t.Errorf("after update: %+v", got)
	}
	other := &parley.Conversation{ID: parley.NewID(), Status: parley.StatusClosed}
	r.update(other)
	if r.get(other.ID) != nil {
		t.Error("update remembered a conversation it did not hold")
	}
	r.forget(c.ID)
	if r.get(c.ID) != nil {
		t.Error("a forgotten conversation is still remembered")
	}

	var last string
	for range recentCap + 50 {
		last = parley.NewID()
		r.put(&parley.Conversation{ID: last, Status: parley.StatusWaiting})
	}
	if n := len(r.m); n != recentCap {
		t.Errorf("%d conversations remembered after %d puts, want %d", n, recentCap+50, recentCap)
	}
	if r.get(last) == nil {
		t.Error("the newest conversation was not remembered")
	}
}
