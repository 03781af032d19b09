// Package filetype tells what a file is from its bytes, never from its name
// or from the Content-Type a client sent, and refuses what Parley does not
// accept. The allowlist: raster images (PNG, JPEG, GIF, WebP), PDF, office
// documents (Word, Excel and PowerPoint, both OOXML and the legacy binary
// formats, and OpenDocument), UTF-8 text and ZIP archives.
//
// Detection runs in two steps, so an upload can stream: Sniff looks at the
// first bytes (HeadSize of them) before anything is stored, and refuses
// early; Inspect then reads what it needs of the whole stored file (a ZIP's
// directory, a compound document's directory, an image's header) to confirm
// the type and name it precisely. Text must also pass a TextChecker over
// every byte.
//
// The polyglot rule: an image must be only an image. One whose first KiB
// holds HTML or SVG markup or a PDF header (where browsers and PDF readers
// look), or that ends in a ZIP directory (where ZIP and JAR readers look: a
// GIFAR), is refused. SVG, HTML and XML are never accepted, as images or as
// text.
package filetype

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// HeadSize is how many leading bytes Sniff wants (fewer when the file is
// shorter).
const HeadSize = 4096

// ErrUnsupported is in the chain of every refusal of a type, so transports
// can answer 415 to it.
var ErrUnsupported = errors.New("unsupported file type")

// Type is one kind of file Parley accepts.
type Type struct {
	ContentType string // as served: the detected type, never the client's
	// Exts are the extensions a file of this type may be named with; the
	// first is the one a name without a fitting extension gets.
	Exts  []string
	Image bool // a raster image: shown inline, with a thumbnail
	Text  bool // every byte must pass a TextChecker
	// container types need Inspect to confirm and refine them.
	container container
}

type container int

const (
	plain container = iota
	zipFile
	oleFile
)

// The accepted types.
var (
	PNG  = Type{ContentType: "image/png", Exts: []string{"png"}, Image: true}
	JPEG = Type{ContentType: "image/jpeg", Exts: []string{"jpg", "jpeg", "jfif"}, Image: true}
	GIF  = Type{ContentType: "image/gif", Exts: []string{"gif"}, Image: true}
	WebP = Type{ContentType: "image/webp", Exts: []string{"webp"}, Image: true}
	PDF  = Type{ContentType: "application/pdf", Exts: []string{"pdf"}}
	Text = Type{ContentType: "text/plain; charset=utf-8", Exts: []string{"txt", "text", "csv", "tsv", "md", "markdown", "log", "json"}, Text: true}
	Zip  = Type{ContentType: "application/zip", Exts: []string{"zip"}, container: zipFile}

	DOCX = Type{ContentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Exts: []string{"docx"}}
	XLSX = Type{ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Exts: []string{"xlsx"}}
	PPTX = Type{ContentType: "application/vnd.openxmlformats-officedocument.presentationml.presentation", Exts: []string{"pptx"}}
	ODT  = Type{ContentType: "application/vnd.oasis.opendocument.text", Exts: []string{"odt"}}
	ODS  = Type{ContentType: "application/vnd.oasis.opendocument.spreadsheet", Exts: []string{"ods"}}
	ODP  = Type{ContentType: "application/vnd.oasis.opendocument.presentation", Exts: []string{"odp"}}
	DOC  = Type{ContentType: "application/msword", Exts: []string{"doc"}}
	XLS  = Type{ContentType: "application/vnd.ms-excel", Exts: []string{"xls"}}
	PPT  = Type{ContentType: "application/vnd.ms-powerpoint", Exts: []string{"ppt"}}

	// ole is a compound document before Inspect names it.
	ole = Type{ContentType: "application/x-ole-storage", container: oleFile}
)

// Accepted lists every type a file may end up as, for documentation and tests.
var Accepted = []Type{PNG, JPEG, GIF, WebP, PDF, Text, Zip, DOCX, XLSX, PPTX, ODT, ODS, ODP, DOC, XLS, PPT}

// SafeInline reports whether a file of content type ct may be shown inline
// in a browser: the raster images, which no browser runs as a document.
func SafeInline(ct string) bool {
	switch ct {
	case PNG.ContentType, JPEG.ContentType, GIF.ContentType, WebP.ContentType:
		return true
	}
	return false
}

// Refuse returns the error of a refused type: EINVALID with msg, carrying
// ErrUnsupported.
func refuse(format string, args ...any) error {
	return &parley.Error{Code: parley.EINVALID, Op: "filetype", Message: fmt.Sprintf(format, args...), Err: ErrUnsupported}
}

const allowed = "Accepted are images (PNG, JPEG, GIF, WebP), PDF, office documents, plain text and ZIP archives."

var (
	pngSig  = []byte("\x89PNG\r\n\x1a\n")
	jpegSig = []byte("\xff\xd8\xff")
	oleSig  = []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
	utf8BOM = []byte("\xef\xbb\xbf")
)

