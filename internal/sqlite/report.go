package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/parleychat/parley"
)

// The report's queries. Times are unix microseconds; ?1 and ?2 are the
// range [from, to). Groups are ” for everyone and an agent's id.
//
// Percentiles are nearest-rank in integer arithmetic, the same in the
// PostgreSQL store: the value at rank ceil(n/2) is the median, at rank
// ceil(9n/10) the 90th percentile.
const (
	reportStartedSQL = `SELECT '' AS grp, count(*) FROM conversations WHERE created_at >= ?1 AND created_at < ?2
		UNION ALL
		SELECT first_assignee_id, count(*) FROM conversations
		WHERE created_at >= ?1 AND created_at < ?2 AND first_assignee_id IS NOT NULL GROUP BY first_assignee_id`

	reportClosedSQL = `SELECT '' AS grp, count(*) FROM conversations
		WHERE status = 'closed' AND closed_at >= ?1 AND closed_at < ?2
		UNION ALL
		SELECT assignee_id, count(*) FROM conversations
		WHERE status = 'closed' AND closed_at >= ?1 AND closed_at < ?2 AND assignee_id IS NOT NULL GROUP BY assignee_id`

	percentilesSQL = `, g AS (SELECT '' AS grp, v FROM d UNION ALL SELECT agent, v FROM d WHERE agent IS NOT NULL),
		r AS (SELECT grp, v, row_number() OVER (PARTITION BY grp ORDER BY v) AS rn,
		             count(*) OVER (PARTITION BY grp) AS n FROM g)
		SELECT grp, max(n), max(CASE WHEN rn = (n + 1) / 2 THEN v END), max(CASE WHEN rn = (9 * n + 9) / 10 THEN v END)
		FROM r GROUP BY grp`

	reportFirstResponseSQL = `WITH d AS (SELECT first_response_by AS agent, first_response_at - created_at AS v
		FROM conversations WHERE created_at >= ?1 AND created_at < ?2 AND first_response_at IS NOT NULL)` + percentilesSQL

	reportResolutionSQL = `WITH d AS (SELECT assignee_id AS agent, closed_at - created_at AS v
		FROM conversations WHERE status = 'closed' AND closed_at >= ?1 AND closed_at < ?2)` + percentilesSQL

	reportRatingsSQL = `WITH d AS (SELECT c.assignee_id AS agent, r.score FROM ratings r
		JOIN conversations c ON c.id = r.conversation_id WHERE r.created_at >= ?1 AND r.created_at < ?2),
		g AS (SELECT '' AS grp, score FROM d UNION ALL SELECT agent, score FROM d WHERE agent IS NOT NULL)
		SELECT grp, count(*), sum(score),
			sum(CASE WHEN score = 1 THEN 1 ELSE 0 END), sum(CASE WHEN score = 2 THEN 1 ELSE 0 END),
			sum(CASE WHEN score = 3 THEN 1 ELSE 0 END), sum(CASE WHEN score = 4 THEN 1 ELSE 0 END),
			sum(CASE WHEN score = 5 THEN 1 ELSE 0 END)
		FROM g GROUP BY grp`

	// reportQueueSQL samples the queue at ?1 + k*?3 for k < ?4. Each
	// conversation adds 1 from the first sample at or after its creation
	// and takes it back from the first sample at or after it stopped
	// waiting; a running sum over the samples gives the lengths.
	reportQueueSQL = `WITH RECURSIVE b(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM b WHERE k + 1 < ?4),
		w AS (SELECT created_at AS s, coalesce(first_assigned_at, closed_at) AS e FROM conversations
		      WHERE coalesce(first_assigned_at, closed_at, 9223372036854775807) > ?1 AND created_at < ?2),
		dl AS (SELECT CASE WHEN s <= ?1 THEN 0 ELSE (s - ?1 + ?3 - 1) / ?3 END AS k, 1 AS d FROM w
		       UNION ALL SELECT (e - ?1 + ?3 - 1) / ?3, -1 FROM w WHERE e IS NOT NULL),
		agg AS (SELECT k, sum(d) AS d FROM dl WHERE k < ?4 GROUP BY k)
		SELECT b.k, sum(coalesce(agg.d, 0)) OVER (ORDER BY b.k ROWS UNBOUNDED PRECEDING)
		FROM b LEFT JOIN agg ON agg.k = b.k ORDER BY b.k`
)

