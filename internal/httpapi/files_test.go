package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/httpapi"
)

// TestUploadAndDownloadEachRole uploads as each caller who may, and
// downloads as every caller: those who see the conversation get the exact
// bytes, the others the 404 of a file that does not exist.
func TestUploadAndDownloadEachRole(t *testing.T) {
	eachBlobSetup(t, func(t *testing.T, s blobSetup) {
		e := newEnv(t, s.open, envOptions{blobs: s.blobs})
		fx := e.fixture()
		data := pdfFile(300 << 10)
		uploaders := map[string]cred{"visitor_a": fx.visA, "agent_assigned": e.session(e.users["agent_assigned"])}
		for who, c := range uploaders {
			out := e.mustUpload(c, form{conv: fx.convA.ID, fileType: "document", name: who + ".pdf", data: data, caption: "from " + who})
			if out.UploadStatus != "success" || out.FileSize != int64(len(data)) || out.FileURL != "/api/files/"+out.Attachment.ID ||
				out.Attachment.URL != out.FileURL || out.Attachment.ContentType != "application/pdf" || out.Attachment.ThumbnailURL != "" ||
				out.Attachment.Name != who+".pdf" || out.Seq == 0 || !parley.ValidID(out.MessageID) {
				t.Fatalf("upload as %s: %+v", who, out)
			}
			m, err := e.store.GetMessage(context.Background(), out.MessageID)
			if err != nil || m.Kind != parley.KindFile || m.Content != "from "+who || len(m.Attachments) != 1 {
				t.Fatalf("stored message %+v, %v", m, err)
			}
			missing := e.do("GET", "/api/files/"+parley.NewID(), fx.visB, nil)
			want(t, missing, 404, "a missing file")
			for _, actor := range httpapi.Actors {
				r := e.do("GET", out.FileURL, e.credFor(fx, actor), nil)
				switch actor {
				case "anonymous", "disabled":
					want(t, r, 401, actor)
				case "visitor_b", "agent_unassigned":
					want(t, r, 404, actor)
					if !bytes.Equal(r.body, missing.body) || strings.Contains(string(r.body), out.Attachment.ID) {
						t.Errorf("%s: the denial %s differs from a missing file's %s", actor, r.body, missing.body)
					}
					if r.header.Get("Content-Disposition") != "" {
						t.Errorf("%s: a denial carries file headers", actor)
					}
				default:
					want(t, r, 200, actor)
					if !bytes.Equal(r.body, data) {
						t.Errorf("%s downloaded %d bytes that differ from the %d uploaded", actor, len(r.body), len(data))
					}
				}
			}
		}
	})
}

