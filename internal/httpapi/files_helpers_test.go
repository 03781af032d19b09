package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/files"
	"github.com/parleychat/parley/internal/httpapi"
	"github.com/parleychat/parley/internal/memory"
	"github.com/parleychat/parley/internal/postgres"
	"github.com/parleychat/parley/internal/realtime"
)

// openBlobs opens the blob store envOptions.blobs names.
func (e *env) openBlobs(kind string) parley.Blobs {
	e.t.Helper()
	switch kind {
	case "", "disk":
		dir := filepath.Join(e.t.TempDir(), "files")
		d, err := files.New(dir)
		if err != nil {
			e.t.Fatal(err)
		}
		e.blobCount = func() int { return countFiles(e.t, dir) }
		return d
	case "postgres":
		ps, ok := e.store.(*postgres.Store)
		if !ok {
			e.t.Fatalf("postgres blobs need a postgres store, not %T", e.store)
		}
		b := ps.Blobs()
		e.blobCount = func() int {
			st, err := b.Stats(context.Background())
			if err != nil {
				e.t.Fatal(err)
			}
			return int(st.Blobs + st.Chunks)
		}
		return b
	}
	e.t.Fatalf("unknown blob store %q", kind)
	return nil
}

// newDesk builds the desk as cmd/parley does, with the socket when asked.
func (e *env) newDesk(o envOptions) *desk.Desk {
	opts := o.desk
	opts.Blobs, opts.Files = e.blobs, o.files
	if !o.realtime {
		return desk.New(e.store, opts)
	}
	broker := memory.NewBroker()
	opts.Events = realtime.NewPublisher(broker)
	d := desk.New(e.store, opts)
	ws := realtime.New(realtime.Options{Service: realtime.NewDeskService(d, httpapi.SessionCookie), Broker: broker})
	e.ws = ws
	e.t.Cleanup(func() { ws.Shutdown(context.Background()) })
	return d
}

func countFiles(tb testing.TB, dir string) int {
	tb.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			n++
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		tb.Fatal(err)
	}
	return n
}

// blobSetups are the store and blob store pairs the file tests run on.
type blobSetup struct {
	name  string
	open  func(testing.TB) parley.Store
	blobs string
}

func blobSetups(t *testing.T) []blobSetup {
	var out []blobSetup
	for _, b := range backends(t) {
		out = append(out, blobSetup{b.name + "+disk", b.open, "disk"})
		if b.name == "postgres" {
			out = append(out, blobSetup{"postgres+postgres", b.open, "postgres"})
		}
	}
	return out
}

func eachBlobSetup(t *testing.T, fn func(t *testing.T, s blobSetup)) {
	for _, s := range blobSetups(t) {
		t.Run(s.name, func(t *testing.T) { fn(t, s) })
	}
}

// form is an upload request: the fields in order, then the file.
type form struct {
	conv, fileType, clientID, caption string
	name                              string
	partType                          string // the file part's Content-Type header
	data                              []byte
	fileFirst                         bool
	extra                             bool // a field after the file
}

func (f form) encode(t testing.TB) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	file := func() {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(f.name)+`"`)
		ct := f.partType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if f.fileFirst {
		file()
	}
	mw.WriteField("conversationId", f.conv)
	mw.WriteField("fileType", f.fileType)
	if f.clientID != "" {
		mw.WriteField("clientMessageId", f.clientID)
	}
	if f.caption != "" {
		mw.WriteField("caption", f.caption)
	}
	if !f.fileFirst {
		file()
	}
	if f.extra {
		mw.WriteField("caption", "late")
	}
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

func (e *env) upload(c cred, f form) resp {
	e.t.Helper()
	body, ct := f.encode(e.t)
	return e.doRaw("POST", "/api/files/upload", c, body, ct)
}

type uploadOut struct {
	FileURL      string `json:"fileUrl"`
	FileSize     int64  `json:"fileSize"`
	UploadStatus string `json:"uploadStatus"`
	MessageID    string `json:"messageId"`
	Seq          int64  `json:"seq"`
	Attachment   struct {
		ID           string `json:"id"`
		Type         string `json:"type"`
		ContentType  string `json:"contentType"`
		Size         int64  `json:"size"`
		Name         string `json:"name"`
		URL          string `json:"url"`
		ThumbnailURL string `json:"thumbnailUrl"`
	} `json:"attachment"`
}

func (e *env) mustUpload(c cred, f form) uploadOut {
	e.t.Helper()
	r := e.upload(c, f)
	want(e.t, r, http.StatusCreated, "upload "+f.name)
	var out uploadOut
	r.json(e.t, &out)
	return out
}

// messageCount counts a conversation's messages, as stored.
func (e *env) messageCount(conv string) (messages, attachments int) {
	e.t.Helper()
	ms, err := e.store.ListMessages(context.Background(), conv, parley.MessageFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range ms {
		attachments += len(m.Attachments)
	}
	return len(ms), attachments
}

// Fixtures, made here so every byte is visible.

func pngFile(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i*31) | 0x80
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func gifFile(tb testing.TB) []byte {
	tb.Helper()
	var b bytes.Buffer
	gif.Encode(&b, image.NewPaletted(image.Rect(0, 0, 8, 8), color.Palette{color.Black, color.White}), nil)
	return b.Bytes()
}

func zipFile(tb testing.TB, entries ...[2]string) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, _ := zw.Create(e[0])
		w.Write([]byte(e[1]))
	}
	zw.Close()
	return b.Bytes()
}

// pixelBomb is a PNG whose header claims width × height pixels, with a tiny
// body: decoding it would allocate width × height × 4 bytes.
func pixelBomb(width, height uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], width)
	binary.BigEndian.PutUint32(ihdr[4:], height)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func pdfFile(n int) []byte {
	b := []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n")
	for len(b) < n-6 {
		b = append(b, "% padding padding padding padding\n"...)
	}
	return append(b[:n-6], "%%EOF\n"...)
}

func decodeJSON(tb testing.TB, r io.Reader, v any) {
	tb.Helper()
	if err := json.NewDecoder(r).Decode(v); err != nil {
		tb.Fatal(err)
	}
}

// fileIn uploads an image to conversation conv of the fixture as its
// visitor and returns the attachment's id; for any other conversation (a
// missing one) it returns an id that names nothing.
func (e *env) fileIn(fx *fixture, conv string) string {
	e.t.Helper()
	var cust *parley.Customer
	switch conv {
	case fx.convA.ID:
		cust = fx.custA
	case fx.convB.ID:
		cust = fx.custB
	default:
		return parley.NewID()
	}
	m, _, err := e.desk.UploadFile(context.Background(), desk.Actor{Kind: desk.Visitor, Customer: cust},
		desk.Upload{ConversationID: conv, FileType: parley.AttachmentImage, Name: "p.png", Body: bytes.NewReader(pngFile(e.t, 3, 2))})
	if err != nil {
		e.t.Fatalf("UploadFile: %v", err)
	}
	return m.Attachments[0].ID
}
