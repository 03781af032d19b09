package parley

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestParseClock(t *testing.T) {
	good := map[string]Clock{"00:00": 0, "09:05": 545, "23:59": 1439, "24:00": EndOfDay, "12:30": 750}
	for s, want := range good {
		got, err := ParseClock(s)
		if err != nil || got != want {
			t.Errorf("ParseClock(%q) = %d, %v; want %d", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("Clock(%d).String() = %q, want %q", got, got.String(), s)
		}
	}
	for _, s := range []string{"", "9:00", "09:0", "0900", "24:01", "25:00", "12:60", "ab:cd", "09:00 ", "-1:00", "09.00", "１２:００"} {
		if _, err := ParseClock(s); ErrorCode(err) != EINVALID {
			t.Errorf("ParseClock(%q) = %v, want invalid", s, err)
		}
	}
}

func TestValidateOrigin(t *testing.T) {
	valid := []string{
		"https://shop.example.com", "https://shop.example.com:8443", "https://example.com",
		"http://localhost", "http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:5173",
		"http://app.localhost:8080", "https://[2001:db8::1]", "https://203.0.113.9",
		"https://xn--bcher-kva.example", "https://a-b.c-d.example",
	}
	for _, o := range valid {
		if err := ValidateOrigin(o); err != nil {
			t.Errorf("ValidateOrigin(%q) = %v, want nil", o, err)
		}
	}
	invalid := []string{
		"", "shop.example.com", "https://", "https:///x", "https://shop.example.com/", "https://shop.example.com/path",
		"https://shop.example.com?x=1", "https://shop.example.com?", "https://shop.example.com#top",
		"http://shop.example.com", "http://10.0.0.1", "javascript:alert(1)", "JavaScript:alert(1)",
		"data:text/html,hi", "ftp://files.example.com", "wss://shop.example.com",
		"https://user:pw@shop.example.com", "https://user@shop.example.com", "https://*.example.com",
		"https://Shop.Example.com", "HTTPS://shop.example.com", "https://shop.example.com:0",
		"https://shop.example.com:65536", "https://shop.example.com:", "https://shop.example.com:08",
		"https://shop.example.com:https", "https://-shop.example.com", "https://shop-.example.com",
		"https://shop_1.example.com", "https://shop..example.com", "https://shop.example.com.",
		"https://shop.example.com 'unsafe-inline'", "https://shop.example.com;script-src *",
		"https://[fe80::1%25eth0]", "https://::1", "https://" + strings.Repeat("a", 64) + ".example.com",
		"https://" + strings.Repeat("a.", 150) + "com", " https://shop.example.com", "https://shop.example.com\n",
	}
	for _, o := range invalid {
		if err := ValidateOrigin(o); ErrorCode(err) != EINVALID {
			t.Errorf("ValidateOrigin(%q) = %v, want invalid", o, err)
		}
	}
}

func hours(tz string, days map[time.Weekday][]string) *BusinessHours {
	h := &BusinessHours{TimeZone: tz}
	for d, rs := range days {
		for _, r := range rs {
			from, to, _ := strings.Cut(r, "-")
			f, err1 := ParseClock(from)
			tt, err2 := ParseClock(to)
			if err1 != nil || err2 != nil {
				panic("bad range " + r)
			}
			h.Days[d] = append(h.Days[d], TimeRange{From: f, To: tt})
		}
	}
	return h
}

func TestSettingsValidate(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	tests := []struct {
		name   string
		change func(s *Settings)
		ok     bool
	}{
		{"unicode title", func(s *Settings) { s.Widget.Title = "Écrivez-nous 💬" }, true},
		{"empty title", func(s *Settings) { s.Widget.Title = "" }, false},
		{"blank title", func(s *Settings) { s.Widget.Title = "   " }, false},
		{"two-line title", func(s *Settings) { s.Widget.Title = "a\nb" }, false},
		{"long title", func(s *Settings) { s.Widget.Title = strings.Repeat("é", MaxWidgetTitleLen+1) }, false},
		{"title at the limit", func(s *Settings) { s.Widget.Title = strings.Repeat("é", MaxWidgetTitleLen) }, true},
		{"NUL in title", func(s *Settings) { s.Widget.Title = "a\x00b" }, false},
		{"bad UTF-8 greeting", func(s *Settings) { s.Widget.Greeting = "\xff" }, false},
		{"multi-line greeting", func(s *Settings) { s.Widget.Greeting = "Hi!\nHow can we help?" }, true},
		{"empty greeting", func(s *Settings) { s.Widget.Greeting = "" }, true},
		{"control character in greeting", func(s *Settings) { s.Widget.Greeting = "Hi\x1b[31m" }, false},
		{"long greeting", func(s *Settings) { s.Widget.Greeting = strings.Repeat("x", MaxGreetingLen+1) }, false},
		{"short colour", func(s *Settings) { s.Widget.Color = "#fff" }, false},
		{"colour without #", func(s *Settings) { s.Widget.Color = "2563eb" }, false},
		{"upper-case colour", func(s *Settings) { s.Widget.Color = "#2563EB" }, false},
		{"named colour", func(s *Settings) { s.Widget.Color = "red" }, false},
		{"colour with alpha", func(s *Settings) { s.Widget.Color = "#2563eb80" }, false},
		{"colour injection", func(s *Settings) { s.Widget.Color = "#fff;}" }, false},
		{"black", func(s *Settings) { s.Widget.Color = "#000000" }, true},
		{"left", func(s *Settings) { s.Widget.Position = PositionLeft }, true},
		{"top", func(s *Settings) { s.Widget.Position = "top" }, false},
		{"no position", func(s *Settings) { s.Widget.Position = "" }, false},
		{"pre-chat required", func(s *Settings) { s.Widget.PreChatForm = PreChatRequired }, true},
		{"pre-chat maybe", func(s *Settings) { s.Widget.PreChatForm = "maybe" }, false},
		{"origins", func(s *Settings) { s.AllowedOrigins = []string{"https://a.example", "http://localhost:3000"} }, true},
		{"bad origin", func(s *Settings) { s.AllowedOrigins = []string{"https://a.example", "javascript:x"} }, false},
		{"repeated origin", func(s *Settings) { s.AllowedOrigins = []string{"https://a.example", "https://a.example"} }, false},
		{"too many origins", func(s *Settings) {
			for i := 0; i <= MaxAllowedOrigins; i++ {
				s.AllowedOrigins = append(s.AllowedOrigins, "https://a"+strings.Repeat("b", i)+".example")
			}
		}, false},
		{"offline message", func(s *Settings) { s.OfflineMessage = "We're away.\nLeave your email." }, true},
		{"long offline message", func(s *Settings) { s.OfflineMessage = strings.Repeat("x", MaxOfflineMessageLen+1) }, false},
		{"hours", func(s *Settings) {
			s.BusinessHours = hours("Europe/Paris", map[time.Weekday][]string{time.Monday: {"09:00-17:00"}})
		}, true},
		{"bad hours", func(s *Settings) { s.BusinessHours = hours("Mars/Olympus", nil) }, false},
		{"bad updater", func(s *Settings) { s.UpdatedBy = "admin" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			tt.change(s)
			err := s.Validate()
			if tt.ok && err != nil {
				t.Errorf("Validate = %v, want nil", err)
			}
			if !tt.ok && ErrorCode(err) != EINVALID {
				t.Errorf("Validate = %v, want invalid", err)
			}
		})
	}
}

func TestBusinessHoursValidate(t *testing.T) {
	D := func(d time.Weekday, rs ...string) map[time.Weekday][]string { return map[time.Weekday][]string{d: rs} }
	tests := []struct {
		name string
		h    *BusinessHours
		ok   bool
	}{
		{"weekdays", hours("Europe/Paris", map[time.Weekday][]string{time.Monday: {"09:00-12:00", "13:00-17:00"}, time.Friday: {"09:00-12:00"}}), true},
		{"no ranges", hours("UTC", nil), true},
		{"touching ranges", hours("UTC", D(time.Monday, "09:00-12:00", "12:00-17:00")), true},
		{"whole day", hours("UTC", D(time.Monday, "00:00-24:00")), true},
		{"to midnight as 00:00", hours("UTC", D(time.Monday, "18:00-00:00")), true},
		{"past midnight", hours("Asia/Tokyo", D(time.Friday, "22:00-02:00")), true},
		{"whole week", hours("UTC", map[time.Weekday][]string{0: {"00:00-24:00"}, 1: {"00:00-24:00"}, 2: {"00:00-24:00"},
			3: {"00:00-24:00"}, 4: {"00:00-24:00"}, 5: {"00:00-24:00"}, 6: {"00:00-24:00"}}), true},
		{"night shifts touching", hours("UTC", map[time.Weekday][]string{time.Monday: {"22:00-06:00"}, time.Tuesday: {"06:00-22:00"}}), true},
		{"saturday night into sunday", hours("UTC", map[time.Weekday][]string{time.Saturday: {"20:00-03:00"}, time.Sunday: {"03:00-05:00"}}), true},
		{"no time zone", hours("", D(time.Monday, "09:00-17:00")), false},
		{"unknown time zone", hours("Europe/Atlantis", nil), false},
		{"Local", hours("Local", nil), false},
		{"path as zone", hours("../../etc/passwd", nil), false},
		{"absolute path as zone", hours("/etc/localtime", nil), false},
		{"long zone", hours(strings.Repeat("A", MaxTimeZoneLen+1), nil), false},
		{"empty range", hours("UTC", D(time.Monday, "09:00-09:00")), false},
		{"overlap", hours("UTC", D(time.Monday, "09:00-12:00", "11:00-13:00")), false},
		{"contained", hours("UTC", D(time.Monday, "09:00-17:00", "10:00-11:00")), false},
		{"repeated", hours("UTC", D(time.Monday, "09:00-17:00", "09:00-17:00")), false},
		{"overlap past midnight", hours("UTC", map[time.Weekday][]string{time.Monday: {"22:00-02:00"}, time.Tuesday: {"01:00-03:00"}}), false},
		{"overlap saturday into sunday", hours("UTC", map[time.Weekday][]string{time.Saturday: {"22:00-02:00"}, time.Sunday: {"01:00-05:00"}}), false},
		{"two night ranges overlap", hours("UTC", D(time.Monday, "20:00-02:00", "23:00-01:00")), false},
		{"sunday night over monday morning", hours("UTC", map[time.Weekday][]string{time.Sunday: {"22:00-09:00"}, time.Monday: {"08:00-10:00"}}), false},
		{"whole day plus one", hours("UTC", D(time.Monday, "00:00-24:00", "10:00-11:00")), false},
		{"too many ranges", hours("UTC", D(time.Monday, "01:00-02:00", "03:00-04:00", "05:00-06:00", "07:00-08:00", "09:00-10:00", "11:00-12:00", "13:00-14:00")), false},
		{"from 24:00", &BusinessHours{TimeZone: "UTC", Days: [7][]TimeRange{1: {{From: EndOfDay, To: 60}}}}, false},
		{"negative", &BusinessHours{TimeZone: "UTC", Days: [7][]TimeRange{1: {{From: -5, To: 60}}}}, false},
		{"past 24:00", &BusinessHours{TimeZone: "UTC", Days: [7][]TimeRange{1: {{From: 60, To: EndOfDay + 1}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.h.Validate()
			if tt.ok && err != nil {
				t.Errorf("Validate = %v, want nil", err)
			}
			if !tt.ok && ErrorCode(err) != EINVALID {
				t.Errorf("Validate = %v, want invalid", err)
			}
		})
	}
}

func utcTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestBusinessHoursOpenAndNext pins OpenAt and NextOpen at chosen instants,
// around daylight saving changes and ranges that cross midnight.
func TestBusinessHoursOpenAndNext(t *testing.T) {
	weekdays := func(tz, r string) *BusinessHours {
		m := map[time.Weekday][]string{}
		for d := time.Monday; d <= time.Friday; d++ {
			m[d] = []string{r}
		}
		return hours(tz, m)
	}
	paris := weekdays("Europe/Paris", "09:00-17:00")
	tests := []struct {
		name string
		h    *BusinessHours
		at   string // RFC 3339
		open bool
		next string // "" when it never opens
	}{
		{"Paris Monday morning", paris, "2025-03-24T08:00:00Z", true, "2025-03-25T08:00:00Z"}, // 09:00 CET
		{"Paris one minute before opening", paris, "2025-03-24T07:59:00Z", false, "2025-03-24T08:00:00Z"},
		{"Paris last second", paris, "2025-03-24T15:59:59Z", true, "2025-03-25T08:00:00Z"},
		{"Paris at closing", paris, "2025-03-24T16:00:00Z", false, "2025-03-25T08:00:00Z"},
		// The clocks go forward on Sunday 30 March: Monday opens at 07:00 UTC.
		{"Paris Friday evening before spring forward", paris, "2025-03-28T17:00:00Z", false, "2025-03-31T07:00:00Z"},
		{"Paris Monday after spring forward", paris, "2025-03-31T07:30:00Z", true, "2025-04-01T07:00:00Z"},
		// And back on Sunday 26 October: Monday opens at 08:00 UTC again.
		{"Paris Friday evening before fall back", paris, "2025-10-24T16:00:00Z", false, "2025-10-27T08:00:00Z"},
		{"Paris Monday 07:30 UTC after fall back", paris, "2025-10-27T07:30:00Z", false, "2025-10-27T08:00:00Z"},
		// An opening at 02:30 on the day 02:00-03:00 is skipped opens at the jump (03:00 CEST).
		{"opening in the spring-forward gap", hours("Europe/Paris", map[time.Weekday][]string{time.Sunday: {"02:30-04:00"}}),
			"2025-03-30T00:00:00Z", false, "2025-03-30T01:00:00Z"},
		{"open just after the jump", hours("Europe/Paris", map[time.Weekday][]string{time.Sunday: {"02:30-04:00"}}),
			"2025-03-30T01:00:00Z", true, "2025-04-06T00:30:00Z"},
		// A range wholly inside the gap never happens that day.
		{"range inside the New York gap", hours("America/New_York", map[time.Weekday][]string{time.Sunday: {"02:00-03:00"}}),
			"2025-03-09T06:00:00Z", false, "2025-03-16T06:00:00Z"},
		// 02:30 happens twice on 26 October: the first one opens...
		{"fall-back first occurrence", hours("Europe/Paris", map[time.Weekday][]string{time.Sunday: {"02:30-02:45"}}),
			"2025-10-26T00:00:00Z", false, "2025-10-26T00:30:00Z"},
		{"fall-back open first time", hours("Europe/Paris", map[time.Weekday][]string{time.Sunday: {"02:30-02:45"}}),
			"2025-10-26T00:40:00Z", true, "2025-10-26T01:30:00Z"},
		// ...and the wall clock reads 02:30 again an hour later.
		{"fall-back second occurrence", hours("Europe/Paris", map[time.Weekday][]string{time.Sunday: {"02:30-02:45"}}),
			"2025-10-26T00:50:00Z", false, "2025-10-26T01:30:00Z"},
		// Ranges past midnight: Friday 22:00 to Saturday 02:00 in Berlin (CEST, +2).
		{"Friday night before", hours("Europe/Berlin", map[time.Weekday][]string{time.Friday: {"22:00-02:00"}}),
			"2025-06-13T19:59:00Z", false, "2025-06-13T20:00:00Z"},
		{"Friday night at midnight", hours("Europe/Berlin", map[time.Weekday][]string{time.Friday: {"22:00-02:00"}}),
			"2025-06-13T22:00:00Z", true, "2025-06-20T20:00:00Z"},
		{"Saturday 01:59", hours("Europe/Berlin", map[time.Weekday][]string{time.Friday: {"22:00-02:00"}}),
			"2025-06-13T23:59:00Z", true, "2025-06-20T20:00:00Z"},
		{"Saturday 02:00", hours("Europe/Berlin", map[time.Weekday][]string{time.Friday: {"22:00-02:00"}}),
			"2025-06-14T00:00:00Z", false, "2025-06-20T20:00:00Z"},
		// Saturday night into Sunday morning wraps the week (Tokyo, +9, no DST).
		{"Sunday 02:59 Tokyo", hours("Asia/Tokyo", map[time.Weekday][]string{time.Saturday: {"20:00-03:00"}}),
			"2025-06-14T17:59:00Z", true, "2025-06-21T11:00:00Z"},
		{"Sunday 03:00 Tokyo", hours("Asia/Tokyo", map[time.Weekday][]string{time.Saturday: {"20:00-03:00"}}),
			"2025-06-14T18:00:00Z", false, "2025-06-21T11:00:00Z"},
		// "00:00" as an end means midnight, as "24:00" does.
		{"until 00:00", hours("UTC", map[time.Weekday][]string{time.Monday: {"18:00-00:00"}}),
			"2025-06-16T23:59:00Z", true, "2025-06-23T18:00:00Z"},
		{"after 00:00", hours("UTC", map[time.Weekday][]string{time.Monday: {"18:00-00:00"}}),
			"2025-06-17T00:00:00Z", false, "2025-06-23T18:00:00Z"},
		{"until 24:00", hours("UTC", map[time.Weekday][]string{time.Monday: {"18:00-24:00"}}),
			"2025-06-16T23:59:00Z", true, "2025-06-23T18:00:00Z"},
		// A night shift handing over to a day shift is one opening.
		{"shifts", hours("UTC", map[time.Weekday][]string{time.Monday: {"22:00-06:00"}, time.Tuesday: {"06:00-22:00"}}),
			"2025-06-17T05:59:00Z", true, "2025-06-23T22:00:00Z"},
		{"closed week", hours("UTC", nil), "2025-06-17T05:59:00Z", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.h.Validate(); err != nil {
				t.Fatalf("hours do not validate: %v", err)
			}
			at := utcTime(tt.at)
			if got := tt.h.OpenAt(at); got != tt.open {
				t.Errorf("OpenAt(%s) = %v, want %v", tt.at, got, tt.open)
			}
			next, ok := tt.h.NextOpen(at)
			switch {
			case tt.next == "" && ok:
				t.Errorf("NextOpen(%s) = %s, want never", tt.at, next.UTC().Format(time.RFC3339))
			case tt.next != "" && (!ok || !next.Equal(utcTime(tt.next))):
				t.Errorf("NextOpen(%s) = %s %v, want %s", tt.at, next.UTC().Format(time.RFC3339), ok, tt.next)
			}
			if ok && !tt.h.OpenAt(next) {
				t.Errorf("closed at NextOpen %s", next.UTC().Format(time.RFC3339))
			}
		})
	}
}

// TestNextOpenMatchesScan compares NextOpen with a minute-by-minute scan of
// OpenAt for random hours around daylight saving changes in zones that
// shift by an hour, by half an hour, and at midnight.
func TestNextOpenMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []struct {
		tz    string
		dates []string // days with a change
	}{
		{"Europe/Paris", []string{"2025-03-30", "2025-10-26"}},
		{"America/New_York", []string{"2025-03-09", "2025-11-02"}},
		{"Australia/Lord_Howe", []string{"2025-04-06", "2025-10-05"}},
		{"America/Santiago", []string{"2025-04-06", "2025-09-07"}},
		{"Asia/Kolkata", []string{"2025-06-01"}},
	}
	cases := 0
	for _, z := range zones {
		loc, err := time.LoadLocation(z.tz)
		if err != nil {
			t.Fatal(err)
		}
		for _, date := range z.dates {
			day, _ := time.ParseInLocation("2006-01-02", date, loc)
			for i := 0; i < 12; i++ {
				h := &BusinessHours{TimeZone: z.tz}
				for d := range h.Days {
					if r.IntN(3) == 0 {
						continue
					}
					from := Clock(r.IntN(24*4)) * 15
					to := Clock(r.IntN(24*4+1)) * 15
					if from == to {
						continue
					}
					h.Days[d] = []TimeRange{{From: from, To: to}}
				}
				if h.Validate() != nil {
					continue // a random night range may overlap the next day's
				}
				for j := 0; j < 8; j++ {
					at := day.Add(time.Duration(r.IntN(3*24*60)-36*60) * time.Minute).Add(time.Duration(r.IntN(60)) * time.Second)
					cases++
					want, wantOK := scanNextOpen(h, loc, at)
					got, ok := h.NextOpen(at)
					if ok != wantOK || (ok && !got.Equal(want)) {
						t.Fatalf("%s %v at %s: NextOpen = %s %v, scan = %s %v", z.tz, h.Days, at.UTC(), got.UTC(), ok, want.UTC(), wantOK)
					}
					if h.OpenAt(at) != h.openLocal(at.In(loc)) {
						t.Fatal("OpenAt and openLocal differ")
					}
				}
			}
		}
	}
	if cases < 200 {
		t.Fatalf("only %d cases ran", cases)
	}
}

// scanNextOpen finds the first whole minute after at, within nine days,
// at which h is open and was closed the minute before. Zone changes fall on
// whole minutes, so openness changes only there.
func scanNextOpen(h *BusinessHours, loc *time.Location, at time.Time) (time.Time, bool) {
	m := at.Truncate(time.Minute).Add(time.Minute)
	for end := at.Add(9 * 24 * time.Hour); m.Before(end); m = m.Add(time.Minute) {
		if h.openLocal(m.In(loc)) && !h.openLocal(m.Add(-time.Minute).In(loc)) {
			return m, true
		}
	}
	return time.Time{}, false
}

func TestSettingsUpdateApply(t *testing.T) {
	s := DefaultSettings()
	origins := []string{"https://Shop.Example.com", "https://shop.example.com", "http://localhost:3000"}
	h := hours("Europe/Paris", map[time.Weekday][]string{time.Monday: {"13:00-17:00", "09:00-12:00"}})
	SettingsUpdate{Color: ptrTo("#AABBCC"), AllowedOrigins: &origins, BusinessHours: h, UpdatedBy: NewID()}.Apply(s)
	if s.Widget.Color != "#aabbcc" {
		t.Errorf("colour %q not lower-cased", s.Widget.Color)
	}
	if len(s.AllowedOrigins) != 2 || s.AllowedOrigins[0] != "https://shop.example.com" {
		t.Errorf("origins %q", s.AllowedOrigins)
	}
	if s.BusinessHours.Days[time.Monday][0].From != 9*60 {
		t.Errorf("ranges not sorted: %v", s.BusinessHours.Days[time.Monday])
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	h.Days[time.Monday][0].From = 0 // the settings hold a copy
	if s.BusinessHours.Days[time.Monday][0].From != 9*60 {
		t.Error("Apply kept a reference to the update's hours")
	}
	if s.Widget.Title != "Chat with us" {
		t.Errorf("untouched title changed: %q", s.Widget.Title)
	}
	SettingsUpdate{ClearBusinessHours: true, BusinessHours: h}.Apply(s)
	if s.BusinessHours != nil {
		t.Error("ClearBusinessHours did not clear")
	}
	empty := []string{}
	SettingsUpdate{AllowedOrigins: &empty}.Apply(s)
	if s.AllowedOrigins == nil || len(s.AllowedOrigins) != 0 {
		t.Errorf("origins not emptied: %#v", s.AllowedOrigins)
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestVisitorContextValidate(t *testing.T) {
	ok := VisitorContext{PageURL: "https://shop.example.com/pricing?plan=pro#faq", PageTitle: "Pricing — Shop",
		Referrer: "http://www.google.com/", Language: "fr-FR", TimeZone: "Europe/Paris"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("a good context: %v", err)
	}
	if err := (&VisitorContext{}).Validate(); err != nil {
		t.Fatalf("an empty context: %v", err)
	}
	for _, lang := range []string{"en", "zh-Hant-TW", "es-419", "sr-Latn-RS"} {
		if err := (&VisitorContext{Language: lang}).Validate(); err != nil {
			t.Errorf("language %q: %v", lang, err)
		}
	}
	bad := []struct {
		name string
		c    VisitorContext
	}{
		{"javascript page", VisitorContext{PageURL: "javascript:alert(1)"}},
		{"JavaScript referrer", VisitorContext{Referrer: "JaVaScRiPt:alert(document.cookie)"}},
		{"data URL", VisitorContext{PageURL: "data:text/html,<script>alert(1)</script>"}},
		{"file URL", VisitorContext{PageURL: "file:///etc/passwd"}},
		{"relative URL", VisitorContext{PageURL: "/pricing"}},
		{"no host", VisitorContext{PageURL: "https:///pricing"}},
		{"space", VisitorContext{PageURL: "https://shop.example.com/a b"}},
		{"leading space", VisitorContext{PageURL: " https://shop.example.com/"}},
		{"newline", VisitorContext{Referrer: "https://shop.example.com/\nX: y"}},
		{"long URL", VisitorContext{PageURL: "https://shop.example.com/" + strings.Repeat("a", MaxURLLen)}},
		{"long title", VisitorContext{PageTitle: strings.Repeat("t", MaxPageTitleLen+1)}},
		{"title with NUL", VisitorContext{PageTitle: "a\x00"}},
		{"title with newline", VisitorContext{PageTitle: "a\nb"}},
		{"language", VisitorContext{Language: "français"}},
		{"language digit first", VisitorContext{Language: "12-FR"}},
		{"language too long", VisitorContext{Language: "en-" + strings.Repeat("a-", 20)}},
		{"language empty subtag", VisitorContext{Language: "en--US"}},
		{"time zone", VisitorContext{TimeZone: "Mars/Olympus"}},
		{"time zone path", VisitorContext{TimeZone: "../../../etc/passwd"}},
		{"Local", VisitorContext{TimeZone: "Local"}},
	}
	for _, tt := range bad {
		if err := tt.c.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("%s: Validate = %v, want invalid", tt.name, err)
		}
	}
	m := Metadata{ContextKey: ok.Metadata(), "other": 1}
	got, found := ContextOf(m)
	if !found || got != ok {
		t.Errorf("ContextOf = %+v %v", got, found)
	}
	if _, found := ContextOf(Metadata{"other": 1}); found {
		t.Error("ContextOf found a context that is not there")
	}
}
