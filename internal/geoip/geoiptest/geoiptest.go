// Package geoiptest writes small MMDB files for tests, with
// github.com/maxmind/mmdbwriter, in the layouts internal/geoip reads.
package geoiptest

import (
	"net"
	"os"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Layout is how a database stores the country of a network.
type Layout int

const (
	// MaxMind is country.iso_code and country.names (GeoLite2-Country, DB-IP).
	MaxMind Layout = iota
	// Flat is a top-level country_code (the ip-location-db databases).
	Flat
	// Registered is registered_country only, as MaxMind stores some
	// anycast and satellite networks.
	Registered
)

// Entry is one network of a test database.
type Entry struct {
	Network string // CIDR
	Code    string // ISO 3166-1 alpha-2
	Name    string // English name; MaxMind layouts only, "" for none
}

// Write writes an IPv6 database (which also answers IPv4 addresses) holding
// entries at path, and fails tb on any error.
func Write(tb testing.TB, path string, layout Layout, entries ...Entry) {
	tb.Helper()
	dbType := map[Layout]string{MaxMind: "GeoLite2-Country", Flat: "geo-whois-asn-country", Registered: "GeoLite2-Country"}[layout]
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24,
		IncludeReservedNetworks: true, Languages: []string{"en"}})
	if err != nil {
		tb.Fatalf("mmdbwriter.New: %v", err)
	}
	for _, e := range entries {
		_, network, err := net.ParseCIDR(e.Network)
		if err != nil {
			tb.Fatalf("network %q: %v", e.Network, err)
		}
		var v mmdbtype.Map
		switch layout {
		case Flat:
			v = mmdbtype.Map{"country_code": mmdbtype.String(e.Code)}
		default:
			c := mmdbtype.Map{"iso_code": mmdbtype.String(e.Code), "geoname_id": mmdbtype.Uint32(1)}
			if e.Name != "" {
				c["names"] = mmdbtype.Map{"en": mmdbtype.String(e.Name), "de": mmdbtype.String("(de) " + e.Name)}
			}
			key := mmdbtype.String("country")
			if layout == Registered {
				key = "registered_country"
			}
			v = mmdbtype.Map{key: c, "continent": mmdbtype.Map{"code": mmdbtype.String("EU")}}
		}
		if err := tree.Insert(network, v); err != nil {
			tb.Fatalf("inserting %s: %v", e.Network, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		tb.Fatalf("writing %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}
