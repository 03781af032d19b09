package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

// The widget's public configuration, the settings agents edit, and the
// visitor's own profile.

// --- shapes ---

type timeRangeView struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type businessHoursView struct {
	TimeZone string                     `json:"timeZone"`
	Days     map[string][]timeRangeView `json:"days"`
}

func viewBusinessHours(h *parley.BusinessHours) *businessHoursView {
	if h == nil {
		return nil
	}
	v := &businessHoursView{TimeZone: h.TimeZone, Days: map[string][]timeRangeView{}}
	for d, rs := range h.Days {
		out := make([]timeRangeView, 0, len(rs))
		for _, r := range rs {
			out = append(out, timeRangeView{From: r.From.String(), To: r.To.String()})
		}
		v.Days[parley.DayNames[d]] = out
	}
	return v
}

type widgetLookView struct {
	Title       string                `json:"title"`
	Greeting    string                `json:"greeting"`
	Color       string                `json:"color"`
	Position    parley.WidgetPosition `json:"position"`
	PreChatForm parley.PreChatForm    `json:"preChatForm"`
}

type widgetConfigView struct {
	widgetLookView
	Online              bool               `json:"online"`
	AgentsOnline        bool               `json:"agentsOnline"`
	WithinBusinessHours bool               `json:"withinBusinessHours"`
	BusinessHours       *businessHoursView `json:"businessHours"`
	NextOpenAt          *time.Time         `json:"nextOpenAt"`
	OfflineMessage      string             `json:"offlineMessage"`
}

type settingsView struct {
	Widget         widgetLookView     `json:"widget"`
	AllowedOrigins []string           `json:"allowedOrigins"`
	BusinessHours  *businessHoursView `json:"businessHours"`
	OfflineMessage string             `json:"offlineMessage"`
	Snippet        string             `json:"snippet"`
}

func viewLook(w parley.WidgetLook) widgetLookView {
	return widgetLookView{Title: w.Title, Greeting: w.Greeting, Color: w.Color, Position: w.Position, PreChatForm: w.PreChatForm}
}

func viewSettings(st *parley.Settings, snippet string) settingsView {
	origins := st.AllowedOrigins
	if origins == nil {
		origins = []string{}
	}
	return settingsView{Widget: viewLook(st.Widget), AllowedOrigins: origins,
		BusinessHours: viewBusinessHours(st.BusinessHours), OfflineMessage: st.OfflineMessage, Snippet: snippet}
}

