package postgres

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
	_, err := r.s.pool.Exec(ctx, `UPDATE conversations SET created_at = $2,
		first_assigned_at = coalesce($3, first_assigned_at), first_response_at = coalesce($4, first_response_at),
		closed_at = coalesce($5, closed_at) WHERE id = $1`, id, created, firstAssigned, firstResponse, closed)
	return err
}

func (r retimer) RetimeRating(ctx context.Context, conversationID string, at time.Time) error {
	_, err := r.s.pool.Exec(ctx, `UPDATE ratings SET created_at = $2 WHERE conversation_id = $1`, conversationID, at)
	return err
}

func TestWorkflowConformance(t *testing.T) {
	storetest.RunWorkflow(t, func(tb testing.TB) parley.Store { return MustOpen(tb) },
		func(s parley.Store) storetest.Retimer { return retimer{s.(*Store)} })
}
