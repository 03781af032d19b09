package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var customerTests = []test{
	{"CreateGetRoundTrip", testCustomerRoundTrip},
	{"GivenTimesKept", testCustomerGivenTimes},
	{"EmptyMetadata", testCustomerEmptyMetadata},
	{"NULInMetadata", testCustomerNULMetadata},
	{"CreateRejected", testCustomerCreateRejected},
	{"UpdateEachField", testCustomerUpdate},
	{"UpdateInvalid", testCustomerUpdateInvalid},
	{"ListPaginated", testCustomerList},
	{"ListByEmail", testCustomerListByEmail},
	{"ListInvalid", testCustomerListInvalid},
	{"Delete", testCustomerDelete},
}

func testCustomerRoundTrip(t *testing.T, s parley.Store) {
	ctx := t.Context()
	start := time.Now()
	c := newCustomer()
	c.Metadata = parley.Metadata{
		"page":    "https://example.org/a?b=c",
		"count":   3.0,
		"ok":      true,
		"nested":  map[string]any{"list": []any{"x", 1.5, nil}},
		"unicode": "Grüße 👋",
	}
	must(t, s.CreateCustomer(ctx, c), "CreateCustomer")
	if !parley.ValidID(c.ID) {
		t.Fatalf("CreateCustomer filled ID %q", c.ID)
	}
	checkFresh(t, "FirstSeen", c.FirstSeen, start)
	checkFresh(t, "LastSeen", c.LastSeen, start)
	got, err := s.GetCustomer(ctx, c.ID)
	must(t, err, "GetCustomer")
	roundTrip(t, "GetCustomer", got, c)
	got, err = s.GetCustomerByTokenHash(ctx, c.TokenHash)
	must(t, err, "GetCustomerByTokenHash")
	roundTrip(t, "GetCustomerByTokenHash", got, c)
	_, err = s.GetCustomerByTokenHash(ctx, randomHash())
	wantCode(t, err, parley.ENOTFOUND, "GetCustomerByTokenHash(unknown)")
}

func testCustomerGivenTimes(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := newCustomer()
	c.FirstSeen = time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)
	c.LastSeen = time.Date(2025, 1, 1, 0, 0, 0, 1000, time.UTC)
	want := *c
	must(t, s.CreateCustomer(ctx, c), "CreateCustomer")
	if !c.FirstSeen.Equal(want.FirstSeen) || !c.LastSeen.Equal(want.LastSeen) {
		t.Errorf("CreateCustomer replaced given times: FirstSeen %s LastSeen %s", c.FirstSeen, c.LastSeen)
	}
	got, err := s.GetCustomer(ctx, c.ID)
	must(t, err, "GetCustomer")
	want.ID = c.ID
	roundTrip(t, "GetCustomer", got, &want)
}

// A customer may be anonymous: every optional field empty.
func testCustomerEmptyMetadata(t *testing.T, s parley.Store) {
	ctx := t.Context()
	for _, c := range []*parley.Customer{
		{TokenHash: randomHash()},
		{TokenHash: randomHash(), Location: parley.Metadata{}, Metadata: parley.Metadata{}},
	} {
		must(t, s.CreateCustomer(ctx, c), "CreateCustomer")
		got, err := s.GetCustomer(ctx, c.ID)
		must(t, err, "GetCustomer")
		roundTrip(t, "anonymous customer", got, c)
		if len(got.Location) != 0 || len(got.Metadata) != 0 {
			t.Errorf("empty metadata read back as %v / %v", got.Location, got.Metadata)
		}
	}
}

// Validate lets a NUL through inside Metadata (it is valid JSON as \u0000).
// store.go does not say what happens then; whatever a store does, it must
// either keep the value exactly or refuse it as EINVALID, never fail otherwise.
func testCustomerNULMetadata(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := newCustomer()
	c.Metadata = parley.Metadata{"k": "a\x00b"}
	err := s.CreateCustomer(ctx, c)
	if err != nil {
		wantCode(t, err, parley.EINVALID, "CreateCustomer(NUL in metadata)")
		_, err := s.GetCustomerByTokenHash(ctx, c.TokenHash)
		wantCode(t, err, parley.ENOTFOUND, "customer after a refused CreateCustomer")
		return
	}
	got, err := s.GetCustomer(ctx, c.ID)
	must(t, err, "GetCustomer")
	roundTrip(t, "GetCustomer(NUL in metadata)", got, c)
}

