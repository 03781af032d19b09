package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/filetype"
)

// uploadTimeout is how long an upload may take to arrive, past the
// server's read timeout: a 25 MB file on a slow uplink takes minutes.
const uploadTimeout = 15 * time.Minute

// formOverhead bounds what an upload's body holds besides the file: the
// other fields and the multipart framing.
const formOverhead = 64 << 10

type uploadResponse struct {
	FileURL      string         `json:"fileUrl"`
	FileSize     int64          `json:"fileSize"`
	UploadStatus string         `json:"uploadStatus"`
	MessageID    string         `json:"messageId"`
	Seq          int64          `json:"seq"`
	Attachment   attachmentView `json:"attachment"`
}

// uploadFields are the form fields an upload may carry before its file, with
// the most bytes each may have.
var uploadFields = map[string]int{
	"conversationId":  100,
	"fileType":        100,
	"clientMessageId": 4 * parley.MaxClientMsgIDLen,
	"caption":         4 * parley.MaxContentLen,
}

// uploadFile is the seed's upload endpoint: multipart/form-data with
// conversationId, fileType, optional clientMessageId and caption, then the
// file, last. The body is read part by part and the file streamed to the
// blob store by the desk; nothing is buffered whole (never
// ParseMultipartForm).
func uploadFile(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return parley.Errorf(parley.EINVALID, "The body must be multipart/form-data with conversationId, fileType and file.")
	}
	if _, err := query(r); err != nil {
		return err
	}
	max := s.desk.FileLimits().MaxBytes
	r.Body = http.MaxBytesReader(w, r.Body, max+formOverhead)
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(uploadTimeout))
	rc.SetWriteDeadline(time.Now().Add(uploadTimeout + time.Minute))
	err = s.upload(w, r, a, max)
	if err != nil {
		// The body may be unread: do not let the client send the rest into
		// a connection the server will not read.
		w.Header().Set("Connection", "close")
		if errors.Is(err, filetype.ErrUnsupported) {
			writeJSON(w, http.StatusUnsupportedMediaType, errorBody{errorDetail{Code: parley.EINVALID, Message: parley.ErrorMessage(err)}})
			return nil
		}
	}
	return err
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, a desk.Actor, max int64) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return parley.Errorf(parley.EINVALID, "The body is not valid multipart/form-data.")
	}
	fields := map[string]string{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return parley.Errorf(parley.EINVALID, "file is required.")
		}
		if err != nil {
			return bodyError(err, max)
		}
		name := p.FormName()
		if name == "file" {
			return s.uploadPart(w, r, a, mr, p, fields, max)
		}
		limit, ok := uploadFields[name]
		if !ok {
			return parley.Errorf(parley.EINVALID, "Unknown form field %q.", name)
		}
		if _, dup := fields[name]; dup {
			return parley.Errorf(parley.EINVALID, "Form field %q is repeated.", name)
		}
		b, err := io.ReadAll(io.LimitReader(p, int64(limit)+1))
		if err != nil {
			return bodyError(err, max)
		}
		if len(b) > limit {
			return parley.Errorf(parley.EINVALID, "%s is too long.", name)
		}
		if !utf8.Valid(b) {
			return parley.Errorf(parley.EINVALID, "%s is not valid UTF-8.", name)
		}
		fields[name] = string(b)
	}
}

func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request, a desk.Actor, mr *multipart.Reader, p *multipart.Part, fields map[string]string, max int64) error {
	conv, ok1 := fields["conversationId"]
	ft, ok2 := fields["fileType"]
	if !ok1 || !ok2 {
		return parley.Errorf(parley.EINVALID, "conversationId and fileType are required, before file (send the file last).")
	}
	conv = strings.TrimSpace(conv)
	if err := requireField("conversationId", conv); err != nil {
		return err
	}
	m, created, err := s.desk.UploadFile(r.Context(), a, desk.Upload{
		ConversationID: conv,
		FileType:       parley.AttachmentType(strings.TrimSpace(ft)),
		Name:           p.FileName(),
		ClientMsgID:    fields["clientMessageId"],
		Caption:        fields["caption"],
		Body:           &lastPart{p: p, mr: mr, max: max},
	})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	att := m.Attachments[0]
	writeJSON(w, status, uploadResponse{FileURL: att.URL, FileSize: att.Size, UploadStatus: "success",
		MessageID: m.ID, Seq: m.Seq, Attachment: viewAttachment(att)})
	return nil
}

