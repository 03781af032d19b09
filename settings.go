package parley

import (
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	// Business hours name IANA time zones; the embedded database makes
	// validation and the hours arithmetic the same on every machine, with or
	// without a system zoneinfo.
	_ "time/tzdata"
)

// WidgetPosition is the bottom corner of the page where the widget's
// launcher sits.
type WidgetPosition string

const (
	PositionRight WidgetPosition = "right"
	PositionLeft  WidgetPosition = "left"
)

// Valid reports whether p is left or right.
func (p WidgetPosition) Valid() bool { return p == PositionRight || p == PositionLeft }

// PreChatForm says whether the widget asks for the visitor's name and email
// before the chat starts.
type PreChatForm string

const (
	PreChatOff      PreChatForm = "off"
	PreChatOptional PreChatForm = "optional"
	PreChatRequired PreChatForm = "required"
)

// Valid reports whether f is off, optional or required.
func (f PreChatForm) Valid() bool {
	return f == PreChatOff || f == PreChatOptional || f == PreChatRequired
}

// WidgetLook is how the widget looks and greets visitors.
type WidgetLook struct {
	Title       string
	Greeting    string
	Color       string // #rrggbb, lower-case
	Position    WidgetPosition
	PreChatForm PreChatForm
}

// Settings are the server-wide settings an admin edits: the widget's look,
// the sites allowed to embed it, business hours and the message visitors
// read when nobody can answer.
type Settings struct {
	Widget WidgetLook
	// AllowedOrigins are the sites (https://host[:port], or http:// for
	// localhost) whose pages may frame the widget. Empty: any site may.
	AllowedOrigins []string
	// BusinessHours are when the team answers; nil means always.
	BusinessHours *BusinessHours
	// OfflineMessage is shown to visitors when no agent is online or it is
	// outside business hours; "" lets the widget use its own wording.
	OfflineMessage string
	UpdatedAt      time.Time // zero until the settings are first saved
	UpdatedBy      string    // the user who saved them last; "" when unknown
}

// Limits of settings fields.
const (
	MaxWidgetTitleLen    = 80
	MaxGreetingLen       = 500
	MaxOfflineMessageLen = 1000
	MaxAllowedOrigins    = 50
	MaxOriginLen         = 300
	MaxRangesPerDay      = 6
	MaxTimeZoneLen       = 64
)

// DefaultSettings returns the settings of a fresh install.
func DefaultSettings() *Settings {
	return &Settings{
		Widget: WidgetLook{
			Title:       "Chat with us",
			Greeting:    "Hi! How can we help?",
			Color:       "#2563eb",
			Position:    PositionRight,
			PreChatForm: PreChatOptional,
		},
		AllowedOrigins: []string{},
	}
}

// Validate checks the fields a store writes. It returns EINVALID.
func (s *Settings) Validate() error {
	const op = "Settings.Validate"
	w := s.Widget
	if err := checkLine(op, "widget title", w.Title, MaxWidgetTitleLen, true); err != nil {
		return err
	}
	if err := checkParagraphs(op, "widget greeting", w.Greeting, MaxGreetingLen); err != nil {
		return err
	}
	if !validColor(w.Color) {
		return &Error{Code: EINVALID, Op: op, Message: "widget color must be #rrggbb (six hexadecimal digits)"}
	}
	if !w.Position.Valid() {
		return &Error{Code: EINVALID, Op: op, Message: "widget position must be left or right"}
	}
	if !w.PreChatForm.Valid() {
		return &Error{Code: EINVALID, Op: op, Message: "widget preChatForm must be off, optional or required"}
	}
	if len(s.AllowedOrigins) > MaxAllowedOrigins {
		return &Error{Code: EINVALID, Op: op, Message: "at most " + strconv.Itoa(MaxAllowedOrigins) + " allowed origins"}
	}
	for i, o := range s.AllowedOrigins {
		if err := ValidateOrigin(o); err != nil {
			return err
		}
		if slices.Contains(s.AllowedOrigins[:i], o) {
			return &Error{Code: EINVALID, Op: op, Message: "allowed origin " + strconv.Quote(o) + " is listed twice"}
		}
	}
	if s.BusinessHours != nil {
		if err := s.BusinessHours.Validate(); err != nil {
			return err
		}
	}
	if err := checkParagraphs(op, "offline message", s.OfflineMessage, MaxOfflineMessageLen); err != nil {
		return err
	}
	return checkID(op, "updated by", s.UpdatedBy, false)
}