func testCustomerCreateRejected(t *testing.T, s parley.Store) {
	ctx := t.Context()
	first := mustCustomer(t, s)
	big := parley.Metadata{"blob": strings.Repeat("x", parley.MaxMetadataBytes)}
	cases := []struct {
		name string
		edit func(c *parley.Customer)
		code string
	}{
		{"reused token hash", func(c *parley.Customer) { c.TokenHash = first.TokenHash }, parley.ECONFLICT},
		{"short hash", func(c *parley.Customer) { c.TokenHash = "ab" }, parley.EINVALID},
		{"long name", func(c *parley.Customer) { c.Name = strings.Repeat("n", parley.MaxNameLen+1) }, parley.EINVALID},
		{"NUL in name", func(c *parley.Customer) { c.Name = "\x00" }, parley.EINVALID},
		{"bad email", func(c *parley.Customer) { c.Email = "nope" }, parley.EINVALID},
		{"long ip", func(c *parley.Customer) { c.IP = strings.Repeat("1", 65) }, parley.EINVALID},
		{"long user agent", func(c *parley.Customer) { c.UserAgent = strings.Repeat("u", 1001) }, parley.EINVALID},
		{"huge metadata", func(c *parley.Customer) { c.Metadata = big }, parley.EINVALID},
		{"huge location", func(c *parley.Customer) { c.Location = big }, parley.EINVALID},
		{"unencodable metadata", func(c *parley.Customer) { c.Metadata = parley.Metadata{"f": func() {}} }, parley.EINVALID},
		{"malformed given id", func(c *parley.Customer) { c.ID = "c-1" }, parley.EINVALID},
	}
	for _, tc := range cases {
		c := newCustomer()
		tc.edit(c)
		wantCode(t, s.CreateCustomer(ctx, c), tc.code, "CreateCustomer("+tc.name+")")
	}
	page, err := s.ListCustomers(ctx, parley.CustomerFilter{Limit: parley.MaxPageSize})
	must(t, err, "ListCustomers")
	if len(page.Customers) != 1 {
		t.Errorf("%d customers stored after rejected creations, want 1", len(page.Customers))
	}
}

func testCustomerUpdate(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := mustCustomer(t, s)
	other := mustCustomer(t, s)
	seen := parley.Now().Add(time.Hour)
	n := unique()
	cases := []struct {
		name string
		up   parley.CustomerUpdate
	}{
		{"name", parley.CustomerUpdate{Name: ptr("Renamed")}},
		{"email normalized", parley.CustomerUpdate{Email: ptr("Mixed" + n + "@Example.ORG")}},
		{"email cleared", parley.CustomerUpdate{Email: ptr("")}},
		{"user agent", parley.CustomerUpdate{UserAgent: ptr("curl/8")}},
		{"ip", parley.CustomerUpdate{IP: ptr("2001:db8::1")}},
		{"location replaced", parley.CustomerUpdate{Location: parley.Metadata{"country": "BE"}}},
		{"metadata replaced", parley.CustomerUpdate{Metadata: parley.Metadata{"lang": "fr", "n": 2.0}}},
		{"last seen", parley.CustomerUpdate{LastSeen: &seen}},
		{"nothing", parley.CustomerUpdate{}},
	}
	for _, tc := range cases {
		before, err := s.GetCustomer(ctx, c.ID)
		must(t, err, "GetCustomer")
		got, err := s.UpdateCustomer(ctx, c.ID, tc.up)
		if err != nil {
			t.Errorf("UpdateCustomer(%s): %v", tc.name, err)
			continue
		}
		want := *before
		tc.up.Apply(&want)
		roundTrip(t, "UpdateCustomer("+tc.name+") result", got, &want)
		stored, err := s.GetCustomer(ctx, c.ID)
		must(t, err, "GetCustomer")
		roundTrip(t, "GetCustomer after UpdateCustomer("+tc.name+")", stored, &want)
	}
	got, err := s.GetCustomer(ctx, other.ID)
	must(t, err, "GetCustomer(other)")
	roundTrip(t, "untouched customer", got, other)
}

func testCustomerUpdateInvalid(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := mustCustomer(t, s)
	for _, tc := range []struct {
		name string
		up   parley.CustomerUpdate
	}{
		{"bad email", parley.CustomerUpdate{Email: ptr("x@")}},
		{"NUL in name", parley.CustomerUpdate{Name: ptr("a\x00")}},
		{"long ip", parley.CustomerUpdate{IP: ptr(strings.Repeat("9", 65))}},
		{"huge metadata", parley.CustomerUpdate{Metadata: parley.Metadata{"x": strings.Repeat("y", parley.MaxMetadataBytes)}}},
		{"valid name with bad email", parley.CustomerUpdate{Name: ptr("Ok"), Email: ptr("bad")}},
	} {
		_, err := s.UpdateCustomer(ctx, c.ID, tc.up)
		wantCode(t, err, parley.EINVALID, "UpdateCustomer("+tc.name+")")
		got, err := s.GetCustomer(ctx, c.ID)
		must(t, err, "GetCustomer")
		roundTrip(t, "customer after rejected UpdateCustomer("+tc.name+")", got, c)
	}
}

