package desk

import (
	"context"

	"github.com/parleychat/parley"
)

// Report returns the figures of [f.From, f.To) (see parley.Report), for
// team leads and admins. EUNAUTHORIZED, EFORBIDDEN, EINVALID (a range
// missing, reversed or over 366 days; a bucket other than an hour or a day).
func (d *Desk) Report(ctx context.Context, a Actor, f parley.ReportFilter) (*parley.Report, error) {
	if _, err := allow(a, ReportView); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	r, err := d.store.Report(ctx, f)
	if parley.IsCode(err, parley.EINVALID) {
		return nil, err
	}
	return r, wrap("desk.Report", err)
}
