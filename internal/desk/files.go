package desk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"path"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/filetype"
	"github.com/parleychat/parley/internal/thumbnail"
)

// FileLimits bound what visitors and agents may upload. Zero values take
// the defaults.
type FileLimits struct {
	// MaxBytes caps one file (default 25 MiB).
	MaxBytes int64
	// VisitorQuota caps the bytes of all the files one visitor sent, in every
	// conversation (default 100 MiB; negative: no quota). Agents have none.
	VisitorQuota int64
	// MaxPixels caps an image's width × height, read from its header
	// (default 40 megapixels): decoding a larger one for a thumbnail would
	// cost too much memory, so it is refused at upload.
	MaxPixels int64
	// ThumbnailSide is the most pixels a thumbnail is wide or high (default 320).
	ThumbnailSide int
}

// Default file limits.
const (
	DefaultMaxUploadBytes = 25 << 20
	DefaultVisitorQuota   = 100 << 20
	DefaultMaxPixels      = 40_000_000
	DefaultThumbnailSide  = 320
)

// FileURLPrefix starts the path every attachment is downloaded from:
// FileURLPrefix + its id (a random UUID, so the path cannot be guessed; it
// carries no credentials, the request does).
const FileURLPrefix = "/api/files/"

// fileDesk is the desk's state for files: the blob store, the limits, the
// bytes each visitor has in flight (so concurrent uploads cannot overrun a
// quota together) and the one thumbnail made at a time (decoding an image
// takes up to 4 bytes a pixel).
type fileDesk struct {
	blobs  parley.Blobs
	limits FileLimits

	mu       sync.Mutex
	inFlight map[string]int64

	thumbs chan struct{}
}

func newFileDesk(b parley.Blobs, l FileLimits) *fileDesk {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxUploadBytes
	}
	if l.VisitorQuota == 0 {
		l.VisitorQuota = DefaultVisitorQuota
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.ThumbnailSide <= 0 {
		l.ThumbnailSide = DefaultThumbnailSide
	}
	return &fileDesk{blobs: b, limits: l, inFlight: map[string]int64{}, thumbs: make(chan struct{}, 1)}
}

// FileLimits returns the limits in force.
func (d *Desk) FileLimits() FileLimits { return d.files.limits }

var (
	errNoStorage    = &parley.Error{Code: parley.EUNAVAILABLE, Message: "File storage is not configured."}
	errFileNotFound = &parley.Error{Code: parley.ENOTFOUND, Message: "File not found."}
	errNoThumbnail  = &parley.Error{Code: parley.ENOTFOUND, Message: "This file has no thumbnail."}
	errCut          = &parley.Error{Code: parley.EINVALID, Message: "The upload was cut short or is malformed; send it again."}
)

// Upload is a file a caller attaches to a conversation.
type Upload struct {
	ConversationID string
	FileType       parley.AttachmentType // what the caller says it is: checked against the bytes
	Name           string                // the uploader's file name, for display only
	ClientMsgID    string
	Caption        string
	// Body yields the file's bytes once. Its errors end the upload; a
	// *parley.Error among them is answered as it is (a transport's own
	// limits), any other as a cut upload.
	Body io.Reader
}

