package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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

func encodeHours(h *parley.BusinessHours) ([]byte, error) {
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
	return json.Marshal(j)
}

func decodeHours(b []byte) (*parley.BusinessHours, error) {
	if b == nil {
		return nil, nil
	}
	var j hoursJSON
	if err := json.Unmarshal(b, &j); err != nil {
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

func scanSettings(row pgx.Row) (*parley.Settings, error) {
	var st parley.Settings
	var origins, hours []byte
	var by *string
	if err := row.Scan(&st.Widget.Title, &st.Widget.Greeting, &st.Widget.Color, &st.Widget.Position,
		&st.Widget.PreChatForm, &origins, &hours, &st.OfflineMessage, &st.UpdatedAt, &by); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(origins, &st.AllowedOrigins); err != nil {
		return nil, fmt.Errorf("allowed origins: %w", err)
	}
	var err error
	if st.BusinessHours, err = decodeHours(hours); err != nil {
		return nil, err
	}
	st.UpdatedAt, st.UpdatedBy = st.UpdatedAt.UTC(), deref(by)
	return &st, nil
}

// GetSettings returns the settings as stored, or the defaults (with a zero
// UpdatedAt) when they were never saved. EUNAVAILABLE.
func (s *Store) GetSettings(ctx context.Context) (*parley.Settings, error) {
	const op = "postgres.GetSettings"
	st, err := scanSettings(s.pool.QueryRow(ctx, `SELECT `+settingsColumns+` FROM settings WHERE id = 1`))
	if noRows(err) {
		return parley.DefaultSettings(), nil
	}
	if err != nil {
		return nil, translate(op, err)
	}
	return st, nil
}

// UpdateSettings applies up to the stored settings (or the defaults) and
// returns them as stored. The row is created with the defaults if missing
// and then locked, so concurrent updates apply one after the other, each to
// what the one before wrote. EINVALID (nothing is written); ENOTFOUND when
// up.UpdatedBy names no user.
func (s *Store) UpdateSettings(ctx context.Context, up parley.SettingsUpdate) (*parley.Settings, error) {
	const op = "postgres.UpdateSettings"
	var out *parley.Settings
	err := s.inTx(ctx, op, func(tx pgx.Tx) error {
		d := parley.DefaultSettings()
		if _, err := tx.Exec(ctx, `INSERT INTO settings (id, widget_title, widget_greeting, widget_color,
			widget_position, widget_pre_chat, updated_at) VALUES (1, $1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO NOTHING`, d.Widget.Title, d.Widget.Greeting, d.Widget.Color,
			string(d.Widget.Position), string(d.Widget.PreChatForm), time.Time{}.UTC()); err != nil {
			return err
		}
		st, err := scanSettings(tx.QueryRow(ctx, `SELECT `+settingsColumns+` FROM settings WHERE id = 1 FOR UPDATE`))
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
		if _, err := tx.Exec(ctx, `UPDATE settings SET widget_title = $1, widget_greeting = $2, widget_color = $3,
			widget_position = $4, widget_pre_chat = $5, allowed_origins = $6, business_hours = $7,
			offline_message = $8, updated_at = $9, updated_by = $10 WHERE id = 1`,
			st.Widget.Title, st.Widget.Greeting, st.Widget.Color, string(st.Widget.Position),
			string(st.Widget.PreChatForm), origins, hours, st.OfflineMessage, now, nullID(st.UpdatedBy)); err != nil {
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