// Report computes the figures of f's range in SQL, in one read
// transaction so they agree with each other. EINVALID.
func (s *Store) Report(ctx context.Context, f parley.ReportFilter) (*parley.Report, error) {
	const op = "sqlite.Report"
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if s.isClosed() {
		return nil, closedError(op)
	}
	from, to := utc(f.From), utc(f.To)
	out := &parley.Report{From: from, To: to}
	agents := map[string]*parley.ReportStats{}
	stats := func(grp string) *parley.ReportStats {
		if grp == "" {
			return &out.Overall
		}
		st := agents[grp]
		if st == nil {
			st = &parley.ReportStats{}
			agents[grp] = st
		}
		return st
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, translate(op, err)
	}
	defer tx.Rollback()
	f1, t1 := micros(from), micros(to)

	counts := func(q string, set func(st *parley.ReportStats, n int)) error {
		rows, err := tx.QueryContext(ctx, q, f1, t1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var grp string
			var n int
			if err := rows.Scan(&grp, &n); err != nil {
				return err
			}
			set(stats(grp), n)
		}
		return rows.Err()
	}
	durations := func(q string, set func(st *parley.ReportStats, d parley.DurationStats)) error {
		rows, err := tx.QueryContext(ctx, q, f1, t1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var grp string
			var n int
			var med, p90 int64
			if err := rows.Scan(&grp, &n, &med, &p90); err != nil {
				return err
			}
			set(stats(grp), parley.DurationStats{Count: n, Median: time.Duration(med) * time.Microsecond,
				P90: time.Duration(p90) * time.Microsecond})
		}
		return rows.Err()
	}
	if err := counts(reportStartedSQL, func(st *parley.ReportStats, n int) { st.Started = n }); err != nil {
		return nil, translate(op, err)
	}
	if err := counts(reportClosedSQL, func(st *parley.ReportStats, n int) { st.Closed = n }); err != nil {
		return nil, translate(op, err)
	}
	if err := durations(reportFirstResponseSQL, func(st *parley.ReportStats, d parley.DurationStats) { st.FirstResponse = d }); err != nil {
		return nil, translate(op, err)
	}
	if err := durations(reportResolutionSQL, func(st *parley.ReportStats, d parley.DurationStats) { st.Resolution = d }); err != nil {
		return nil, translate(op, err)
	}
	if err := func() error {
		rows, err := tx.QueryContext(ctx, reportRatingsSQL, f1, t1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var grp string
			var r parley.RatingStats
			if err := rows.Scan(&grp, &r.Count, &r.Sum, &r.Distribution[0], &r.Distribution[1], &r.Distribution[2],
				&r.Distribution[3], &r.Distribution[4]); err != nil {
				return err
			}
			stats(grp).Satisfaction = r
		}
		return rows.Err()
	}(); err != nil {
		return nil, translate(op, err)
	}
	if err := func() error {
		n := f.Buckets()
		rows, err := tx.QueryContext(ctx, reportQueueSQL, f1, t1, f.Bucket.Microseconds(), n)
		if err != nil {
			return err
		}
		defer rows.Close()
		out.Queue = make([]parley.QueueSample, 0, n)
		for rows.Next() {
			var k int64
			var w int
			if err := rows.Scan(&k, &w); err != nil {
				return err
			}
			out.Queue = append(out.Queue, parley.QueueSample{At: from.Add(time.Duration(k) * f.Bucket), Waiting: w})
		}
		return rows.Err()
	}(); err != nil {
		return nil, translate(op, err)
	}
	if err := func() error {
		if len(agents) == 0 {
			return nil
		}
		ids := make([]string, 0, len(agents))
		for id := range agents {
			ids = append(ids, id)
		}
		b, _ := json.Marshal(ids)
		names := map[string]string{}
		rows, err := tx.QueryContext(ctx, `SELECT id, name FROM users WHERE id IN (SELECT value FROM json_each(?))`, string(b))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				return err
			}
			names[id] = name
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			out.Agents = append(out.Agents, parley.AgentReport{AgentID: id, Name: names[id], ReportStats: *agents[id]})
		}
		return nil
	}(); err != nil {
		return nil, translate(op, err)
	}
	out.SortAgents()
	return out, nil
}
