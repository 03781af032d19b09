// Package thumbnail makes small previews of image attachments: decoded once
// on the server, scaled with golang.org/x/image/draw, and re-encoded, so a
// preview carries no metadata of the original and weighs a few KiB. Callers
// check the image's dimensions (read from its header) before asking for a
// thumbnail: Make decodes the whole image.
package thumbnail

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // registers GIF for image.Decode
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers WebP
)

// Thumbnail is an encoded preview.
type Thumbnail struct {
	Data          []byte
	ContentType   string // image/jpeg for opaque images, image/png when transparency matters
	Width, Height int
}

// Make decodes the image r holds and returns it scaled to fit in a square of
// maxSide pixels (never enlarged), as a JPEG when it is opaque and a PNG
// otherwise. An animated image gives its first frame.
func Make(r io.Reader, maxSide int) (*Thumbnail, error) {
	src, _, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("thumbnail: decoding: %w", err)
	}
	b := src.Bounds()
	w, h := fit(b.Dx(), b.Dy(), maxSide)
	if w == 0 {
		return nil, fmt.Errorf("thumbnail: the image has no pixels")
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var out bytes.Buffer
	t := &Thumbnail{Width: w, Height: h}
	if opaque(dst) {
		t.ContentType = "image/jpeg"
		err = jpeg.Encode(&out, dst, &jpeg.Options{Quality: 82})
	} else {
		t.ContentType = "image/png"
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, dst)
	}
	if err != nil {
		return nil, fmt.Errorf("thumbnail: encoding: %w", err)
	}
	t.Data = out.Bytes()
	return t, nil
}

// fit scales w×h to fit in max×max, keeping the aspect ratio and at least
// one pixel each way.
func fit(w, h, max int) (int, int) {
	if w <= 0 || h <= 0 {
		return 0, 0
	}
	if w <= max && h <= max {
		return w, h
	}
	if w >= h {
		return max, int(maxInt64(1, int64(h)*int64(max)/int64(w)))
	}
	return int(maxInt64(1, int64(w)*int64(max)/int64(h))), max
}

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func opaque(m *image.NRGBA) bool {
	for i := 3; i < len(m.Pix); i += 4 {
		if m.Pix[i] != 0xff {
			return false
		}
	}
	return true
}