// UploadFile stores a file and appends a message of kind file carrying it,
// under the rule for sending (ConversationReply: a visitor to their own
// open conversations; agents to those assigned to them, or waiting ones,
// which a first reply claims). The body is streamed to the blob store with
// its SHA-256 and size counted on the way and never held in memory; its
// type is detected from the bytes (internal/filetype) and must agree with
// FileType; images are held to MaxPixels; visitors to their quota. A retry
// with the same ClientMsgID returns the first message with created = false
// and keeps no second blob. On every error no blob and no row are left.
// EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND, ECONFLICT (closed), EINVALID (with
// filetype.ErrUnsupported in the chain for a type refused), ETOOLARGE
// (size, quota, pixels), EUNAVAILABLE (no storage, or it failed).
func (d *Desk) UploadFile(ctx context.Context, a Actor, up Upload) (*parley.Message, bool, error) {
	const op = "desk.UploadFile"
	if _, err := allow(a, ConversationReply); err != nil {
		return nil, false, err
	}
	fd := d.files
	if fd.blobs == nil {
		return nil, false, errNoStorage
	}
	if up.FileType != parley.AttachmentImage && up.FileType != parley.AttachmentDocument {
		return nil, false, parley.Errorf(parley.EINVALID, "fileType must be image or document.")
	}
	sender := parley.SenderAgent
	if a.IsVisitor() {
		sender = parley.SenderCustomer
	}
	att := &parley.Attachment{ID: parley.NewID(), Key: "pending", Type: up.FileType, ContentType: "application/octet-stream",
		Name: cleanName(up.Name, filetype.Type{}), Checksum: strings.Repeat("0", 64)}
	att.URL = FileURLPrefix + att.ID
	m := &parley.Message{ConversationID: up.ConversationID, ClientMsgID: up.ClientMsgID, SenderID: a.ID(),
		SenderType: sender, Kind: parley.KindFile, Content: up.Caption, Attachments: []*parley.Attachment{att}}
	if !parley.ValidID(up.ConversationID) {
		return nil, false, notFound("Conversation")
	}
	if err := m.Validate(); err != nil {
		return nil, false, err
	}
	c, err := d.conversation(ctx, op, up.ConversationID)
	if err != nil {
		return nil, false, err
	}
	if err := mayAppend(a, ConversationReply, c); err != nil {
		return nil, false, err
	}

	limit, tooLarge, release, err := d.uploadLimit(ctx, a)
	if err != nil {
		return nil, false, err
	}
	defer release()

	sum := sha256.New()
	src := io.TeeReader(&capped{r: body{up.Body}, left: limit, err: tooLarge}, sum)
	head := make([]byte, filetype.HeadSize)
	n, rerr := fill(src, head)
	head = head[:n]
	if rerr != nil && rerr != io.EOF {
		return nil, false, readError(rerr)
	}
	t, err := filetype.Sniff(head)
	if err != nil {
		return nil, false, err
	}
	if t.Image != (up.FileType == parley.AttachmentImage) {
		if t.Image {
			return nil, false, parley.Errorf(parley.EINVALID, "fileType is document but the file is an image; send it as image.")
		}
		return nil, false, parley.Errorf(parley.EINVALID, "fileType is image but the file is not an image (PNG, JPEG, GIF or WebP); send it as document.")
	}
	rest := src
	var text filetype.TextChecker
	if t.Text {
		if _, err := text.Write(head); err != nil {
			return nil, false, err
		}
		rest = io.TeeReader(src, &text)
	}
	if rerr == io.EOF {
		rest = eof{}
	}
	key, size, err := fd.blobs.Put(ctx, io.MultiReader(bytes.NewReader(head), rest))
	if err != nil {
		var pe *parley.Error
		if errors.As(err, &pe) && pe.Code != parley.EUNAVAILABLE && pe.Code != parley.EINTERNAL {
			return nil, false, pe
		}
		return nil, false, wrap(op, err)
	}
	stored := false
	defer func() {
		if !stored {
			if derr := fd.blobs.Delete(context.WithoutCancel(ctx), key); derr != nil {
				d.log.Warn("deleting the blob of a failed upload", "key", key, "err", derr)
			}
		}
	}()
	if t.Text {
		if err := text.Close(); err != nil {
			return nil, false, err
		}
	}
	info, err := d.inspect(ctx, key, size, t, head)
	if err != nil {
		return nil, false, err
	}
	if info.Image && info.Pixels() > fd.limits.MaxPixels {
		return nil, false, parley.Errorf(parley.ETOOLARGE, "The image is %d×%d pixels; at most %d megapixels are accepted.",
			info.Width, info.Height, fd.limits.MaxPixels/1_000_000)
	}
	att.Key, att.Size, att.ContentType = key, size, info.ContentType
	att.Checksum = hex.EncodeToString(sum.Sum(nil))
	att.Name = cleanName(up.Name, info.Type)

	// The upload took time: the append holds only if c, as checked above,
	// is still how the conversation stands, else it is read and checked
	// again.
	c, created, err := d.appendChecked(ctx, op, a, ConversationReply, m, c)
	if err != nil {
		return nil, false, err
	}
	m.SenderName = a.senderName()
	if !created {
		// A retry: the first upload's message and blob stand; this blob goes.
		return m, false, nil
	}
	stored = true
	d.messageAppended(ctx, c, m)
	return m, true, nil
}

// inspect confirms the stored file's type (filetype.Inspect).
func (d *Desk) inspect(ctx context.Context, key string, size int64, t filetype.Type, head []byte) (filetype.Info, error) {
	b, err := d.files.blobs.Open(ctx, key)
	if err != nil {
		return filetype.Info{}, wrap("desk.UploadFile", err)
	}
	defer b.Close()
	return filetype.Inspect(b, size, t, head)
}