func TestUploadRefusals(t *testing.T) {
	eachBlobSetup(t, func(t *testing.T, s blobSetup) {
		e := newEnv(t, s.open, envOptions{blobs: s.blobs})
		fx := e.fixture()
		conv := fx.convA.ID
		svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>`)
		html := []byte("<!doctype html><html><script>fetch('/api/auth/me')</script></html>")
		gifar := append(gifFile(t), zipFile(t, [2]string{"META-INF/MANIFEST.MF", "Main-Class: Evil\n"})...)
		tests := []struct {
			name   string
			f      form
			status int
			code   string
			says   string
		}{
			{"svg declared as an image", form{fileType: "image", name: "logo.svg", partType: "image/svg+xml; x", data: svg}, 415, "invalid", "SVG"},
			{"svg renamed png", form{fileType: "image", name: "logo.png", partType: "image/png", data: svg}, 415, "invalid", "SVG"},
			{"svg as a document", form{fileType: "document", name: "logo.svg", data: svg}, 415, "invalid", "SVG"},
			{"html renamed png", form{fileType: "image", name: "cat.png", partType: "image/png", data: html}, 415, "invalid", "HTML"},
			{"html as text", form{fileType: "document", name: "notes.txt", partType: "text/plain", data: html}, 415, "invalid", "HTML"},
			{"gifar", form{fileType: "image", name: "cat.gif", data: gifar}, 415, "invalid", "ZIP"},
			{"executable", form{fileType: "document", name: "invoice.pdf", partType: "application/pdf", data: append([]byte("MZ\x90\x00"), make([]byte, 200)...)}, 415, "invalid", "not accepted"},
			{"a pdf sent as an image", form{fileType: "image", name: "x.png", data: pdfFile(2000)}, 400, "invalid", "fileType is image"},
			{"an image sent as a document", form{fileType: "document", name: "x.png", data: pngFile(t, 2, 2)}, 400, "invalid", "fileType is document"},
			{"bad fileType", form{fileType: "video", name: "x.png", data: pngFile(t, 2, 2)}, 400, "invalid", "fileType"},
			{"empty file", form{fileType: "document", name: "x.txt", data: nil}, 400, "invalid", "empty"},
			{"pixel bomb", form{fileType: "image", name: "bomb.png", data: pixelBomb(100000, 100000)}, 413, "too_large", "megapixels"},
			{"file before the fields", form{fileType: "image", name: "x.png", data: pngFile(t, 2, 2), fileFirst: true}, 400, "invalid", "before file"},
			{"a field after the file", form{fileType: "image", name: "x.png", data: pngFile(t, 2, 2), extra: true}, 400, "invalid", "last field"},
			{"no such conversation", form{conv: parley.NewID(), fileType: "image", name: "x.png", data: pngFile(t, 2, 2)}, 404, "not_found", "Conversation"},
		}
		for _, tt := range tests {
			if tt.f.conv == "" {
				tt.f.conv = conv
			}
			before := e.blobCount()
			msgs, atts := e.messageCount(conv)
			r := e.upload(fx.visA, tt.f)
			if r.status != tt.status || r.code() != tt.code || !strings.Contains(string(r.body), tt.says) {
				t.Errorf("%s: %d %s, want %d %s saying %q", tt.name, r.status, r.body, tt.status, tt.code, tt.says)
			}
			if n := e.blobCount(); n != before {
				t.Errorf("%s: the refusal left %d blob files or rows", tt.name, n-before)
			}
			if m, a := e.messageCount(conv); m != msgs || a != atts {
				t.Errorf("%s: the refusal stored a message (%d → %d) or an attachment (%d → %d)", tt.name, msgs, m, atts, a)
			}
		}

		// A PNG named .txt and sent as text/html is a PNG: the bytes decide.
		out := e.mustUpload(fx.visA, form{conv: conv, fileType: "image", name: "photo.txt", partType: "text/html", data: pngFile(t, 4, 3)})
		if out.Attachment.ContentType != "image/png" || out.Attachment.Name != "photo.txt.png" || out.Attachment.ThumbnailURL != out.FileURL+"/thumbnail" {
			t.Errorf("a PNG with a wrong name and header: %+v", out.Attachment)
		}
		// A text file named like a script keeps its name but is offered as text.
		out = e.mustUpload(fx.visA, form{conv: conv, fileType: "document", name: "../../run\u202egpj.bat", data: []byte("echo hi\r\n")})
		if out.Attachment.ContentType != "text/plain; charset=utf-8" || out.Attachment.Name != "rungpj.bat.txt" {
			t.Errorf("a script-named text file: %+v", out.Attachment)
		}
	})
}

func TestUploadSizeAndQuota(t *testing.T) {
	eachBlobSetup(t, func(t *testing.T, s blobSetup) {
		e := newEnv(t, s.open, envOptions{blobs: s.blobs, files: desk.FileLimits{MaxBytes: 600 << 10, VisitorQuota: 1 << 20}})
		fx := e.fixture()
		r := e.upload(fx.visA, form{conv: fx.convA.ID, fileType: "document", name: "big.pdf", data: pdfFile(600<<10 + 1)})
		if r.status != 413 || r.code() != "too_large" || !strings.Contains(string(r.body), "600 KB") {
			t.Errorf("over the size cap: %d %s", r.status, r.body)
		}
		if n := e.blobCount(); n != 0 {
			t.Errorf("the refused upload left %d blob things", n)
		}
		e.mustUpload(fx.visA, form{conv: fx.convA.ID, fileType: "document", name: "a.pdf", data: pdfFile(600 << 10)})
		r = e.upload(fx.visA, form{conv: fx.convA.ID, fileType: "document", name: "b.pdf", data: pdfFile(500 << 10)})
		if r.status != 413 || r.code() != "too_large" || !strings.Contains(string(r.body), "quota") {
			t.Errorf("over the quota: %d %s", r.status, r.body)
		}
		e.mustUpload(fx.visA, form{conv: fx.convA.ID, fileType: "document", name: "c.pdf", data: pdfFile(424 << 10)}) // the quota exactly
		r = e.upload(fx.visA, form{conv: fx.convA.ID, fileType: "document", name: "d.pdf", data: pdfFile(100)})
		if r.status != 413 || !strings.Contains(string(r.body), "used your upload quota") {
			t.Errorf("with the quota used up: %d %s", r.status, r.body)
		}
		// Agents have no quota, only the size cap; other visitors have their own.
		agent := e.session(e.users["agent_assigned"])
		for i := range 3 {
			e.mustUpload(agent, form{conv: fx.convA.ID, fileType: "document", name: fmt.Sprintf("agent%d.pdf", i), data: pdfFile(500 << 10)})
		}
		e.mustUpload(fx.visB, form{conv: fx.convB.ID, fileType: "document", name: "b.pdf", data: pdfFile(600 << 10)})
	})
}

// TestUploadCutHalfway sends part of an upload on a raw connection and
// hangs up: the server must keep no blob, no temporary file and no row.
func TestUploadCutHalfway(t *testing.T) {
	eachBlobSetup(t, func(t *testing.T, s blobSetup) {
		e := newEnv(t, s.open, envOptions{blobs: s.blobs})
		fx := e.fixture()
		body, ct := form{conv: fx.convA.ID, fileType: "document", name: "cut.pdf", data: pdfFile(3 << 20)}.encode(t)
		for _, cut := range []int{len(body) / 10, len(body) / 2, len(body) - 10} {
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "POST /api/files/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
				fx.visA.bearer, ct, len(body))
			conn.Write(body[:cut])
			// Let the server take in what was sent (its blob grows), then cut.
			deadline := time.Now().Add(20 * time.Second)
			for e.blobCount() == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			conn.Close()
			for e.blobCount() != 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if n := e.blobCount(); n != 0 {
				t.Fatalf("cut after %d of %d bytes: %d blob files or rows left", cut, len(body), n)
			}
			if m, a := e.messageCount(fx.convA.ID); m != 1 || a != 0 {
				t.Fatalf("cut after %d bytes: %d messages and %d attachments, want the 1 message the fixture has", cut, m, a)
			}
		}
		// The whole body on the same kind of connection works.
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/files/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			fx.visA.bearer, ct, len(body))
		conn.Write(body)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || res.StatusCode != 201 {
			t.Fatalf("the whole body: %v %v", res, err)
		}
	})
}

func TestUploadRetryKeepsOne(t *testing.T) {
	eachBlobSetup(t, func(t *testing.T, s blobSetup) {
		e := newEnv(t, s.open, envOptions{blobs: s.blobs})
		fx := e.fixture()
		f := form{conv: fx.convA.ID, fileType: "image", name: "p.png", data: pngFile(t, 40, 30), clientID: "upload-1"}
		first := e.mustUpload(fx.visA, f)
		blobs := e.blobCount()
		for range 2 {
			r := e.upload(fx.visA, f)
			want(t, r, 200, "the retry")
			var again uploadOut
			r.json(t, &again)
			if again.MessageID != first.MessageID || again.Attachment.ID != first.Attachment.ID || again.Seq != first.Seq {
				t.Errorf("the retry answered %+v, want the first %+v", again, first)
			}
		}
		if n := e.blobCount(); n != blobs {
			t.Errorf("the retries stored %d more blob things", n-blobs)
		}
		if m, a := e.messageCount(fx.convA.ID); m != 2 || a != 1 {
			t.Errorf("%d messages, %d attachments after an upload and two retries; want 2 and 1", m, a)
		}
		// Another sender's same client id is another upload.
		e.mustUpload(e.session(e.users["agent_assigned"]), f)
	})
}

func TestDownloadHeadersAndRanges(t *testing.T) {
	eachBlobSetup(t, func(t *testing.T, s blobSetup) {
		e := newEnv(t, s.open, envOptions{blobs: s.blobs})
		fx := e.fixture()
		data := pdfFile(700 << 10)
		pdf := e.mustUpload(fx.visA, form{conv: fx.convA.ID, fileType: "document", name: "résumé \"final\" 2025.pdf", data: data})
		img := e.mustUpload(fx.visA, form{conv: fx.convA.ID, fileType: "image", name: "chat.png", data: pngFile(t, 5, 5)})

		r := e.do("GET", pdf.FileURL, fx.visA, nil)
		want(t, r, 200, "download")
		h := r.header
		for k, v := range map[string]string{
			"Content-Type":            "application/pdf",
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "default-src 'none'; sandbox",
			"Content-Disposition":     `attachment; filename="r_sum_ _final_ 2025.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22%202025.pdf`,
			"Accept-Ranges":           "bytes",
			"Content-Length":          fmt.Sprint(len(data)),
		} {
			if got := h.Get(k); got != v {
				t.Errorf("%s: %q, want %q", k, got, v)
			}
		}
		etag := h.Get("ETag")
		if len(etag) != 66 {
			t.Errorf("ETag %q is not the quoted SHA-256", etag)
		}
		r = e.do("GET", img.FileURL, fx.visA, nil)
		if r.header.Get("Content-Type") != "image/png" || !strings.HasPrefix(r.header.Get("Content-Disposition"), "inline; ") {
			t.Errorf("a PNG: %s, %s", r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
		}

		ranged := func(rng string, extra map[string]string) resp {
			c := fx.visA
			c.headers = map[string]string{"Range": rng}
			for k, v := range extra {
				c.headers[k] = v
			}
			return e.do("GET", pdf.FileURL, c, nil)
		}
		for _, tc := range []struct {
			rng      string
			from, to int
		}{{"bytes=0-9", 0, 10}, {"bytes=300000-600000", 300000, 600001}, {"bytes=-100", len(data) - 100, len(data)}, {"bytes=262140-262150", 262140, 262151}} {
			r := ranged(tc.rng, nil)
			if r.status != 206 || !bytes.Equal(r.body, data[tc.from:tc.to]) {
				t.Errorf("Range %s: %d, %d bytes", tc.rng, r.status, len(r.body))
			}
			if want := fmt.Sprintf("bytes %d-%d/%d", tc.from, tc.to-1, len(data)); r.header.Get("Content-Range") != want {
				t.Errorf("Range %s: Content-Range %q, want %q", tc.rng, r.header.Get("Content-Range"), want)
			}
		}
		if r := ranged(fmt.Sprintf("bytes=%d-", len(data)+5), nil); r.status != 416 {
			t.Errorf("an unsatisfiable range: %d", r.status)
		}
		if r := ranged("bytes=0-9", map[string]string{"If-Range": `"stale"`}); r.status != 200 || len(r.body) != len(data) {
			t.Errorf("If-Range with another ETag: %d, %d bytes; want the whole file", r.status, len(r.body))
		}
		c := fx.visA
		c.headers = map[string]string{"If-None-Match": etag}
		if r := e.do("GET", pdf.FileURL, c, nil); r.status != 304 {
			t.Errorf("If-None-Match with the ETag: %d", r.status)
		}
		if r := e.do("GET", pdf.FileURL+"?download=1", fx.visA, nil); r.status != 400 {
			t.Errorf("an unknown query parameter: %d", r.status)
		}
	})
}

