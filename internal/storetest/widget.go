package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

var widgetTests = []test{
	{"SettingsDefaults", testSettingsDefaults},
	{"SettingsRoundTrip", testSettingsRoundTrip},
	{"SettingsPartialUpdates", testSettingsPartialUpdates},
	{"SettingsInvalidWritesNothing", testSettingsInvalid},
	{"SettingsUpdater", testSettingsUpdater},
	{"SettingsConcurrentUpdates", testSettingsConcurrent},
	{"InboxCarriesCustomer", testInboxCarriesCustomer},
}

// clockRange builds a TimeRange from "HH:MM-HH:MM".
func clockRange(t testing.TB, s string) parley.TimeRange {
	t.Helper()
	from, to, _ := strings.Cut(s, "-")
	f, err := parley.ParseClock(from)
	must(t, err, "ParseClock "+from)
	tt, err := parley.ParseClock(to)
	must(t, err, "ParseClock "+to)
	return parley.TimeRange{From: f, To: tt}
}

func testSettingsDefaults(t *testing.T, s parley.Store) {
	got, err := s.GetSettings(t.Context())
	must(t, err, "GetSettings")
	roundTrip(t, "fresh settings", got, parley.DefaultSettings())
	if !got.UpdatedAt.IsZero() || got.UpdatedBy != "" {
		t.Errorf("fresh settings claim an update: %s by %q", got.UpdatedAt, got.UpdatedBy)
	}
	// The defaults are a value each caller owns.
	got.Widget.Title = "changed"
	again, err := s.GetSettings(t.Context())
	must(t, err, "GetSettings")
	if again.Widget.Title != parley.DefaultSettings().Widget.Title {
		t.Errorf("changing a returned value changed the defaults: %q", again.Widget.Title)
	}
}

func testSettingsRoundTrip(t *testing.T, s parley.Store) {
	admin := mustUser(t, s, parley.RoleAdmin)
	hours := &parley.BusinessHours{TimeZone: "Europe/Paris"}
	hours.Days[time.Monday] = []parley.TimeRange{clockRange(t, "09:00-12:30"), clockRange(t, "13:30-18:00")}
	hours.Days[time.Friday] = []parley.TimeRange{clockRange(t, "22:00-02:00")}
	hours.Days[time.Saturday] = []parley.TimeRange{clockRange(t, "20:00-00:00")}
	hours.Days[time.Sunday] = []parley.TimeRange{clockRange(t, "10:00-24:00")}
	origins := []string{"https://shop.example.com", "http://localhost:3000", "https://[2001:db8::1]:8443"}
	up := parley.SettingsUpdate{
		Title: ptr("Écrivez-nous 💬"), Greeting: ptr("Bonjour !\nQue pouvons-nous faire ?"), Color: ptr("#0F766E"),
		Position: ptr(parley.PositionLeft), PreChatForm: ptr(parley.PreChatRequired),
		AllowedOrigins: &origins, BusinessHours: hours, OfflineMessage: ptr("Laissez votre e-mail, nous répondrons."),
		UpdatedBy: admin.ID,
	}
	start := time.Now()
	got, err := s.UpdateSettings(t.Context(), up)
	must(t, err, "UpdateSettings")
	checkFresh(t, "UpdatedAt", got.UpdatedAt, start)
	want := &parley.Settings{
		Widget: parley.WidgetLook{Title: "Écrivez-nous 💬", Greeting: "Bonjour !\nQue pouvons-nous faire ?",
			Color: "#0f766e", Position: parley.PositionLeft, PreChatForm: parley.PreChatRequired},
		AllowedOrigins: origins, BusinessHours: hours, OfflineMessage: "Laissez votre e-mail, nous répondrons.",
		UpdatedAt: got.UpdatedAt, UpdatedBy: admin.ID,
	}
	roundTrip(t, "UpdateSettings result", got, want)
	read, err := s.GetSettings(t.Context())
	must(t, err, "GetSettings")
	roundTrip(t, "GetSettings after update", read, want)
	if !read.BusinessHours.Equal(hours) {
		t.Errorf("hours read back as %+v, want %+v", read.BusinessHours, hours)
	}
	if strings.Join(read.AllowedOrigins, " ") != strings.Join(origins, " ") {
		t.Errorf("origins lost their order: %q", read.AllowedOrigins)
	}
}

