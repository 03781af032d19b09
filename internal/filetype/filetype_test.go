package filetype

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// detect runs both steps on a whole file, as an upload does.
func detect(b []byte) (Info, error) {
	head := b[:min(len(b), HeadSize)]
	t, err := Sniff(head)
	if err != nil {
		return Info{}, err
	}
	if t.Text {
		var c TextChecker
		c.Write(b)
		if err := c.Close(); err != nil {
			return Info{}, err
		}
	}
	return Inspect(bytes.NewReader(b), int64(len(b)), t, head)
}

func TestAccepted(t *testing.T) {
	big := bytes.Repeat([]byte("héllo wörld, ça va? 日本語 "), 400) // crosses HeadSize inside characters
	tests := []struct {
		name string
		data []byte
		want Type
		w, h int
	}{
		{"png", pngBytes(t, 30, 20), PNG, 30, 20},
		{"jpeg", jpegBytes(t, 16, 9), JPEG, 16, 9},
		{"gif", gifBytes(t, 5, 7), GIF, 5, 7},
		{"webp lossless", webpLossless, WebP, 1, 1},
		{"webp lossy", webpLossy, WebP, 1, 1},
		{"pdf", []byte("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"), PDF, 0, 0},
		{"text", []byte("order #1234\r\nthanks!\n"), Text, 0, 0},
		{"text with BOM", append([]byte("\xef\xbb\xbf"), "name,qty\nA,1\n"...), Text, 0, 0},
		{"long UTF-8 text", big, Text, 0, 0},
		{"text starting with <3", []byte("<3 thanks for the help"), Text, 0, 0},
		{"zip", zipBytes(t, [2]string{"a.txt", "hello"}), Zip, 0, 0},
		{"empty zip", zipBytes(t), Zip, 0, 0},
		{"docx", docxBytes(t), DOCX, 0, 0},
		{"xlsx", zipBytes(t, [2]string{"[Content_Types].xml", contentTypes("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")}), XLSX, 0, 0},
		{"pptx", zipBytes(t, [2]string{"[Content_Types].xml", contentTypes("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml")}), PPTX, 0, 0},
		{"odt", zipBytes(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.text"}, [2]string{"content.xml", "<x/>"}), ODT, 0, 0},
		{"ods", zipBytes(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}), ODS, 0, 0},
		{"odp", zipBytes(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.presentation"}), ODP, 0, 0},
		{"zip with other content types", zipBytes(t, [2]string{"[Content_Types].xml", contentTypes("application/epub+zip")}), Zip, 0, 0},
		{"doc", cfbBytes("WordDocument", "1Table"), DOC, 0, 0},
		{"xls", cfbBytes("Workbook"), XLS, 0, 0},
		{"xls 5", cfbBytes("Book"), XLS, 0, 0},
		{"ppt", cfbBytes("PowerPoint Document", "Current User"), PPT, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := detect(tt.data)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if info.ContentType != tt.want.ContentType {
				t.Errorf("content type %q, want %q", info.ContentType, tt.want.ContentType)
			}
			if info.Width != tt.w || info.Height != tt.h {
				t.Errorf("dimensions %d×%d, want %d×%d", info.Width, info.Height, tt.w, tt.h)
			}
			if info.Image != SafeInline(info.ContentType) {
				t.Errorf("Image %v but SafeInline %v", info.Image, SafeInline(info.ContentType))
			}
		})
	}
}

func TestRefused(t *testing.T) {
	png := pngBytes(t, 4, 4)
	gifar := append(gifBytes(t, 4, 4), zipBytes(t, [2]string{"META-INF/MANIFEST.MF", "Main-Class: X\n"})...)
	// A PNG whose text chunk carries a page: still a valid PNG.
	pngHTML := append(append([]byte{}, png[:33]...), pngChunk("tEXt", "Comment\x00<html><script>alert(1)</script>")...)
	pngHTML = append(pngHTML, png[33:]...)
	jpegPDF := append(jpegBytes(t, 4, 4)[:2], append([]byte("\xff\xfe\x00\x10%PDF-1.4 obj  "), jpegBytes(t, 4, 4)[2:]...)...)
	tests := []struct {
		name    string
		data    []byte
		code    string
		unsupp  bool   // carries ErrUnsupported (a 415)
		message string // part of the message
	}{
		{"empty", nil, parley.EINVALID, false, "empty"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>`), parley.EINVALID, true, "SVG"},
		{"svg with xml declaration", []byte("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), parley.EINVALID, true, "SVG"},
		{"svg after white space and BOM", []byte("\xef\xbb\xbf  \n<svg/>"), parley.EINVALID, true, "SVG"},
		{"html", []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script>"), parley.EINVALID, true, "HTML"},
		{"html fragment", []byte("<img src=x onerror=alert(1)>"), parley.EINVALID, true, "HTML"},
		{"closing tag first", []byte("</title><script>alert(1)</script>"), parley.EINVALID, true, "HTML"},
		{"windows executable", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 100)...), parley.EINVALID, true, "not accepted"},
		{"elf", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...), parley.EINVALID, true, "not accepted"},
		{"text with NUL", []byte("hello\x00world"), parley.EINVALID, true, "not accepted"},
		{"utf-16 text", []byte("\xff\xfeh\x00i\x00"), parley.EINVALID, true, "not accepted"},
		{"latin-1 text", []byte("caf\xe9 cr\xe8me"), parley.EINVALID, true, "not accepted"},
		{"text cut mid-character", []byte("ok \xe6\x97"), parley.EINVALID, true, "not accepted"},
		{"text with binary after the head", append(bytes.Repeat([]byte("a"), HeadSize+10), 0, 1, 2), parley.EINVALID, true, "not plain UTF-8"},
		{"damaged png", append(append([]byte{}, png[:8]...), "not a png at all"...), parley.EINVALID, true, "not a valid one"},
		{"truncated png", png[:20], parley.EINVALID, true, "not a valid one"},
		{"damaged gif", []byte("GIF89a\x01"), parley.EINVALID, true, "not a valid one"},
		{"damaged webp", []byte("RIFF\x20\x00\x00\x00WEBPVP8 junkjunkjunk"), parley.EINVALID, true, "not a valid one"},
		{"gifar", gifar, parley.EINVALID, true, "ZIP"},
		{"png carrying html", pngHTML, parley.EINVALID, true, "HTML"},
		{"jpeg carrying a pdf header", jpegPDF, parley.EINVALID, true, "PDF"},
		{"broken zip", []byte("PK\x03\x04 this is not really a zip"), parley.EINVALID, true, "ZIP"},
		{"docm", zipBytes(t, [2]string{"[Content_Types].xml", contentTypes("application/vnd.ms-word.document.macroEnabled.main+xml")}), parley.EINVALID, true, "macros"},
		{"doc with macros", cfbBytes("WordDocument", "Macros"), parley.EINVALID, true, "macros"},
		{"xls with macros", cfbBytes("Workbook", "_VBA_PROJECT_CUR"), parley.EINVALID, true, "macros"},
		{"compound file of no office kind", cfbBytes("Something"), parley.EINVALID, true, "not a Word"},
		{"damaged compound file", append(append([]byte{}, oleSig...), make([]byte, 30)...), parley.EINVALID, true, "damaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := detect(tt.data)
			if err == nil {
				t.Fatalf("accepted as %q", info.ContentType)
			}
			if parley.ErrorCode(err) != tt.code {
				t.Errorf("code %q (%v), want %q", parley.ErrorCode(err), err, tt.code)
			}
			if errors.Is(err, ErrUnsupported) != tt.unsupp {
				t.Errorf("ErrUnsupported in the chain: %v, want %v", errors.Is(err, ErrUnsupported), tt.unsupp)
			}
			if msg := parley.ErrorMessage(err); !strings.Contains(msg, tt.message) {
				t.Errorf("message %q does not say %q", msg, tt.message)
			}
		})
	}
}

// pngChunk encodes one PNG chunk (its CRC is not checked by DecodeConfig
// for ancillary chunks before IHDR's successors, but is right anyway).
func pngChunk(typ, data string) []byte {
	var b bytes.Buffer
	n := len(data)
	b.Write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	b.WriteString(typ)
	b.WriteString(data)
	crc := crc32IEEE([]byte(typ + data))
	b.Write([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	return b.Bytes()
}

func TestTextCheckerAcrossWrites(t *testing.T) {
	text := []byte("aé日𝄞z\r\n\t€ ok")
	for split := 0; split <= len(text); split++ {
		for split2 := split; split2 <= len(text); split2++ {
			var c TextChecker
			c.Write(text[:split])
			c.Write(text[split:split2])
			c.Write(text[split2:])
			if err := c.Close(); err != nil {
				t.Fatalf("valid text split at %d and %d refused: %v", split, split2, err)
			}
		}
	}
	bad := [][]byte{[]byte("a\x00b"), []byte("\xc3"), []byte("\xc3\x28"), []byte("\xed\xa0\x80"), []byte("\xf8\x88\x80\x80\x80"), []byte("ok\xff")}
	for _, b := range bad {
		for split := 0; split <= len(b); split++ {
			var c TextChecker
			c.Write(b[:split])
			c.Write(b[split:])
			if err := c.Close(); err == nil {
				t.Errorf("%q split at %d accepted", b, split)
			}
			if utf8.Valid(b) && !bytes.Contains(b, []byte{0}) {
				t.Fatalf("test data %q is valid", b)
			}
		}
	}
}

// FuzzDetect feeds arbitrary bytes through both steps: nothing panics, and
// whatever is accepted is on the allowlist, agrees with its own flags, and
// an accepted image has pixels.
func FuzzDetect(f *testing.F) {
	f.Add([]byte("hello"))
	f.Add(pngBytes(f, 3, 2))
	f.Add(jpegBytes(f, 3, 2))
	f.Add(gifBytes(f, 3, 2))
	f.Add(webpLossless)
	f.Add(webpLossy)
	f.Add(docxBytes(f))
	f.Add(cfbBytes("WordDocument"))
	f.Add([]byte("%PDF-1.4"))
	f.Add([]byte("<svg/>"))
	f.Add(append(gifBytes(f, 2, 2), zipBytes(f, [2]string{"a", "b"})...))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := detect(data)
		if err != nil {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("refusal with code %q: %v", parley.ErrorCode(err), err)
			}
			return
		}
		ok := false
		for _, a := range Accepted {
			if a.ContentType == info.ContentType {
				ok = true
			}
		}
		if !ok {
			t.Fatalf("accepted as %q, which is not on the allowlist", info.ContentType)
		}
		if info.Image != SafeInline(info.ContentType) {
			t.Fatalf("%q: Image %v", info.ContentType, info.Image)
		}
		if info.Image && (info.Width <= 0 || info.Height <= 0) {
			t.Fatalf("an accepted image of %d×%d", info.Width, info.Height)
		}
		if info.Text && (!utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0) {
			t.Fatalf("accepted as text: %q", data)
		}
		if len(info.Exts) == 0 {
			t.Fatalf("%q has no extension", info.ContentType)
		}
	})
}