// uploadLimit returns how many bytes a's file may have, the error for more,
// and, for a visitor, reserves them against the quota until release.
func (d *Desk) uploadLimit(ctx context.Context, a Actor) (int64, error, func(), error) {
	fd := d.files
	max := fd.limits.MaxBytes
	tooLarge := parley.Errorf(parley.ETOOLARGE, "The file is larger than %s.", formatBytes(max))
	if !a.IsVisitor() || fd.limits.VisitorQuota < 0 {
		return max, tooLarge, func() {}, nil
	}
	used, err := d.store.CustomerUploadBytes(ctx, a.ID())
	if err != nil {
		return 0, nil, nil, wrap("desk.UploadFile", err)
	}
	id := a.ID()
	fd.mu.Lock()
	defer fd.mu.Unlock()
	left := fd.limits.VisitorQuota - used - fd.inFlight[id]
	if left <= 0 {
		return 0, nil, nil, parley.Errorf(parley.ETOOLARGE, "You have used your upload quota of %s.", formatBytes(fd.limits.VisitorQuota))
	}
	limit := max
	if left < max {
		limit = left
		tooLarge = parley.Errorf(parley.ETOOLARGE, "The file is larger than what is left of your upload quota (%s of %s).",
			formatBytes(left), formatBytes(fd.limits.VisitorQuota))
	}
	fd.inFlight[id] += limit
	release := func() {
		fd.mu.Lock()
		defer fd.mu.Unlock()
		if fd.inFlight[id] -= limit; fd.inFlight[id] <= 0 {
			delete(fd.inFlight, id)
		}
	}
	return limit, tooLarge, release, nil
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// capped yields at most left bytes of r, then fails with err if r has more.
type capped struct {
	r    io.Reader
	left int64
	err  error
}

func (c *capped) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.left <= 0 {
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, c.err
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// body marks the errors of an upload's body: its own *parley.Error pass,
// anything else (a connection cut, a malformed body) is errCut.
type body struct{ r io.Reader }

func (b body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = readError(err)
	}
	return n, err
}

func readError(err error) error {
	var pe *parley.Error
	if errors.As(err, &pe) {
		return pe
	}
	return &parley.Error{Code: errCut.Code, Message: errCut.Message, Err: err}
}

type eof struct{}

func (eof) Read([]byte) (int, error) { return 0, io.EOF }

// fill reads into buf until it is full or r ends; only io.EOF ends it.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// cleanName makes an uploader's file name safe to show and to offer as a
// download name: no directories, no control or bidirectional formatting
// characters (which can disguise "gpj.exe" as "exe.jpg"), no leading or
// trailing dots and spaces, at most 255 characters. When t is known and the
// name's extension is not one of t's, t's is appended ("notes.bat" holding
// text becomes "notes.bat.txt"), so a download never opens as something
// other than what was detected.
func cleanName(name string, t filetype.Type) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r),
			r == '\u200b', r == '\u2028', r == '\u2029', r == '\ufeff':
			return -1
		}
		return r
	}, name)
	name = strings.Trim(name, " .\u00a0")
	if name == "" {
		name = "file"
	}
	ext := ""
	if len(t.Exts) > 0 {
		have := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
		ok := false
		for _, e := range t.Exts {
			ok = ok || have == e
		}
		if !ok {
			ext = "." + t.Exts[0]
		}
	}
	const max = 255
	if r := []rune(name); len(r)+len(ext) > max {
		keep := []rune(path.Ext(name))
		if ext != "" || len(keep) > 20 {
			keep = nil
		}
		name = string(r[:max-len(ext)-len(keep)]) + string(keep)
	}
	return name + ext
}

// authorizeFile returns the attachment id if a may see it: exactly when a
// may see its conversation, and never for a visitor when it belongs to a
// note. A missing attachment and one a may not see answer the same
// ENOTFOUND.
func (d *Desk) authorizeFile(ctx context.Context, a Actor, id string) (*parley.Attachment, error) {
	const op = "desk.OpenFile"
	if _, err := allow(a, ConversationView); err != nil {
		return nil, err
	}
	if d.files.blobs == nil {
		return nil, errNoStorage
	}
	att, err := d.store.GetAttachment(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, errFileNotFound
		}
		return nil, wrap(op, err)
	}
	c, err := d.store.GetConversation(ctx, att.ConversationID)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, errFileNotFound
		}
		return nil, wrap(op, err)
	}
	if !sees(a, c) {
		return nil, errFileNotFound
	}
	if a.IsVisitor() {
		m, err := d.store.GetMessage(ctx, att.MessageID)
		if err != nil {
			if parley.IsCode(err, parley.ENOTFOUND) {
				return nil, errFileNotFound
			}
			return nil, wrap(op, err)
		}
		if m.Kind == parley.KindNote {
			return nil, errFileNotFound
		}
	}
	return att, nil
}

// OpenFile returns an attachment the caller may see and its bytes, which
// the caller closes. EUNAUTHORIZED, ENOTFOUND (missing or not visible),
// EUNAVAILABLE.
func (d *Desk) OpenFile(ctx context.Context, a Actor, id string) (*parley.Attachment, parley.Blob, error) {
	att, err := d.authorizeFile(ctx, a, id)
	if err != nil {
		return nil, nil, err
	}
	b, err := d.files.blobs.Open(ctx, att.Key)
	if err != nil {
		if parley.IsCode(err, parley.ENOTFOUND) {
			d.log.Error("an attachment's blob is missing", "attachment", att.ID, "key", att.Key)
			return nil, nil, errFileNotFound
		}
		return nil, nil, wrap("desk.OpenFile", err)
	}
	return att, b, nil
}