type visitorView struct {
	VisitorID string    `json:"visitorId"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
}

func viewVisitor(c *parley.Customer) visitorView {
	return visitorView{VisitorID: c.ID, Name: c.Name, Email: c.Email, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen}
}

// --- GET /api/widget/config ---

func widgetConfig(s *Server, w http.ResponseWriter, r *http.Request, _ desk.Actor) error {
	if _, err := query(r); err != nil {
		return err
	}
	st, err := s.desk.WidgetStatus(r.Context(), time.Now())
	if err != nil {
		return err
	}
	// The loader on the embedding page may read it too: it is public and
	// carries no credentials, so any origin may.
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, widgetConfigView{
		widgetLookView: viewLook(st.Settings.Widget), Online: st.Online, AgentsOnline: st.AgentsOnline,
		WithinBusinessHours: st.WithinBusinessHours, BusinessHours: viewBusinessHours(st.Settings.BusinessHours),
		NextOpenAt: st.NextOpenAt, OfflineMessage: st.Settings.OfflineMessage,
	})
	return nil
}

// --- /api/settings ---

func getSettings(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if _, err := query(r); err != nil {
		return err
	}
	st, err := s.desk.Settings(r.Context(), a)
	if err != nil {
		return err
	}
	snippet, err := s.snippet(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSettings(st, snippet))
	return nil
}

// snippet is the tag a site pastes to embed the widget.
func (s *Server) snippet(r *http.Request) (string, error) {
	origin, err := s.publicOrigin(r)
	if err != nil {
		return "", err
	}
	return `<script src="` + origin + `/widget.js" async></script>`, nil
}

type widgetPatch struct {
	Title       *string                `json:"title"`
	Greeting    *string                `json:"greeting"`
	Color       *string                `json:"color"`
	Position    *parley.WidgetPosition `json:"position"`
	PreChatForm *parley.PreChatForm    `json:"preChatForm"`
}

type settingsPatch struct {
	Widget         *widgetPatch `json:"widget"`
	AllowedOrigins *[]string    `json:"allowedOrigins"`
	// BusinessHours is kept raw to tell null (no hours: always open) from
	// absent (unchanged).
	BusinessHours  json.RawMessage `json:"businessHours"`
	OfflineMessage *string         `json:"offlineMessage"`
	// Snippet is read only; a client that sends back what it read may
	// include it, and it is ignored.
	Snippet *string `json:"snippet"`
}

func updateSettings(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in settingsPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	// Known before anything is written, so the answer cannot fail after.
	snippet, err := s.snippet(r)
	if err != nil {
		return err
	}
	up := parley.SettingsUpdate{AllowedOrigins: in.AllowedOrigins, OfflineMessage: in.OfflineMessage}
	if in.Widget != nil {
		up.Title, up.Greeting, up.Color = in.Widget.Title, in.Widget.Greeting, in.Widget.Color
		up.Position, up.PreChatForm = in.Widget.Position, in.Widget.PreChatForm
	}
	if in.AllowedOrigins != nil {
		for _, o := range *in.AllowedOrigins {
			if o != strings.TrimSpace(o) {
				return parley.Errorf(parley.EINVALID, "allowed origin %q has spaces around it.", strings.TrimSpace(o))
			}
		}
	}
	if in.BusinessHours != nil {
		if string(bytes.TrimSpace(in.BusinessHours)) == "null" {
			up.ClearBusinessHours = true
		} else {
			h, err := decodeBusinessHours(in.BusinessHours)
			if err != nil {
				return err
			}
			up.BusinessHours = h
		}
	}
	st, err := s.desk.UpdateSettings(r.Context(), a, up)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSettings(st, snippet))
	return nil
}

// decodeBusinessHours reads {"timeZone", "days": {"mon": [{"from","to"}]}}
// strictly; days left out are closed.
func decodeBusinessHours(raw json.RawMessage) (*parley.BusinessHours, error) {
	var in struct {
		TimeZone *string                    `json:"timeZone"`
		Days     map[string][]timeRangeView `json:"days"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return nil, parley.Errorf(parley.EINVALID, "businessHours.%s must be %s.", ute.Field, jsonKind(ute.Type.Kind().String()))
		}
		if errors.As(err, &ute) {
			return nil, parley.Errorf(parley.EINVALID, "businessHours must be an object or null.")
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, parley.Errorf(parley.EINVALID, "Unknown field businessHours.%s.", strings.Trim(f, `"`))
		}
		return nil, parley.Errorf(parley.EINVALID, "businessHours is not valid.")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, parley.Errorf(parley.EINVALID, "businessHours is not valid.")
	}
	if in.TimeZone == nil {
		return nil, parley.Errorf(parley.EINVALID, "businessHours.timeZone is required.")
	}
	h := &parley.BusinessHours{TimeZone: *in.TimeZone}
	keys := make([]string, 0, len(in.Days))
	for k := range in.Days {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first bad key is the same on every call
	for _, k := range keys {
		d := -1
		for i, n := range parley.DayNames {
			if n == k {
				d = i
			}
		}
		if d < 0 {
			return nil, parley.Errorf(parley.EINVALID, "businessHours.days has %q; days are mon, tue, wed, thu, fri, sat, sun.", clipQuote(k))
		}
		if len(in.Days[k]) > parley.MaxRangesPerDay {
			return nil, parley.Errorf(parley.EINVALID, "businessHours.days.%s has more than %d ranges.", k, parley.MaxRangesPerDay)
		}
		for i, rv := range in.Days[k] {
			from, err1 := parley.ParseClock(rv.From)
			to, err2 := parley.ParseClock(rv.To)
			if err1 != nil || err2 != nil {
				return nil, parley.Errorf(parley.EINVALID, "businessHours.days.%s[%d]: from and to must be HH:MM, from 00:00 to 24:00.", k, i)
			}
			h.Days[d] = append(h.Days[d], parley.TimeRange{From: from, To: to})
		}
	}
	return h, nil
}