func testSettingsPartialUpdates(t *testing.T, s parley.Store) {
	ctx := t.Context()
	_, err := s.UpdateSettings(ctx, parley.SettingsUpdate{Title: ptr("Help")})
	must(t, err, "UpdateSettings title")
	got, err := s.UpdateSettings(ctx, parley.SettingsUpdate{Color: ptr("#ff0000")})
	must(t, err, "UpdateSettings color")
	if got.Widget.Title != "Help" || got.Widget.Color != "#ff0000" || got.Widget.Greeting != parley.DefaultSettings().Widget.Greeting {
		t.Errorf("partial updates: %+v", got.Widget)
	}
	hours := &parley.BusinessHours{TimeZone: "America/New_York"}
	hours.Days[time.Tuesday] = []parley.TimeRange{clockRange(t, "08:00-16:00")}
	origins := []string{"https://a.example"}
	_, err = s.UpdateSettings(ctx, parley.SettingsUpdate{BusinessHours: hours, AllowedOrigins: &origins})
	must(t, err, "UpdateSettings hours")
	got, err = s.UpdateSettings(ctx, parley.SettingsUpdate{OfflineMessage: ptr("Back soon")})
	must(t, err, "UpdateSettings offline message")
	if !got.BusinessHours.Equal(hours) || len(got.AllowedOrigins) != 1 || got.Widget.Title != "Help" {
		t.Errorf("an update lost other fields: %+v", got)
	}
	empty := []string{}
	_, err = s.UpdateSettings(ctx, parley.SettingsUpdate{ClearBusinessHours: true, AllowedOrigins: &empty})
	must(t, err, "UpdateSettings clear")
	read, err := s.GetSettings(ctx)
	must(t, err, "GetSettings")
	if read.BusinessHours != nil || len(read.AllowedOrigins) != 0 || read.OfflineMessage != "Back soon" {
		t.Errorf("after clearing: hours %+v, origins %q, offline %q", read.BusinessHours, read.AllowedOrigins, read.OfflineMessage)
	}
	// Closed every day is a setting of its own, not the same as no hours.
	_, err = s.UpdateSettings(ctx, parley.SettingsUpdate{BusinessHours: &parley.BusinessHours{TimeZone: "UTC"}})
	must(t, err, "UpdateSettings closed week")
	read, err = s.GetSettings(ctx)
	must(t, err, "GetSettings")
	if read.BusinessHours == nil || !read.BusinessHours.Empty() || read.BusinessHours.TimeZone != "UTC" {
		t.Errorf("a closed week read back as %+v", read.BusinessHours)
	}
}

func testSettingsInvalid(t *testing.T, s parley.Store) {
	ctx := t.Context()
	overlap := &parley.BusinessHours{TimeZone: "UTC"}
	overlap.Days[time.Monday] = []parley.TimeRange{clockRange(t, "09:00-12:00"), clockRange(t, "11:00-13:00")}
	badZone := &parley.BusinessHours{TimeZone: "Europe/Atlantis"}
	badOrigins := []string{"https://ok.example", "javascript:alert(1)"}
	tooMany := make([]string, parley.MaxAllowedOrigins+1)
	for i := range tooMany {
		tooMany[i] = "https://site" + itoa(i) + ".example"
	}
	bad := []struct {
		name string
		up   parley.SettingsUpdate
	}{
		{"empty title", parley.SettingsUpdate{Title: ptr("")}},
		{"long title", parley.SettingsUpdate{Title: ptr(strings.Repeat("x", parley.MaxWidgetTitleLen+1))}},
		{"NUL in greeting", parley.SettingsUpdate{Greeting: ptr("hi\x00")}},
		{"bad colour", parley.SettingsUpdate{Color: ptr("#12345")}},
		{"colour name", parley.SettingsUpdate{Color: ptr("blue")}},
		{"bad position", parley.SettingsUpdate{Position: ptr(parley.WidgetPosition("middle"))}},
		{"bad pre-chat", parley.SettingsUpdate{PreChatForm: ptr(parley.PreChatForm("sometimes"))}},
		{"bad origin", parley.SettingsUpdate{AllowedOrigins: &badOrigins}},
		{"too many origins", parley.SettingsUpdate{AllowedOrigins: &tooMany}},
		{"overlapping hours", parley.SettingsUpdate{BusinessHours: overlap}},
		{"unknown time zone", parley.SettingsUpdate{BusinessHours: badZone}},
		{"long offline message", parley.SettingsUpdate{OfflineMessage: ptr(strings.Repeat("x", parley.MaxOfflineMessageLen+1))}},
		{"malformed updater", parley.SettingsUpdate{Title: ptr("x"), UpdatedBy: "admin"}},
	}
	for _, b := range bad {
		// A valid change alongside the bad one must not be written either.
		b.up.OfflineMessage = coalesce(b.up.OfflineMessage, ptr("should not be stored"))
		_, err := s.UpdateSettings(ctx, b.up)
		wantCode(t, err, parley.EINVALID, b.name)
	}
	got, err := s.GetSettings(ctx)
	must(t, err, "GetSettings")
	roundTrip(t, "settings after refused updates", got, parley.DefaultSettings())
	if !got.UpdatedAt.IsZero() {
		t.Errorf("a refused update created the settings (UpdatedAt %s)", got.UpdatedAt)
	}
	// Once saved, a refused update leaves the saved values alone.
	saved, err := s.UpdateSettings(ctx, parley.SettingsUpdate{Title: ptr("Saved")})
	must(t, err, "UpdateSettings")
	_, err = s.UpdateSettings(ctx, parley.SettingsUpdate{Title: ptr("New"), Color: ptr("red")})
	wantCode(t, err, parley.EINVALID, "bad colour after a save")
	got, err = s.GetSettings(ctx)
	must(t, err, "GetSettings")
	roundTrip(t, "settings after a refused update", got, saved)
}

