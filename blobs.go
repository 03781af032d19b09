package parley

import (
	"context"
	"io"
	"time"
)

// Blobs keeps the bytes of attachments (and their thumbnails) under keys it
// chooses itself, so no name a client sent ever reaches a path or a query.
// internal/files keeps them on disk, internal/postgres in the database;
// internal/blobstest is the conformance suite both pass. Blobs are written
// once and never changed: a new version is a new key.
type Blobs interface {
	// Put stores everything r yields under a new key and returns the key
	// and the number of bytes stored. It either stores the whole stream or
	// nothing: when r fails, ctx ends or the storage fails, no blob and no
	// partial file is left behind. An error r returned comes back in the
	// chain (errors.Is / errors.As find it), so callers recognise their own
	// limits. EUNAVAILABLE when the storage fails.
	Put(ctx context.Context, r io.Reader) (key string, size int64, err error)
	// Open returns the blob stored under key for reading; the caller closes
	// it. ENOTFOUND when there is none (also for a key this store could not
	// have made); EUNAVAILABLE.
	Open(ctx context.Context, key string) (Blob, error)
	// Delete removes the blob under key. A key with no blob is not an error,
	// so deletions can be retried. EUNAVAILABLE.
	Delete(ctx context.Context, key string) error
}

// Blob is one stored blob, open for reading. It reads sequentially (Read,
// Seek, for http.ServeContent and Range requests) or at offsets (ReadAt, for
// archive/zip); both keep memory bounded whatever the size.
type Blob interface {
	io.ReadSeeker
	io.ReaderAt
	io.Closer
	Size() int64
}

// Thumbnail is a small image made from an image attachment, kept as a blob
// of its own so it is made once.
type Thumbnail struct {
	AttachmentID string
	Key          string
	ContentType  string // image/jpeg or image/png
	Size         int64
	Width        int
	Height       int
	CreatedAt    time.Time
}

// Validate checks the fields a store writes. It returns EINVALID.
func (t *Thumbnail) Validate() error {
	const op = "Thumbnail.Validate"
	if err := checkID(op, "attachment id", t.AttachmentID, true); err != nil {
		return err
	}
	if err := checkText(op, "thumbnail key", t.Key, 500, true); err != nil {
		return err
	}
	if t.ContentType != "image/jpeg" && t.ContentType != "image/png" {
		return Errorf(EINVALID, "a thumbnail is image/jpeg or image/png")
	}
	if t.Size < 0 || t.Width <= 0 || t.Height <= 0 {
		return Errorf(EINVALID, "a thumbnail has a size and dimensions")
	}
	return nil
}

// ThumbnailURL returns the path of an image attachment's thumbnail, "" for
// other attachments.
func (a *Attachment) ThumbnailURL() string {
	if a.Type != AttachmentImage || a.URL == "" {
		return ""
	}
	return a.URL + "/thumbnail"
}

// FileStore keeps what attachments need besides their rows.
type FileStore interface {
	// CustomerUploadBytes sums the sizes of the attachments of the messages
	// the customer sent (a visitor's quota). An unknown customer has 0.
	CustomerUploadBytes(ctx context.Context, customerID string) (int64, error)
	// GetThumbnail returns the thumbnail made for an attachment. ENOTFOUND.
	GetThumbnail(ctx context.Context, attachmentID string) (*Thumbnail, error)
	// CreateThumbnail records t, filling CreatedAt. ECONFLICT when the
	// attachment has one already (two made at once: the loser deletes its
	// blob); ENOTFOUND when the attachment does not exist; EINVALID.
	CreateThumbnail(ctx context.Context, t *Thumbnail) error
	// ListBlobGarbage returns up to limit keys of blobs that no row refers to
	// any more, oldest first: deleting an attachment or a thumbnail (also by
	// cascade, when its conversation or customer is deleted) records its key
	// in the same transaction. EINVALID for a limit outside 1..1000.
	ListBlobGarbage(ctx context.Context, limit int) ([]string, error)
	// ForgetBlobGarbage drops keys from that list once their blobs are
	// deleted. Unknown keys are ignored.
	ForgetBlobGarbage(ctx context.Context, keys []string) error
}