func TestThumbnails(t *testing.T) {
	eachBlobSetup(t, func(t *testing.T, s blobSetup) {
		e := newEnv(t, s.open, envOptions{blobs: s.blobs})
		fx := e.fixture()
		// Translucent, so the thumbnail is a PNG (opaque images get a JPEG).
		img := e.mustUpload(fx.visA, form{conv: fx.convA.ID, fileType: "image", name: "wide.png", data: pngFile(t, 1000, 500)})
		before := e.blobCount()
		r := e.do("GET", img.Attachment.ThumbnailURL, fx.visA, nil)
		want(t, r, 200, "thumbnail")
		cfg, format, err := image.DecodeConfig(bytes.NewReader(r.body))
		if err != nil || format != "png" || cfg.Width != 320 || cfg.Height != 160 || r.header.Get("Content-Type") != "image/png" {
			t.Errorf("thumbnail: %s %d×%d (%v), %s", format, cfg.Width, cfg.Height, err, r.header.Get("Content-Type"))
		}
		if r.header.Get("Content-Security-Policy") != "default-src 'none'; sandbox" {
			t.Errorf("thumbnail CSP %q", r.header.Get("Content-Security-Policy"))
		}
		made := e.blobCount()
		if made <= before {
			t.Error("the thumbnail was not kept as a blob")
		}
		again := e.do("GET", img.Attachment.ThumbnailURL, e.session(e.users["admin"]), nil)
		if again.status != 200 || !bytes.Equal(again.body, r.body) || again.header.Get("ETag") != r.header.Get("ETag") || e.blobCount() != made {
			t.Errorf("the second request made another thumbnail")
		}
		want(t, e.do("GET", img.Attachment.ThumbnailURL, fx.visB, nil), 404, "another visitor's thumbnail")
		pdf := e.mustUpload(fx.visA, form{conv: fx.convA.ID, fileType: "document", name: "a.pdf", data: pdfFile(1000)})
		want(t, e.do("GET", pdf.FileURL+"/thumbnail", fx.visA, nil), 404, "a PDF's thumbnail")

		// Deleting the conversation deletes its files' blobs, thumbnails included.
		want(t, e.do("DELETE", "/api/conversations/"+fx.convA.ID, e.session(e.users["admin"]), nil), 204, "delete")
		n, err := e.desk.SweepBlobs(context.Background())
		if err != nil || n != 3 {
			t.Errorf("SweepBlobs = %d, %v; want 3 (two files and a thumbnail)", n, err)
		}
		if c := e.blobCount(); c != 0 {
			t.Errorf("%d blob things left after the sweep", c)
		}
	})
}