// checkLine is checkText for one line: no control characters at all.
func checkLine(op, field, v string, max int, required bool) error {
	if err := checkText(op, field, v, max, required); err != nil {
		return err
	}
	if required && strings.TrimSpace(v) == "" {
		return &Error{Code: EINVALID, Op: op, Message: field + " is required"}
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return &Error{Code: EINVALID, Op: op, Message: field + " must be one line without control characters"}
	}
	return nil
}

// checkParagraphs is checkText for text that may break lines but holds no
// other control characters.
func checkParagraphs(op, field, v string, max int) error {
	if err := checkText(op, field, v, max, false); err != nil {
		return err
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0 {
		return &Error{Code: EINVALID, Op: op, Message: field + " contains a control character"}
	}
	return nil
}

func validColor(c string) bool {
	if len(c) != 7 || c[0] != '#' {
		return false
	}
	for i := 1; i < 7; i++ {
		if !('0' <= c[i] && c[i] <= '9' || 'a' <= c[i] && c[i] <= 'f') {
			return false
		}
	}
	return true
}

// ValidateOrigin checks that o is a web origin a site can be served from:
// https://host[:port], or http://host[:port] for a local host (localhost,
// *.localhost, 127.0.0.1, [::1]), lower-case, with no path (not even "/"),
// query, fragment or credentials. Host names are DNS names or IP literals:
// no wildcards. It returns EINVALID.
func ValidateOrigin(o string) error {
	bad := func(why string) error {
		q := o
		if len(q) > 80 {
			q = q[:80] + "..."
		}
		return &Error{Code: EINVALID, Op: "ValidateOrigin", Message: "allowed origin " + strconv.Quote(q) + " " + why}
	}
	if len(o) > MaxOriginLen {
		return bad("is too long")
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return bad("must look like https://shop.example.com")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return bad("must start with https:// (or http:// for localhost)")
	}
	if u.Scheme+"://"+u.Host != o {
		return bad("must be scheme://host[:port] only, in lower case, with no path, query or trailing slash")
	}
	host, port := u.Hostname(), u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return bad("has an empty port")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return bad("has a bad port")
		}
	}
	local := false
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" || (a.Is6() && !strings.HasPrefix(u.Host, "[")) {
			return bad("has a bad IP address")
		}
		local = a.IsLoopback()
	} else {
		if strings.HasPrefix(u.Host, "[") || !validHostname(host) {
			return bad("has a bad host name")
		}
		local = host == "localhost" || strings.HasSuffix(host, ".localhost")
	}
	if u.Scheme == "http" && !local {
		return bad("must use https:// (http:// is only for localhost)")
	}
	return nil
}

// validHostname reports whether h is a lower-case DNS name: dot-separated
// labels of letters, digits and inner hyphens, each at most 63 characters.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// SettingsUpdate changes the non-nil fields of the settings.
type SettingsUpdate struct {
	Title          *string
	Greeting       *string
	Color          *string // lower-cased
	Position       *WidgetPosition
	PreChatForm    *PreChatForm
	AllowedOrigins *[]string // replaces the list (lower-cased; repeats dropped)
	// BusinessHours replaces the hours when non-nil; ClearBusinessHours
	// removes them (always open) and wins over BusinessHours.
	BusinessHours      *BusinessHours
	ClearBusinessHours bool
	OfflineMessage     *string
	UpdatedBy          string // the user making the change
}

// Apply copies the set fields of up into s, normalized: colours and origins
// lower-cased, repeated origins dropped, each day's ranges sorted.
func (up SettingsUpdate) Apply(s *Settings) {
	if up.Title != nil {
		s.Widget.Title = *up.Title
	}
	if up.Greeting != nil {
		s.Widget.Greeting = *up.Greeting
	}
	if up.Color != nil {
		s.Widget.Color = strings.ToLower(*up.Color)
	}
	if up.Position != nil {
		s.Widget.Position = *up.Position
	}
	if up.PreChatForm != nil {
		s.Widget.PreChatForm = *up.PreChatForm
	}
	if up.AllowedOrigins != nil {
		s.AllowedOrigins = []string{}
		for _, o := range *up.AllowedOrigins {
			o = strings.ToLower(o)
			if !slices.Contains(s.AllowedOrigins, o) {
				s.AllowedOrigins = append(s.AllowedOrigins, o)
			}
		}
	}
	switch {
	case up.ClearBusinessHours:
		s.BusinessHours = nil
	case up.BusinessHours != nil:
		h := up.BusinessHours.clone()
		for d := range h.Days {
			slices.SortStableFunc(h.Days[d], func(a, b TimeRange) int { return int(a.From - b.From) })
		}
		s.BusinessHours = h
	}
	if up.OfflineMessage != nil {
		s.OfflineMessage = *up.OfflineMessage
	}
	s.UpdatedBy = up.UpdatedBy
}

