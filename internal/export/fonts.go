package export

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sync"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
)

// The fonts of PDF transcripts (fonts/README.md): Go Regular and Go Bold for
// Latin, Greek and Cyrillic, and a CJK fallback used, glyph by glyph, for
// whatever Go Regular lacks.

//go:embed fonts/NotoSansSC-Regular-subset.ttf.gz
var cjkFallbackGz []byte

// fontFace is one TrueType font: its bytes for the PDF, parsed for coverage.
type fontFace struct {
	ttf  []byte
	font *sfnt.Font
}

func parseFace(ttf []byte) (*fontFace, error) {
	f, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, err
	}
	return &fontFace{ttf: ttf, font: f}, nil
}

// has reports whether the font has a glyph for r. buf is the caller's own.
func (f *fontFace) has(buf *sfnt.Buffer, r rune) bool {
	g, err := f.font.GlyphIndex(buf, r)
	return err == nil && g != 0
}

var (
	regularFace = sync.OnceValues(func() (*fontFace, error) { return parseFace(goregular.TTF) })
	boldFace    = sync.OnceValues(func() (*fontFace, error) { return parseFace(gobold.TTF) })
	// cjkFace is unpacked the first time a transcript needs it, and kept.
	cjkFace = sync.OnceValues(func() (*fontFace, error) {
		zr, err := gzip.NewReader(bytes.NewReader(cjkFallbackGz))
		if err != nil {
			return nil, fmt.Errorf("cjk fallback font: %w", err)
		}
		ttf, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("cjk fallback font: %w", err)
		}
		return parseFace(ttf)
	})
)
