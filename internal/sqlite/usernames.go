package sqlite

import (
	"context"
	"strings"

	"github.com/parleychat/parley"
)

// UserNames returns the names of the users among ids, in one query.
func (s *Store) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	const op = "sqlite.UserNames"
	keep, err := parley.UserNameIDs(ids)
	if err != nil || len(keep) == 0 {
		return map[string]string{}, err
	}
	args := make([]any, len(keep))
	for i, id := range keep {
		args[i] = id
	}
	q := `SELECT id, name FROM users WHERE id IN (?` + strings.Repeat(",?", len(keep)-1) + `)`
	rows, err := s.rq.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	defer rows.Close()
	out := make(map[string]string, len(keep))
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, translate(op, err)
		}
		out[id] = name
	}
	return out, translate(op, rows.Err())
}
