package desk

import (
	"context"
	"time"

	"github.com/parleychat/parley"
)

// Settings returns the widget settings. EUNAUTHORIZED, EFORBIDDEN (below
// team lead).
func (d *Desk) Settings(ctx context.Context, a Actor) (*parley.Settings, error) {
	if _, err := allow(a, SettingsView); err != nil {
		return nil, err
	}
	s, err := d.store.GetSettings(ctx)
	return s, wrap("desk.Settings", err)
}

// UpdateSettings changes the widget settings, recording who did.
// EUNAUTHORIZED, EFORBIDDEN (not an admin), EINVALID (nothing is written).
func (d *Desk) UpdateSettings(ctx context.Context, a Actor, up parley.SettingsUpdate) (*parley.Settings, error) {
	if _, err := allow(a, SettingsManage); err != nil {
		return nil, err
	}
	up.UpdatedBy = a.User.ID
	s, err := d.store.UpdateSettings(ctx, up)
	if err != nil {
		if parley.IsCode(err, parley.EINVALID) {
			return nil, err
		}
		if parley.IsCode(err, parley.ENOTFOUND) { // the admin was deleted meanwhile
			return nil, errUnauthorized
		}
		return nil, wrap("desk.UpdateSettings", err)
	}
	d.log.Info("settings changed", "by", a.User.ID)
	return s, nil
}

// WidgetStatus is what the widget needs to draw itself and tell visitors
// whether someone can answer.
type WidgetStatus struct {
	Settings *parley.Settings
	// AgentsOnline: some enabled agent's availability is online.
	AgentsOnline bool
	// WithinBusinessHours: now is within the hours (always, without hours).
	WithinBusinessHours bool
	// NextOpenAt is when the hours next open, while outside them (UTC).
	NextOpenAt *time.Time
	// Online: agents are online and it is within business hours.
	Online bool
}

// WidgetStatus returns the widget's settings and whether the team answers
// at now. Anyone may ask: it is what every visitor's widget shows.
// EUNAVAILABLE.
func (d *Desk) WidgetStatus(ctx context.Context, now time.Time) (*WidgetStatus, error) {
	const op = "desk.WidgetStatus"
	s, err := d.store.GetSettings(ctx)
	if err != nil {
		return nil, wrap(op, err)
	}
	online, err := d.store.ListUsers(ctx, parley.UserFilter{Availability: parley.Online})
	if err != nil {
		return nil, wrap(op, err)
	}
	st := &WidgetStatus{Settings: s, AgentsOnline: len(online) > 0, WithinBusinessHours: true}
	if h := s.BusinessHours; h != nil {
		st.WithinBusinessHours = h.OpenAt(now)
		if !st.WithinBusinessHours {
			if next, ok := h.NextOpen(now); ok {
				next = next.UTC()
				st.NextOpenAt = &next
			}
		}
	}
	st.Online = st.AgentsOnline && st.WithinBusinessHours
	return st, nil
}

// FrameAncestors returns the origins allowed to frame the widget (empty:
// any). Anyone may ask: the list is sent in the widget page's headers.
// EUNAVAILABLE.
func (d *Desk) FrameAncestors(ctx context.Context) ([]string, error) {
	s, err := d.store.GetSettings(ctx)
	if err != nil {
		return nil, wrap("desk.FrameAncestors", err)
	}
	return s.AllowedOrigins, nil
}