// OpenThumbnail returns the thumbnail of an image attachment the caller may
// see, making it on first use (one at a time, and never for an image over
// MaxPixels), with its bytes, which the caller closes. EUNAUTHORIZED,
// ENOTFOUND (missing, not visible, or not an image that can have one),
// EUNAVAILABLE.
func (d *Desk) OpenThumbnail(ctx context.Context, a Actor, id string) (*parley.Thumbnail, parley.Blob, error) {
	const op = "desk.OpenThumbnail"
	att, err := d.authorizeFile(ctx, a, id)
	if err != nil {
		return nil, nil, err
	}
	if att.Type != parley.AttachmentImage || !filetype.SafeInline(att.ContentType) {
		return nil, nil, errNoThumbnail
	}
	th, err := d.thumbnail(ctx, att)
	if err != nil {
		return nil, nil, err
	}
	b, err := d.files.blobs.Open(ctx, th.Key)
	if err != nil {
		return nil, nil, wrap(op, err)
	}
	return th, b, nil
}

func (d *Desk) thumbnail(ctx context.Context, att *parley.Attachment) (*parley.Thumbnail, error) {
	const op = "desk.OpenThumbnail"
	th, err := d.store.GetThumbnail(ctx, att.ID)
	if err == nil {
		return th, nil
	}
	if !parley.IsCode(err, parley.ENOTFOUND) {
		return nil, wrap(op, err)
	}
	fd := d.files
	select {
	case fd.thumbs <- struct{}{}:
		defer func() { <-fd.thumbs }()
	case <-ctx.Done():
		return nil, &parley.Error{Code: parley.EUNAVAILABLE, Op: op, Err: ctx.Err()}
	}
	// Made by another request while this one waited?
	if th, err := d.store.GetThumbnail(ctx, att.ID); err == nil {
		return th, nil
	}
	src, err := fd.blobs.Open(ctx, att.Key)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer src.Close()
	cfg, _, err := image.DecodeConfig(io.NewSectionReader(src, 0, src.Size()))
	if err != nil || int64(cfg.Width)*int64(cfg.Height) > fd.limits.MaxPixels {
		return nil, errNoThumbnail
	}
	made, err := thumbnail.Make(io.NewSectionReader(src, 0, src.Size()), fd.limits.ThumbnailSide)
	if err != nil {
		d.log.Warn("making a thumbnail", "attachment", att.ID, "err", err)
		return nil, errNoThumbnail
	}
	key, size, err := fd.blobs.Put(ctx, bytes.NewReader(made.Data))
	if err != nil {
		return nil, wrap(op, err)
	}
	th = &parley.Thumbnail{AttachmentID: att.ID, Key: key, ContentType: made.ContentType, Size: size,
		Width: made.Width, Height: made.Height}
	if err := d.store.CreateThumbnail(ctx, th); err != nil {
		fd.blobs.Delete(context.WithoutCancel(ctx), key)
		if parley.IsCode(err, parley.ECONFLICT) {
			if th, gerr := d.store.GetThumbnail(ctx, att.ID); gerr == nil {
				return th, nil
			}
		}
		if parley.IsCode(err, parley.ENOTFOUND) {
			return nil, errFileNotFound
		}
		return nil, wrap(op, err)
	}
	return th, nil
}

// SweepBlobs deletes the blobs no row refers to any more (their attachment
// or thumbnail was deleted, by itself or with its conversation or
// customer) and returns how many. It is safe to run on several nodes at
// once and to interrupt: a key is forgotten only once its blob is gone.
func (d *Desk) SweepBlobs(ctx context.Context) (int, error) {
	const op = "desk.SweepBlobs"
	if d.files.blobs == nil {
		return 0, nil
	}
	total := 0
	for {
		keys, err := d.store.ListBlobGarbage(ctx, 200)
		if err != nil {
			return total, wrap(op, err)
		}
		if len(keys) == 0 {
			return total, nil
		}
		done := keys[:0:0]
		var firstErr error
		for _, k := range keys {
			if err := d.files.blobs.Delete(ctx, k); err != nil {
				firstErr = err
				continue
			}
			done = append(done, k)
		}
		if err := d.store.ForgetBlobGarbage(ctx, done); err != nil {
			return total, wrap(op, err)
		}
		total += len(done)
		if firstErr != nil {
			return total, wrap(op, firstErr)
		}
	}
}