// lastPart reads the file part and, at its end, checks that the body ends
// there too: a part after the file, or a body cut before its closing
// boundary, fails the read, so the desk keeps nothing of it.
type lastPart struct {
	p   *multipart.Part
	mr  *multipart.Reader
	max int64
}

func (l *lastPart) Read(b []byte) (int, error) {
	n, err := l.p.Read(b)
	if err == io.EOF {
		if _, nerr := l.mr.NextPart(); nerr != io.EOF {
			if nerr == nil {
				return n, parley.Errorf(parley.EINVALID, "file must be the last field of the form.")
			}
			return n, bodyError(nerr, l.max)
		}
		return n, io.EOF
	}
	if err != nil {
		return n, bodyError(err, l.max)
	}
	return n, nil
}

// bodyError explains a failure to read an upload's body.
func bodyError(err error, max int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return parley.Errorf(parley.ETOOLARGE, "The upload is larger than %d bytes.", max)
	}
	return &parley.Error{Code: parley.EINVALID, Message: "The upload was cut short or is not valid multipart/form-data.", Err: err}
}

// fileSecurityHeaders are on every file download: the bytes are served as
// their detected type only (nosniff), can never run as a page, script or
// plugin (a sandbox with nothing allowed), and other sites cannot embed
// them.
func fileSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	// Immutable bytes: a browser may keep them privately and revalidate
	// with the ETag (a 304 costs nothing to send).
	h.Set("Cache-Control", "private, no-cache")
}

// downloadFile serves an attachment to a caller who may see its
// conversation, with Range support (http.ServeContent over the blob).
func downloadFile(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if _, err := query(r); err != nil {
		return err
	}
	att, b, err := s.desk.OpenFile(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	defer b.Close()
	h := w.Header()
	fileSecurityHeaders(h)
	h.Set("Content-Type", att.ContentType)
	disposition := "attachment"
	if filetype.SafeInline(att.ContentType) {
		disposition = "inline"
	}
	h.Set("Content-Disposition", contentDisposition(disposition, att.Name))
	h.Set("ETag", `"`+att.Checksum+`"`)
	http.ServeContent(w, r, "", att.CreatedAt, b)
	return nil
}

// downloadThumbnail serves an image attachment's thumbnail.
func downloadThumbnail(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if _, err := query(r); err != nil {
		return err
	}
	th, b, err := s.desk.OpenThumbnail(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	defer b.Close()
	h := w.Header()
	fileSecurityHeaders(h)
	h.Set("Content-Type", th.ContentType)
	ext := "jpg"
	if th.ContentType == "image/png" {
		ext = "png"
	}
	h.Set("Content-Disposition", contentDisposition("inline", "thumbnail."+ext))
	h.Set("ETag", `"`+th.Key+`"`)
	http.ServeContent(w, r, "", th.CreatedAt, b)
	return nil
}

// contentDisposition builds an RFC 6266 header: a quoted ASCII fallback
// (anything else replaced by "_") for old clients, and the name itself in
// RFC 8187 encoding (filename*=UTF-8”...), which current browsers prefer.
func contentDisposition(kind, name string) string {
	var ascii, enc strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			enc.WriteByte(c)
		} else {
			fmt.Fprintf(&enc, "%%%02X", c)
		}
	}
	return fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, kind, ascii.String(), enc.String())
}
