// Package geoip finds the country of an IP address in a MaxMind DB (MMDB)
// file, on github.com/oschwald/maxminddb-golang. It reads both layouts that
// free country databases use: MaxMind's (country.iso_code and
// country.names, falling back to registered_country), as in GeoLite2 and
// DB-IP Lite, and the flat country_code of the ip-location-db databases
// (such as the CC0 geo-whois-asn-country one), whose names come from a
// table of ISO 3166-1 short names.
package geoip

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// DB is an open MMDB file. It is safe for concurrent use.
type DB struct {
	r *maxminddb.Reader
}

// Open opens the MMDB file at path and checks that it is one. The error
// names the file.
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("GeoIP database %s: %w", path, err)
	}
	if r.Metadata.IPVersion != 4 && r.Metadata.IPVersion != 6 {
		r.Close()
		return nil, fmt.Errorf("GeoIP database %s: not an IP database (ip_version %d)", path, r.Metadata.IPVersion)
	}
	return &DB{r: r}, nil
}

// Type returns the database type its metadata names (e.g. GeoLite2-Country).
func (db *DB) Type() string { return db.r.Metadata.DatabaseType }

// Close releases the file.
func (db *DB) Close() error { return db.r.Close() }

type country struct {
	ISOCode string            `maxminddb:"iso_code"`
	Names   map[string]string `maxminddb:"names"`
}

// record holds the fields of both layouts; a database fills one of them.
type record struct {
	Country           country `maxminddb:"country"`
	RegisteredCountry country `maxminddb:"registered_country"`
	CountryCode       string  `maxminddb:"country_code"`
}

// Country returns the ISO 3166-1 alpha-2 code (upper case) and English name
// of the country ip is in, and false when the database does not know the
// address (private and loopback addresses, usually) or holds no valid code
// for it. The name is "" for a code the database does not name and the
// table does not know.
func (db *DB) Country(ip netip.Addr) (code, name string, ok bool) {
	if !ip.IsValid() {
		return "", "", false
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() && db.r.Metadata.IPVersion == 4 {
		return "", "", false
	}
	var rec record
	res := db.r.Lookup(ip)
	if !res.Found() {
		return "", "", false
	}
	if err := res.Decode(&rec); err != nil {
		return "", "", false
	}
	c := rec.Country
	if c.ISOCode == "" {
		c = rec.RegisteredCountry
	}
	if c.ISOCode == "" {
		c = country{ISOCode: rec.CountryCode}
	}
	code = c.ISOCode
	if !validCode(code) {
		return "", "", false
	}
	name = c.Names["en"]
	if name == "" {
		name = countryNames[code]
	}
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	return code, strings.ToValidUTF8(name, ""), true
}

// maxNameLen bounds a name read from the file.
const maxNameLen = 100

func validCode(c string) bool {
	return len(c) == 2 && 'A' <= c[0] && c[0] <= 'Z' && 'A' <= c[1] && c[1] <= 'Z'
}
