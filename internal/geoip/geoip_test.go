package geoip_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/geoip"
	"github.com/parleychat/parley/internal/geoip/geoiptest"
)

func open(t *testing.T, layout geoiptest.Layout, entries ...geoiptest.Entry) *geoip.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "country.mmdb")
	geoiptest.Write(t, path, layout, entries...)
	db, err := geoip.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestCountry(t *testing.T) {
	entries := []geoiptest.Entry{
		{Network: "81.2.69.0/24", Code: "GB", Name: "United Kingdom"},
		{Network: "89.160.20.0/24", Code: "SE", Name: "Sweden"},
		{Network: "2a02:8420::/32", Code: "FR", Name: "France"},
		{Network: "175.16.199.0/24", Code: "CN"}, // no names in the file
		{Network: "10.0.0.0/8", Code: "ZZ"},      // not a country code
		{Network: "192.0.2.0/24", Code: "fr"},    // malformed code
	}
	type want struct {
		code, name string
		ok         bool
	}
	cases := map[string]want{
		"81.2.69.142":        {"GB", "United Kingdom", true},
		"89.160.20.112":      {"SE", "Sweden", true},
		"::ffff:81.2.69.160": {"GB", "United Kingdom", true},
		"2a02:8420:1234::1":  {"FR", "France", true},
		"175.16.199.1":       {"CN", "China", true},
		"8.8.8.8":            {"", "", false},
		"127.0.0.1":          {"", "", false},
		"::1":                {"", "", false},
		"10.1.2.3":           {"ZZ", "", true},
		"192.0.2.1":          {"", "", false},
		"2001:db8::1":        {"", "", false},
		"fe80::1%eth0":       {"", "", false},
		"2a02:8420::9%eth0":  {"FR", "France", true},
	}
	for _, tc := range []struct {
		name   string
		layout geoiptest.Layout
	}{{"maxmind", geoiptest.MaxMind}, {"registered country", geoiptest.Registered}, {"flat country_code", geoiptest.Flat}} {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t, tc.layout, entries...)
			for ip, w := range cases {
				a, err := netip.ParseAddr(ip)
				if err != nil {
					continue
				}
				if tc.layout == geoiptest.Flat && w.code != "" && w.code != "ZZ" {
					// The flat layout has no names: they come from the table.
					w.name = map[string]string{"GB": "United Kingdom", "SE": "Sweden", "FR": "France", "CN": "China"}[w.code]
				}
				code, name, ok := db.Country(a)
				if code != w.code || name != w.name || ok != w.ok {
					t.Errorf("Country(%s) = %q %q %v, want %q %q %v", ip, code, name, ok, w.code, w.name, w.ok)
				}
			}
			if _, _, ok := db.Country(netip.Addr{}); ok {
				t.Error("the zero address has a country")
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o600)
	empty := filepath.Join(dir, "empty.mmdb")
	os.WriteFile(empty, nil, 0o600)
	for _, path := range []string{filepath.Join(dir, "missing.mmdb"), garbage, empty, dir} {
		db, err := geoip.Open(path)
		if err == nil {
			db.Close()
			t.Errorf("Open(%s) succeeded", path)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("Open(%s): the error does not name the file: %v", path, err)
		}
	}
}

func TestType(t *testing.T) {
	if got := open(t, geoiptest.Flat).Type(); got != "geo-whois-asn-country" {
		t.Errorf("Type = %q", got)
	}
}

func BenchmarkCountry(b *testing.B) {
	path := filepath.Join(b.TempDir(), "country.mmdb")
	geoiptest.Write(b, path, geoiptest.MaxMind, geoiptest.Entry{Network: "81.2.69.0/24", Code: "GB", Name: "United Kingdom"})
	db, err := geoip.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ip := netip.MustParseAddr("81.2.69.142")
	for b.Loop() {
		db.Country(ip)
	}
}