func coalesce[T any](p, q *T) *T {
	if p != nil {
		return p
	}
	return q
}

func testSettingsUpdater(t *testing.T, s parley.Store) {
	ctx := t.Context()
	_, err := s.UpdateSettings(ctx, parley.SettingsUpdate{Title: ptr("By a ghost"), UpdatedBy: parley.NewID()})
	wantCode(t, err, parley.ENOTFOUND, "UpdateSettings by an unknown user")
	got, err := s.GetSettings(ctx)
	must(t, err, "GetSettings")
	if got.Widget.Title != parley.DefaultSettings().Widget.Title {
		t.Errorf("an update by an unknown user was written: %q", got.Widget.Title)
	}
	admin := mustUser(t, s, parley.RoleAdmin)
	saved, err := s.UpdateSettings(ctx, parley.SettingsUpdate{Title: ptr("By an admin"), UpdatedBy: admin.ID})
	must(t, err, "UpdateSettings")
	if saved.UpdatedBy != admin.ID {
		t.Errorf("UpdatedBy = %q, want %q", saved.UpdatedBy, admin.ID)
	}
	must(t, s.DeleteUser(ctx, admin.ID), "DeleteUser")
	got, err = s.GetSettings(ctx)
	must(t, err, "GetSettings")
	if got.UpdatedBy != "" || got.Widget.Title != "By an admin" {
		t.Errorf("after deleting the admin: title %q, updated by %q", got.Widget.Title, got.UpdatedBy)
	}
}

// testSettingsConcurrent changes a different field from each goroutine at
// once, starting from no saved settings: every change must survive.
func testSettingsConcurrent(t *testing.T, s parley.Store) {
	ctx := t.Context()
	hours := &parley.BusinessHours{TimeZone: "Asia/Tokyo"}
	hours.Days[time.Wednesday] = []parley.TimeRange{clockRange(t, "10:00-19:00")}
	origins := []string{"https://concurrent.example"}
	ups := []parley.SettingsUpdate{
		{Title: ptr("Concurrent")}, {Greeting: ptr("Hello there")}, {Color: ptr("#123456")},
		{Position: ptr(parley.PositionLeft)}, {PreChatForm: ptr(parley.PreChatOff)},
		{AllowedOrigins: &origins}, {BusinessHours: hours}, {OfflineMessage: ptr("Gone fishing")},
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ups))
	for _, up := range ups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateSettings(ctx, up)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err, "concurrent UpdateSettings")
	}
	got, err := s.GetSettings(ctx)
	must(t, err, "GetSettings")
	w := got.Widget
	if w.Title != "Concurrent" || w.Greeting != "Hello there" || w.Color != "#123456" || w.Position != parley.PositionLeft ||
		w.PreChatForm != parley.PreChatOff || len(got.AllowedOrigins) != 1 || !got.BusinessHours.Equal(hours) ||
		got.OfflineMessage != "Gone fishing" {
		t.Errorf("a concurrent update was lost: %+v", got)
	}
}