// TestUploadReachesSockets checks that an upload is delivered live, with
// its attachment, to the conversation's subscribers.
func TestUploadReachesSockets(t *testing.T) {
	eachBlobSetup(t, func(t *testing.T, s blobSetup) {
		e := newEnv(t, s.open, envOptions{blobs: s.blobs, realtime: true})
		fx := e.fixture()
		agent := e.session(e.users["agent_assigned"])
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		u, _ := url.Parse(e.srv.URL)
		u.Scheme = "ws"
		u.Path = "/ws"
		ws, _, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{Subprotocols: []string{"parley.v1"},
			HTTPHeader: http.Header{"Cookie": {httpapi.SessionCookie + "=" + agent.cookie}}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		read := func(typ string) map[string]any {
			for {
				var f map[string]any
				if err := wsjson.Read(ctx, ws, &f); err != nil {
					t.Fatalf("waiting for %s: %v", typ, err)
				}
				if f["type"] == typ {
					return f
				}
			}
		}
		read("ready")
		wsjson.Write(ctx, ws, map[string]any{"type": "subscribe", "conversationId": fx.convA.ID})
		read("resumed")
		out := e.mustUpload(fx.visA, form{conv: fx.convA.ID, fileType: "image", name: "live.png", data: pngFile(t, 6, 6), caption: "look"})
		f := read("message")
		atts, _ := f["attachments"].([]any)
		if f["id"] != out.MessageID || f["kind"] != "file" || f["content"] != "look" || len(atts) != 1 {
			t.Fatalf("message frame %v, want the upload %s", f, out.MessageID)
		}
		a := atts[0].(map[string]any)
		if a["id"] != out.Attachment.ID || a["url"] != out.FileURL || a["thumbnailUrl"] != out.FileURL+"/thumbnail" ||
			a["contentType"] != "image/png" || a["name"] != "live.png" {
			t.Errorf("attachment on the wire %v", a)
		}
	})
}

// onEOF is a file body that runs fn once its bytes are read: a change made
// while an upload streams.
type onEOF struct {
	r  *bytes.Reader
	fn func()
}

func (b *onEOF) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && b.fn != nil {
		b.fn()
		b.fn = nil
	}
	return n, err
}

