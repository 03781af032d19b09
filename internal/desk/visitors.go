package desk

import (
	"context"
	"maps"
	"net/netip"
	"strings"
	"unicode"

	"github.com/parleychat/parley"
)

// Locator finds the country of an IP address (internal/geoip on an MMDB
// file). ok is false when it does not know the address.
type Locator interface {
	Country(ip netip.Addr) (code, name string, ok bool)
}

// locate returns the location kept for a customer at ip: the country when
// the locator knows the address, an empty Metadata (no location) when it
// does not, and nil when there is no locator (keep what is stored).
func (d *Desk) locate(ip string) parley.Metadata {
	if d.locator == nil {
		return nil
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return parley.Metadata{}
	}
	code, name, ok := d.locator.Country(a)
	if !ok {
		return parley.Metadata{}
	}
	return parley.Metadata{"countryCode": code, "country": name}
}

// Visitor returns the calling visitor's own profile. EUNAUTHORIZED,
// EFORBIDDEN (agents).
func (d *Desk) Visitor(ctx context.Context, a Actor) (*parley.Customer, error) {
	if _, err := allow(a, VisitorSelf); err != nil {
		return nil, err
	}
	return a.Customer, nil
}

// VisitorChange is what a visitor tells about themselves: the fields set
// change (an empty Email removes it); Context replaces the context kept.
// IP and UserAgent are where the request came from, recorded with it.
type VisitorChange struct {
	Name      *string
	Email     *string
	Context   *parley.VisitorContext
	IP        string
	UserAgent string
}

// UpdateVisitor changes the calling visitor's name, email or context, and
// records the address and user agent the request came from; when the
// address changed (or no location is known yet) and a Locator is set, the
// location is looked up again. EUNAUTHORIZED, EFORBIDDEN (agents), EINVALID
// (nothing is written), ENOTFOUND (the visitor was deleted meanwhile).
func (d *Desk) UpdateVisitor(ctx context.Context, a Actor, ch VisitorChange) (*parley.Customer, error) {
	const op = "desk.UpdateVisitor"
	if _, err := allow(a, VisitorSelf); err != nil {
		return nil, err
	}
	cur, err := d.store.GetCustomer(ctx, a.Customer.ID)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, notFound("Visitor")
		}
		return nil, wrap(op, err)
	}
	up := parley.CustomerUpdate{}
	if ch.Name != nil {
		name := strings.TrimSpace(*ch.Name)
		if strings.IndexFunc(name, unicode.IsControl) >= 0 {
			return nil, parley.Errorf(parley.EINVALID, "name must be one line without control characters")
		}
		if len([]rune(name)) > parley.MaxNameLen {
			return nil, parley.Errorf(parley.EINVALID, "name is too long (at most %d characters)", parley.MaxNameLen)
		}
		up.Name = &name
	}
	if ch.Email != nil {
		email := parley.NormalizeEmail(*ch.Email)
		up.Email = &email
	}
	if ch.Context != nil {
		if err := ch.Context.Validate(); err != nil {
			return nil, err
		}
		meta := maps.Clone(cur.Metadata)
		if meta == nil {
			meta = parley.Metadata{}
		}
		meta[parley.ContextKey] = ch.Context.Metadata()
		up.Metadata = meta
	}
	if ip := clip(ch.IP, 64); ip != "" && ip != cur.IP {
		up.IP = &ip
		up.Location = d.locate(ip)
	} else if len(cur.Location) == 0 {
		if loc := d.locate(cur.IP); len(loc) > 0 {
			up.Location = loc
		}
	}
	if ua := clip(ch.UserAgent, 1000); ua != "" && ua != cur.UserAgent {
		up.UserAgent = &ua
	}
	now := parley.Now()
	up.LastSeen = &now
	c, err := d.store.UpdateCustomer(ctx, cur.ID, up)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, notFound("Visitor")
		}
		if parley.IsCode(err, parley.EINVALID) {
			return nil, err
		}
		return nil, wrap(op, err)
	}
	return c, nil
}