func testCustomerList(t *testing.T, s parley.Store) {
	ctx := t.Context()
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	want := map[string]*parley.Customer{}
	// 23 customers, several sharing a FirstSeen so ties must be broken
	// consistently across page boundaries.
	for i := range 23 {
		c := newCustomer()
		c.FirstSeen = base.Add(time.Duration(i/3) * time.Minute)
		c.LastSeen = c.FirstSeen
		must(t, s.CreateCustomer(ctx, c), "CreateCustomer")
		want[c.ID] = c
	}
	for _, limit := range []int{1, 3, 5, 23, 0} {
		seen := map[string]bool{}
		var prev *parley.Customer
		cursor := ""
		pages := 0
		for {
			page, err := s.ListCustomers(ctx, parley.CustomerFilter{Limit: limit, Cursor: cursor})
			if err != nil {
				t.Fatalf("ListCustomers(limit %d, page %d): %v", limit, pages+1, err)
			}
			pages++
			eff := limit
			if eff == 0 {
				eff = parley.DefaultPageSize
			}
			if len(page.Customers) > eff {
				t.Fatalf("ListCustomers(limit %d) returned %d", limit, len(page.Customers))
			}
			for _, c := range page.Customers {
				if seen[c.ID] {
					t.Errorf("limit %d: customer %s appears twice", limit, c.ID)
				}
				seen[c.ID] = true
				if w, ok := want[c.ID]; ok {
					roundTrip(t, "ListCustomers item", c, w)
				} else {
					t.Errorf("limit %d: unknown customer %s", limit, c.ID)
				}
				if prev != nil && c.FirstSeen.After(prev.FirstSeen) {
					t.Errorf("limit %d: %s (first seen %s) after %s (first seen %s): want most recent first",
						limit, c.ID, c.FirstSeen, prev.ID, prev.FirstSeen)
				}
				prev = c
			}
			if page.NextCursor == "" {
				break
			}
			if len(page.Customers) == 0 {
				t.Fatalf("limit %d: empty page with a next cursor", limit)
			}
			if pages > 30 {
				t.Fatalf("limit %d: more than 30 pages for 23 rows", limit)
			}
			cursor = page.NextCursor
		}
		if len(seen) != len(want) {
			t.Errorf("limit %d: walked %d customers, want %d", limit, len(seen), len(want))
		}
	}
}

func testCustomerListByEmail(t *testing.T, s parley.Store) {
	ctx := t.Context()
	email := "shared" + unique() + "@example.org"
	var ids []string
	for range 3 {
		c := newCustomer()
		c.Email = email
		must(t, s.CreateCustomer(ctx, c), "CreateCustomer")
		ids = append(ids, c.ID)
	}
	mustCustomer(t, s)
	page, err := s.ListCustomers(ctx, parley.CustomerFilter{Email: email})
	must(t, err, "ListCustomers(email)")
	if len(page.Customers) != 3 {
		t.Fatalf("ListCustomers(email) returned %d, want 3", len(page.Customers))
	}
	for _, c := range page.Customers {
		if c.Email != email {
			t.Errorf("ListCustomers(email) returned a customer with email %q", c.Email)
		}
	}
	page, err = s.ListCustomers(ctx, parley.CustomerFilter{Email: "none@example.org"})
	must(t, err, "ListCustomers(unknown email)")
	if len(page.Customers) != 0 || page.NextCursor != "" {
		t.Errorf("ListCustomers(unknown email) = %d customers, cursor %q", len(page.Customers), page.NextCursor)
	}
}

func testCustomerListInvalid(t *testing.T, s parley.Store) {
	ctx := t.Context()
	for range 3 {
		mustCustomer(t, s)
	}
	for _, f := range []parley.CustomerFilter{
		{Limit: -1},
		{Limit: parley.MaxPageSize + 1},
		{Cursor: "garbage"},
		{Cursor: "!!!!"},
		{Cursor: "eyJ4IjoxfQ"},
		{Cursor: strings.Repeat("A", 64)},
	} {
		_, err := s.ListCustomers(ctx, f)
		wantCode(t, err, parley.EINVALID, "ListCustomers(limit "+itoa(f.Limit)+", cursor "+f.Cursor+")")
	}
	page, err := s.ListCustomers(ctx, parley.CustomerFilter{Limit: parley.MaxPageSize})
	must(t, err, "ListCustomers(max limit)")
	if len(page.Customers) != 3 {
		t.Errorf("ListCustomers(max limit) = %d, want 3", len(page.Customers))
	}
}

func testCustomerDelete(t *testing.T, s parley.Store) {
	ctx := t.Context()
	c := mustCustomer(t, s)
	keep := mustCustomer(t, s)
	must(t, s.DeleteCustomer(ctx, c.ID), "DeleteCustomer")
	_, err := s.GetCustomer(ctx, c.ID)
	wantCode(t, err, parley.ENOTFOUND, "GetCustomer(deleted)")
	_, err = s.GetCustomerByTokenHash(ctx, c.TokenHash)
	wantCode(t, err, parley.ENOTFOUND, "GetCustomerByTokenHash(deleted)")
	wantCode(t, s.DeleteCustomer(ctx, c.ID), parley.ENOTFOUND, "DeleteCustomer(again)")
	if _, err := s.GetCustomer(ctx, keep.ID); err != nil {
		t.Errorf("other customer gone: %v", err)
	}
}