func clipQuote(s string) string {
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return strings.ToValidUTF8(s, "")
}

// publicOrigin is the scheme and host visitors' browsers reach this server
// at: PARLEY_PUBLIC_URL when set, else the request's own Host (or, from a
// trusted proxy, its X-Forwarded-Host) and scheme.
func (s *Server) publicOrigin(r *http.Request) (string, error) {
	if s.publicURL != "" {
		return s.publicURL, nil
	}
	scheme := "http"
	if s.overTLS(r) {
		scheme = "https"
	}
	host := r.Host
	if s.trusted(remoteAddr(r)) {
		if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
			// The entry our proxy appended is the last one.
			parts := strings.Split(fh, ",")
			host = strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host = strings.ToLower(host)
	// The host goes into a tag to paste: accept only a host[:port].
	if host == "" || parley.ValidateOrigin("https://"+host) != nil {
		return "", parley.Errorf(parley.EINVALID, "The request's host is not a host name; set PARLEY_PUBLIC_URL.")
	}
	return scheme + "://" + host, nil
}

// --- the /widget page's frame-ancestors ---

// widgetFrames serves ui, adding to the widget's page a
// Content-Security-Policy that lets only the allowed origins frame it. The
// page adds its own policy beside it (web.Handler); a browser applies both.
func (s *Server) widgetFrames(ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if path.Clean(r.URL.Path) == "/widget" {
			w.Header().Add("Content-Security-Policy", s.frameAncestors(r.Context()))
		}
		ui.ServeHTTP(w, r)
	})
}

// frameAncestors builds the policy: 'self' and each allowed origin, or any
// site while the list is empty (a fresh install embeds anywhere). When the
// settings cannot be read it allows only 'self'.
func (s *Server) frameAncestors(ctx context.Context) string {
	origins, err := s.desk.FrameAncestors(ctx)
	if err != nil {
		s.log.Warn("reading the allowed origins for the widget page", "err", err)
		return "frame-ancestors 'self'"
	}
	if len(origins) == 0 {
		return "frame-ancestors *"
	}
	return "frame-ancestors 'self' " + strings.Join(origins, " ")
}

// --- /api/visitors/me ---

func getVisitorMe(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if _, err := query(r); err != nil {
		return err
	}
	c, err := s.desk.Visitor(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewVisitor(c))
	return nil
}

type contextBody struct {
	PageURL   string `json:"pageUrl"`
	PageTitle string `json:"pageTitle"`
	Referrer  string `json:"referrer"`
	Language  string `json:"language"`
	TimeZone  string `json:"timeZone"`
}

type visitorPatch struct {
	Name    *string      `json:"name"`
	Email   *string      `json:"email"`
	Context *contextBody `json:"context"`
}

func updateVisitorMe(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in visitorPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	ch := desk.VisitorChange{Name: in.Name, Email: in.Email, IP: s.clientIP(r).String(), UserAgent: r.UserAgent()}
	if c := in.Context; c != nil {
		ch.Context = &parley.VisitorContext{PageURL: c.PageURL, PageTitle: c.PageTitle, Referrer: c.Referrer,
			Language: c.Language, TimeZone: c.TimeZone}
	}
	c, err := s.desk.UpdateVisitor(r.Context(), a, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewVisitor(c))
	return nil
}