// Sniff tells from head, the first HeadSize bytes of a file (all of it when
// shorter), what the file claims to be. Anything off the allowlist is
// refused (EINVALID carrying ErrUnsupported), with a message that says what
// it looks like and what is accepted. An empty head is EINVALID too.
func Sniff(head []byte) (Type, error) {
	if len(head) == 0 {
		return Type{}, parley.Errorf(parley.EINVALID, "The file is empty.")
	}
	switch {
	case bytes.HasPrefix(head, pngSig):
		return PNG, nil
	case bytes.HasPrefix(head, jpegSig):
		return JPEG, nil
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return GIF, nil
	case len(head) >= 16 && string(head[:4]) == "RIFF" && string(head[8:15]) == "WEBPVP8":
		return WebP, nil
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return PDF, nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return Zip, nil
	case bytes.HasPrefix(head, oleSig):
		return ole, nil
	}
	if looksLikeText(head) {
		if markup(head) {
			return Type{}, refuse("HTML, XML and SVG files are not accepted. " + allowed)
		}
		return Text, nil
	}
	what := http.DetectContentType(head)
	what, _, _ = strings.Cut(what, ";")
	switch what {
	case "image/svg+xml", "text/html", "text/xml":
		return Type{}, refuse("HTML, XML and SVG files are not accepted. " + allowed)
	case "application/octet-stream":
		return Type{}, refuse("This kind of file is not accepted. " + allowed)
	}
	return Type{}, refuse("Files of type %s are not accepted. %s", what, allowed)
}

// looksLikeText reports whether head is valid UTF-8 without NUL, allowing a
// character cut by the end of the head (the rest of it is still to come).
func looksLikeText(head []byte) bool {
	b := bytes.TrimPrefix(head, utf8BOM)
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	if utf8.Valid(b) {
		return true
	}
	if len(head) < HeadSize {
		return false
	}
	// Up to 3 trailing bytes may start a character the head cut.
	for cut := 1; cut <= 3 && cut <= len(b); cut++ {
		if utf8.Valid(b[:len(b)-cut]) && !utf8.FullRune(b[len(b)-cut:]) {
			return true
		}
	}
	return false
}

// markup reports whether text starts (after a BOM and white space) like
// HTML, XML or SVG: a '<' followed by a letter, '!', '?' or '/'. Browsers
// sniff such files as documents, so they are refused outright, even though
// Parley would serve them as text/plain with nosniff.
func markup(head []byte) bool {
	b := bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n\f\v")
	if len(b) < 2 || b[0] != '<' {
		return false
	}
	c := b[1]
	return c == '!' || c == '?' || c == '/' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// imageMarkers are what makes an image also something else in the first KiB,
// where browsers sniffing documents and PDF readers look.
var imageMarkers = [][]byte{
	[]byte("<html"), []byte("<!doctype"), []byte("<script"), []byte("<svg"), []byte("<body"),
	[]byte("<iframe"), []byte("<head"), []byte("<meta"), []byte("<object"), []byte("<embed"),
	[]byte("%pdf-"),
}

// polyglotHead reports whether an image's head also reads as a document.
func polyglotHead(head []byte) bool {
	h := bytes.ToLower(head[:min(len(head), 1024)])
	for _, m := range imageMarkers {
		if bytes.Contains(h, m) {
			return true
		}
	}
	return false
}

// TextChecker checks, written a piece at a time, that a stream is valid
// UTF-8 with no NUL. Close reports a character the end cut.
type TextChecker struct {
	carry [4]byte // the start of a character split across writes
	nc    int
	err   error
}

var errNotText = refuse("The file is not plain UTF-8 text (it holds binary data). " + allowed)

// Write checks p. Once the stream failed, every Write fails.
func (c *TextChecker) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n := len(p)
	if c.nc > 0 {
		for len(p) > 0 && !utf8.FullRune(c.carry[:c.nc]) {
			c.carry[c.nc] = p[0]
			c.nc++
			p = p[1:]
		}
		if !utf8.FullRune(c.carry[:c.nc]) {
			return n, nil // p ended inside the character too
		}
		if r, size := utf8.DecodeRune(c.carry[:c.nc]); r == utf8.RuneError && size == 1 {
			c.err = errNotText
			return 0, c.err
		}
		c.nc = 0
	}
	if bytes.IndexByte(p, 0) >= 0 {
		c.err = errNotText
		return 0, c.err
	}
	tail := 0
	for i := 1; i <= 3 && i <= len(p); i++ {
		if utf8.RuneStart(p[len(p)-i]) {
			if !utf8.FullRune(p[len(p)-i:]) {
				tail = i
			}
			break
		}
	}
	if !utf8.Valid(p[:len(p)-tail]) {
		c.err = errNotText
		return 0, c.err
	}
	c.nc = copy(c.carry[:], p[len(p)-tail:])
	return n, nil
}

// Close reports whether the stream ended well.
func (c *TextChecker) Close() error {
	if c.err == nil && c.nc > 0 {
		c.err = errNotText
	}
	return c.err
}