// Clock is a time of day in minutes after midnight: 0 (00:00) to 1440
// (24:00, which only ends a range).
type Clock int

// EndOfDay is 24:00.
const EndOfDay Clock = 24 * 60

// ParseClock reads "HH:MM" (00:00 to 24:00). EINVALID.
func ParseClock(s string) (Clock, error) {
	bad := &Error{Code: EINVALID, Op: "ParseClock", Message: "a time of day must be HH:MM, from 00:00 to 24:00"}
	if len(s) != 5 || s[2] != ':' {
		return 0, bad
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, bad
	}
	return Clock(h*60 + m), nil
}

// String formats c as HH:MM.
func (c Clock) String() string {
	h, m := int(c)/60, int(c)%60
	return string([]byte{byte('0' + h/10), byte('0' + h%10), ':', byte('0' + m/10), byte('0' + m%10)})
}

// TimeRange is an opening period within one day's hours. When To is not
// after From, the period runs past midnight and ends at To on the next day
// ("22:00"–"02:00"); "00:00" as To means until midnight, like "24:00".
type TimeRange struct {
	From Clock // 00:00 to 23:59
	To   Clock // 00:00 to 24:00; never equal to From
}

// spansMidnight reports whether r ends on the next day.
func (r TimeRange) spansMidnight() bool { return r.To <= r.From }

// BusinessHours are the weekly opening hours of the team, in wall-clock
// time of one time zone (so they follow its daylight saving changes).
type BusinessHours struct {
	TimeZone string         // an IANA name, e.g. Europe/Paris
	Days     [7][]TimeRange // indexed by time.Weekday: Sunday first
}

// DayNames are the keys of each weekday, indexed by time.Weekday.
var DayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Equal reports whether h and o are the same hours.
func (h *BusinessHours) Equal(o *BusinessHours) bool {
	if h == nil || o == nil {
		return h == o
	}
	if h.TimeZone != o.TimeZone {
		return false
	}
	for d := range h.Days {
		if !slices.Equal(h.Days[d], o.Days[d]) {
			return false
		}
	}
	return true
}

func (h *BusinessHours) clone() *BusinessHours {
	c := &BusinessHours{TimeZone: h.TimeZone}
	for d := range h.Days {
		c.Days[d] = slices.Clone(h.Days[d])
	}
	return c
}

// Validate checks the time zone and the ranges: each well formed, at most
// MaxRangesPerDay a day, and no two overlapping anywhere in the week
// (including across midnight and from Saturday into Sunday). EINVALID.
func (h *BusinessHours) Validate() error {
	const op = "BusinessHours.Validate"
	bad := func(msg string) error { return &Error{Code: EINVALID, Op: op, Message: "business hours " + msg} }
	if h.TimeZone == "" {
		return bad("need a time zone")
	}
	if len(h.TimeZone) > MaxTimeZoneLen || h.TimeZone == "Local" {
		return bad("time zone " + strconv.Quote(h.TimeZone) + " is not a known time zone")
	}
	if _, err := time.LoadLocation(h.TimeZone); err != nil {
		return bad("time zone " + strconv.Quote(h.TimeZone) + " is not a known time zone")
	}
	type span struct {
		start, end int
		day        int
	}
	const day, week = 24 * 60, 7 * 24 * 60
	var spans []span
	for d, rs := range h.Days {
		if len(rs) > MaxRangesPerDay {
			return bad("allow at most " + strconv.Itoa(MaxRangesPerDay) + " ranges a day (" + DayNames[d] + ")")
		}
		for _, r := range rs {
			if r.From < 0 || r.From >= EndOfDay || r.To < 0 || r.To > EndOfDay {
				return bad("on " + DayNames[d] + ": a time is outside 00:00 to 24:00")
			}
			if r.From == r.To {
				return bad("on " + DayNames[d] + ": " + r.From.String() + "–" + r.To.String() + " is empty (use 00:00–24:00 for a whole day)")
			}
			start := d*day + int(r.From)
			end := d*day + int(r.To)
			if r.spansMidnight() {
				end += day
			}
			if end > week { // Saturday night into Sunday morning
				spans = append(spans, span{start, week, d}, span{0, end - week, d})
			} else {
				spans = append(spans, span{start, end, d})
			}
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			a, b := DayNames[spans[i-1].day], DayNames[spans[i].day]
			if a == b {
				return bad("on " + a + " overlap")
			}
			return bad("on " + a + " and " + b + " overlap")
		}
	}
	return nil
}

