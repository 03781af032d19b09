package httpapi_test

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/parleychat/parley"
)

// The widget keeps its visitor's token in a partitioned cookie where a host
// site's frame gets no storage (web/src/widget/storage.ts). That cookie is
// the widget's memory, never a credential: the API answers as if it were not
// there, whatever it is named, and the token works only as a bearer header.
func TestWidgetCookieIsNoCredential(t *testing.T) {
	e := newEnv(t, openSQLite, envOptions{})
	cust, v := e.visitor()
	conv := e.conversation(cust, parley.StatusWaiting, "")
	stored, _ := json.Marshal(map[string]string{"parley.visitor": `{"visitorId":"` + cust.ID + `","token":"` + v.bearer + `"}`})
	for _, cookie := range []string{
		"parley_widget=" + url.QueryEscape(string(stored)),
		"parley_widget=" + v.bearer,
		"parley_session=" + v.bearer,
		"token=" + v.bearer,
	} {
		only := cred{headers: map[string]string{"Cookie": cookie}}
		for _, path := range []string{"/api/conversations", "/api/conversations/" + conv.ID, "/api/conversations/" + conv.ID + "/messages"} {
			if r := e.do("GET", path, only, nil); r.status != 401 {
				t.Errorf("GET %s with only the cookie %.30s…: %d %s, want 401", path, cookie, r.status, r.body)
			}
		}
		r := e.do("POST", "/api/conversations/"+conv.ID+"/messages", only, map[string]string{"content": "sent by a cookie"})
		if r.status != 401 {
			t.Errorf("POST a message with only the cookie %.30s…: %d %s, want 401", cookie, r.status, r.body)
		}
	}
	want(t, e.do("GET", "/api/conversations/"+conv.ID, v, nil), 200, "the same token as a bearer header")
}