// testInboxCarriesCustomer: inbox rows hold the customer's current name and
// email, for every filter shape, read with the page.
func testInboxCarriesCustomer(t *testing.T, s parley.Store) {
	ctx := t.Context()
	agent := mustUser(t, s, parley.RoleAgent)
	other := mustUser(t, s, parley.RoleAgent)
	named := mustCustomer(t, s)
	anon := &parley.Customer{TokenHash: randomHash()}
	must(t, s.CreateCustomer(ctx, anon), "CreateCustomer")
	waiting := mustConversationFor(t, s, named.ID, parley.StatusWaiting, "")
	mine := mustConversationFor(t, s, anon.ID, parley.StatusActive, agent.ID)
	theirs := mustConversation(t, s, parley.StatusActive, other.ID)
	mustAppend(t, s, textMessage(waiting.ID, parley.SenderCustomer, named.ID, "my email is in my profile"))

	customers := map[string]*parley.Customer{named.ID: named, anon.ID: anon}
	th, err := s.GetCustomer(ctx, theirs.CustomerID)
	must(t, err, "GetCustomer")
	customers[th.ID] = th
	check := func(what string, f parley.InboxFilter, wantIDs ...string) {
		t.Helper()
		p, err := s.ListConversations(ctx, f)
		must(t, err, "ListConversations "+what)
		var got []string
		for _, e := range p.Entries {
			got = append(got, e.Conversation.ID)
			c := customers[e.Conversation.CustomerID]
			if e.CustomerName != c.Name || e.CustomerEmail != c.Email {
				t.Errorf("%s: row %s has customer %q <%s>, want %q <%s>", what, e.Conversation.ID,
					e.CustomerName, e.CustomerEmail, c.Name, c.Email)
			}
		}
		if strings.Join(got, ",") != strings.Join(wantIDs, ",") && len(wantIDs) > 0 {
			t.Errorf("%s: conversations %v, want %v", what, got, wantIDs)
		}
		if len(wantIDs) > 0 && p.Total != len(wantIDs) {
			t.Errorf("%s: total %d, want %d", what, p.Total, len(wantIDs))
		}
	}
	check("everything", parley.InboxFilter{Viewer: agent.ID})
	check("waiting", parley.InboxFilter{Statuses: []parley.Status{parley.StatusWaiting}}, waiting.ID)
	check("an agent's view", parley.InboxFilter{WaitingOrAssignedTo: agent.ID, Viewer: agent.ID})
	check("a customer's", parley.InboxFilter{CustomerID: anon.ID, Viewer: agent.ID}, mine.ID)
	check("a customer's within an agent's view", parley.InboxFilter{CustomerID: named.ID, WaitingOrAssignedTo: other.ID}, waiting.ID)
	check("assigned", parley.InboxFilter{AssigneeID: other.ID}, theirs.ID)

	// The visitor leaves an address later: the inbox shows it at once.
	up, err := s.UpdateCustomer(ctx, anon.ID, parley.CustomerUpdate{Name: ptr("Late Lee"), Email: ptr("Late@Example.org")})
	must(t, err, "UpdateCustomer")
	customers[anon.ID] = up
	check("after the customer left an address", parley.InboxFilter{AssigneeID: agent.ID}, mine.ID)
	if up.Email != "late@example.org" {
		t.Errorf("email stored as %q", up.Email)
	}

	// Paging keeps the customer on every row.
	for range 3 {
		c := mustCustomer(t, s)
		customers[c.ID] = c
		mustConversationFor(t, s, c.ID, parley.StatusWaiting, "")
	}
	cursor := ""
	seen := 0
	for page := 0; page < 10; page++ {
		p, err := s.ListConversations(ctx, parley.InboxFilter{Limit: 2, Cursor: cursor})
		must(t, err, "ListConversations page")
		for _, e := range p.Entries {
			seen++
			c := customers[e.Conversation.CustomerID]
			if e.CustomerName != c.Name || e.CustomerEmail != c.Email {
				t.Errorf("paged row %s: customer %q <%s>, want %q <%s>", e.Conversation.ID, e.CustomerName, e.CustomerEmail, c.Name, c.Email)
			}
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if seen != 6 {
		t.Errorf("paging saw %d rows, want 6", seen)
	}
}
