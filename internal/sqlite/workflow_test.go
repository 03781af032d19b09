package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/storetest"
)

// retimer moves recorded times with SQL, for the report checks only.
type retimer struct{ s *Store }

func (r retimer) RetimeConversation(ctx context.Context, id string, created time.Time, firstAssigned, firstResponse, closed *time.Time) error {
	_, err := r.s.exec(ctx, "retime", `UPDATE conversations SET created_at = ?,
		first_assigned_at = coalesce(?, first_assigned_at), first_response_at = coalesce(?, first_response_at),
		closed_at = coalesce(?, closed_at) WHERE id = ?`,
		micros(created), nullMicros(firstAssigned), nullMicros(firstResponse), nullMicros(closed), id)
	return err
}

func (r retimer) RetimeRating(ctx context.Context, conversationID string, at time.Time) error {
	_, err := r.s.exec(ctx, "retime", `UPDATE ratings SET created_at = ? WHERE conversation_id = ?`, micros(at), conversationID)
	return err
}

func TestWorkflowConformance(t *testing.T) {
	storetest.RunWorkflow(t, func(tb testing.TB) parley.Store { return MustOpen(tb) },
		func(s parley.Store) storetest.Retimer { return retimer{s.(*Store)} })
}
