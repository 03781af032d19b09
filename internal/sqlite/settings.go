package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parleychat/parley"
)

const settingsColumns = `widget_title, widget_greeting, widget_color, widget_position, widget_pre_chat,
	allowed_origins, business_hours, offline_message, updated_at, updated_by`

// hoursJSON is how business hours are kept: the time zone and, Sunday
// first, each day's ranges as ["HH:MM", "HH:MM"].
type hoursJSON struct {
	TimeZone string         `json:"timeZone"`
	Days     [7][][2]string `json:"days"`
}

func encodeHours(h *parley.BusinessHours) (any, error) {
	if h == nil {
		return nil, nil
	}
	j := hoursJSON{TimeZone: h.TimeZone}
	for d, rs := range h.Days {
		j.Days[d] = [][2]string{}
		for _, r := range rs {
			j.Days[d] = append(j.Days[d], [2]string{r.From.String(), r.To.String()})
		}
	}
	b, err := json.Marshal(j)
	return string(b), err
}

func decodeHours(s sql.NullString) (*parley.BusinessHours, error) {
	if !s.Valid {
		return nil, nil
	}
	var j hoursJSON
	if err := json.Unmarshal([]byte(s.String), &j); err != nil {
		return nil, fmt.Errorf("business hours: %w", err)
	}
	h := &parley.BusinessHours{TimeZone: j.TimeZone}
	for d, rs := range j.Days {
		for _, r := range rs {
			from, err1 := parley.ParseClock(r[0])
			to, err2 := parley.ParseClock(r[1])
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("business hours: bad range %q", r)
			}
			h.Days[d] = append(h.Days[d], parley.TimeRange{From: from, To: to})
		}
	}
	return h, nil
}

func scanSettings(row *sql.Row) (*parley.Settings, error) {
	var st parley.Settings
	var origins string
	var hours, by sql.NullString
	var updated int64
	if err := row.Scan(&st.Widget.Title, &st.Widget.Greeting, &st.Widget.Color, &st.Widget.Position,
		&st.Widget.PreChatForm, &origins, &hours, &st.OfflineMessage, &updated, &by); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(origins), &st.AllowedOrigins); err != nil {
		return nil, fmt.Errorf("allowed origins: %w", err)
	}
	var err error
	if st.BusinessHours, err = decodeHours(hours); err != nil {
		return nil, err
	}
	st.UpdatedAt, st.UpdatedBy = fromMicros(updated), by.String
	return &st, nil
}

func getSettings(ctx context.Context, q dbtx) (*parley.Settings, error) {
	return scanSettings(q.QueryRowContext(ctx, `SELECT `+settingsColumns+` FROM settings WHERE id = 1`))
}

// GetSettings returns the settings as stored, or the defaults (with a zero
// UpdatedAt) when they were never saved. EUNAVAILABLE.
func (s *Store) GetSettings(ctx context.Context) (*parley.Settings, error) {
	const op = "sqlite.GetSettings"
	if s.isClosed() {
		return nil, closedError(op)
	}
	st, err := getSettings(ctx, s.rq)
	if err == sql.ErrNoRows {
		return parley.DefaultSettings(), nil
	}
	if err != nil {
		return nil, translate(op, err)
	}
	return st, nil
}

// UpdateSettings applies up to the stored settings (or the defaults) in one
// write transaction and returns them as stored. EINVALID (nothing is
// written); ENOTFOUND when up.UpdatedBy names no user.
func (s *Store) UpdateSettings(ctx context.Context, up parley.SettingsUpdate) (*parley.Settings, error) {
	const op = "sqlite.UpdateSettings"
	var out *parley.Settings
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		st, err := getSettings(ctx, tx)
		if err == sql.ErrNoRows {
			st, err = parley.DefaultSettings(), nil
		}
		if err != nil {
			return err
		}
		up.Apply(st)
		if st.AllowedOrigins == nil {
			st.AllowedOrigins = []string{}
		}
		if err := st.Validate(); err != nil {
			return err
		}
		origins, err := json.Marshal(st.AllowedOrigins)
		if err != nil {
			return err
		}
		hours, err := encodeHours(st.BusinessHours)
		if err != nil {
			return err
		}
		now := parley.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (id, `+settingsColumns+`)
			VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET widget_title = excluded.widget_title,
				widget_greeting = excluded.widget_greeting, widget_color = excluded.widget_color,
				widget_position = excluded.widget_position, widget_pre_chat = excluded.widget_pre_chat,
				allowed_origins = excluded.allowed_origins, business_hours = excluded.business_hours,
				offline_message = excluded.offline_message, updated_at = excluded.updated_at,
				updated_by = excluded.updated_by`,
			st.Widget.Title, st.Widget.Greeting, st.Widget.Color, st.Widget.Position, st.Widget.PreChatForm,
			string(origins), hours, st.OfflineMessage, micros(now), nullString(st.UpdatedBy)); err != nil {
			return err
		}
		st.UpdatedAt = now
		out = st
		return nil
	})
	if err != nil {
		var pe *parley.Error
		if errors.As(err, &pe) && pe.Code == parley.ENOTFOUND {
			return nil, &parley.Error{Code: parley.ENOTFOUND, Op: op, Message: "the user making the change does not exist", Err: err}
		}
		return nil, err
	}
	return out, nil
}