// location returns the time zone of h, which must be valid.
func (h *BusinessHours) location() *time.Location {
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return time.UTC // unreachable for validated hours
	}
	return loc
}

// Empty reports whether h opens at no time of the week.
func (h *BusinessHours) Empty() bool {
	for _, rs := range h.Days {
		if len(rs) > 0 {
			return false
		}
	}
	return true
}

// OpenAt reports whether t falls within the hours. The time of day is read
// on the wall clock of the time zone, to the minute: a range 09:00–17:00
// includes 16:59:59 and excludes 17:00.
func (h *BusinessHours) OpenAt(t time.Time) bool { return h.openLocal(t.In(h.location())) }

func (h *BusinessHours) openLocal(local time.Time) bool {
	wd := local.Weekday()
	m := Clock(local.Hour()*60 + local.Minute())
	for _, r := range h.Days[wd] {
		if m >= r.From && (r.spansMidnight() || m < r.To) {
			return true
		}
	}
	for _, r := range h.Days[(wd+6)%7] { // yesterday's ranges running past midnight
		if r.spansMidnight() && m < r.To {
			return true
		}
	}
	return false
}

// NextOpen returns when the hours next open: the first instant after t at
// which they are open and were closed the minute before; false when they
// never open (or never close). Across daylight saving changes it follows the
// wall clock: an opening time that a spring-forward skips opens at the jump,
// and one that a fall-back repeats opens at each occurrence.
func (h *BusinessHours) NextOpen(t time.Time) (time.Time, bool) {
	if h.Empty() {
		return time.Time{}, false
	}
	loc := h.location()
	local := t.In(loc)
	y, mo, d := local.Date()
	// Openness changes only when the wall clock reaches a range's start, or
	// jumps at a zone transition: those are the candidates. Yesterday is
	// included for a start repeated by a fall-back; eight days ahead covers
	// the week whatever the time of day.
	var cands []time.Time
	for i := -1; i <= 8; i++ {
		noon := time.Date(y, mo, d+i, 12, 0, 0, 0, loc)
		for _, r := range h.Days[noon.Weekday()] {
			cands = append(cands, wallInstants(loc, noon.Year(), noon.Month(), noon.Day(), r.From)...)
		}
	}
	limit := t.Add(9 * 24 * time.Hour)
	for at := t; ; {
		_, end := at.In(loc).ZoneBounds()
		if end.IsZero() || end.After(limit) {
			break
		}
		cands = append(cands, end)
		at = end
	}
	var best time.Time
	for _, c := range cands {
		if c.After(t) && (best.IsZero() || c.Before(best)) && h.openLocal(c.In(loc)) &&
			!h.openLocal(c.Add(-time.Minute).In(loc)) {
			best = c
		}
	}
	return best, !best.IsZero()
}

// wallInstants returns the instants at which the wall clock of loc reads
// the given date and time: one usually, none in a spring-forward gap, two
// in a fall-back repeat.
func wallInstants(loc *time.Location, y int, mo time.Month, d int, c Clock) []time.Time {
	hh, mm := int(c)/60, int(c)%60
	naive := time.Date(y, mo, d, hh, mm, 0, 0, time.UTC)
	var offsets []int
	for _, probe := range []time.Time{naive.Add(-26 * time.Hour), naive, naive.Add(26 * time.Hour)} {
		if _, off := probe.In(loc).Zone(); !slices.Contains(offsets, off) {
			offsets = append(offsets, off)
		}
	}
	var out []time.Time
	for _, off := range offsets {
		at := naive.Add(-time.Duration(off) * time.Second)
		l := at.In(loc)
		if ly, lm, ld := l.Date(); ly == y && lm == mo && ld == d && l.Hour() == hh && l.Minute() == mm {
			out = append(out, at)
		}
	}
	return out
}
