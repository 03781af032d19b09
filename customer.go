package parley

import "time"

// Customer is a website visitor who chats through the widget without an
// account. The widget holds a random token; only its SHA-256 (TokenHash, hex)
// is stored.
type Customer struct {
	ID        string
	TokenHash string
	Name      string
	Email     string
	UserAgent string
	IP        string
	Location  Metadata // country, city, time zone, ... when known
	Metadata  Metadata // page URL, referrer, language, ... as reported by the widget
	FirstSeen time.Time
	LastSeen  time.Time
}

// Validate checks the fields a store writes. It returns EINVALID.
func (c *Customer) Validate() error {
	const op = "Customer.Validate"
	if len(c.TokenHash) != 64 {
		return Errorf(EINVALID, "token hash must be a hex SHA-256")
	}
	if err := checkText(op, "name", c.Name, MaxNameLen, false); err != nil {
		return err
	}
	if err := validateEmail(op, c.Email, false); err != nil {
		return err
	}
	if err := checkText(op, "user agent", c.UserAgent, 1000, false); err != nil {
		return err
	}
	if err := checkText(op, "ip", c.IP, 64, false); err != nil {
		return err
	}
	if err := validateMetadata(op, c.Location); err != nil {
		return err
	}
	return validateMetadata(op, c.Metadata)
}

// CustomerUpdate changes the non-nil fields of a customer.
type CustomerUpdate struct {
	Name      *string
	Email     *string
	UserAgent *string
	IP        *string
	Location  Metadata // replaces when non-nil
	Metadata  Metadata // replaces when non-nil
	LastSeen  *time.Time
}

// Apply copies the non-nil fields of up into c.
func (up CustomerUpdate) Apply(c *Customer) {
	if up.Name != nil {
		c.Name = *up.Name
	}
	if up.Email != nil {
		c.Email = NormalizeEmail(*up.Email)
	}
	if up.UserAgent != nil {
		c.UserAgent = *up.UserAgent
	}
	if up.IP != nil {
		c.IP = *up.IP
	}
	if up.Location != nil {
		c.Location = up.Location
	}
	if up.Metadata != nil {
		c.Metadata = up.Metadata
	}
	if up.LastSeen != nil {
		c.LastSeen = up.LastSeen.UTC().Truncate(time.Microsecond)
	}
}

// CustomerFilter selects customers in ListCustomers, newest first seen first.
type CustomerFilter struct {
	Email  string // exact, normalized
	Limit  int    // 1..MaxPageSize; 0 means DefaultPageSize
	Cursor string // from a previous page's NextCursor
}

// CustomerPage is one page of ListCustomers.
type CustomerPage struct {
	Customers  []*Customer
	NextCursor string // "" on the last page
}