// TestUploadWhileTheConversationChanges changes the conversation straight in
// the store while a file streams: the file's message is checked against the
// conversation as it stands when it is written, and a refused upload leaves
// no blob.
func TestUploadWhileTheConversationChanges(t *testing.T) {
	eachBlobSetup(t, func(t *testing.T, s blobSetup) {
		e := newEnv(t, s.open, envOptions{blobs: s.blobs})
		ctx := context.Background()
		fx := e.fixture()
		e.closeConversation(fx.convA.ID) // the visitor may have one open at a time
		assigned := desk.Actor{Kind: desk.Agent, User: e.users["agent_assigned"]}
		visitor := desk.Actor{Kind: desk.Visitor, Customer: fx.custA}
		tests := []struct {
			name string
			who  desk.Actor
			up   parley.ConversationUpdate
			code string // "" when the upload stands
		}{
			{"closed under the visitor", visitor, parley.ConversationUpdate{Status: ptr(parley.StatusClosed)}, parley.ECONFLICT},
			{"handed over under the agent", assigned, parley.ConversationUpdate{AssigneeID: ptr(e.users["agent_c"].ID)}, parley.ENOTFOUND},
			{"handed over under the visitor", visitor, parley.ConversationUpdate{AssigneeID: ptr(e.users["agent_c"].ID)}, ""},
			{"requeued under the agent, who claims it back", assigned,
				parley.ConversationUpdate{Status: ptr(parley.StatusWaiting), AssigneeID: ptr("")}, ""},
		}
		for _, tt := range tests {
			c := e.conversation(fx.custA, parley.StatusActive, e.users["agent_assigned"].ID)
			blobs := e.blobCount()
			msgs, _ := e.messageCount(c.ID)
			body := &onEOF{r: bytes.NewReader(pngFile(t, 3, 2)), fn: func() {
				if _, err := e.store.UpdateConversation(ctx, c.ID, tt.up); err != nil {
					t.Errorf("%s: UpdateConversation: %v", tt.name, err)
				}
			}}
			m, _, err := e.desk.UploadFile(ctx, tt.who, desk.Upload{ConversationID: c.ID, FileType: parley.AttachmentImage, Name: "p.png", Body: body})
			if got := parley.ErrorCode(err); got != tt.code {
				t.Errorf("%s: error %q (%v), want %q", tt.name, got, err, tt.code)
			}
			n, _ := e.messageCount(c.ID)
			if tt.code != "" {
				if n != msgs || e.blobCount() != blobs {
					t.Errorf("%s: the refused upload stored %d messages and %d blob things", tt.name, n-msgs, e.blobCount()-blobs)
				}
			} else if n != msgs+1 || m == nil || m.Attachments[0].Size == 0 {
				t.Errorf("%s: %d messages stored, want %d", tt.name, n-msgs, 1)
			}
			e.closeConversation(c.ID)
		}
	})
}
