package thumbnail

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

func encode(tb testing.TB, img image.Image, format string) []byte {
	tb.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestMake(t *testing.T) {
	opaqueImg := image.NewRGBA(image.Rect(0, 0, 1200, 600))
	for i := range opaqueImg.Pix {
		opaqueImg.Pix[i] = 255
	}
	clear := image.NewNRGBA(image.Rect(0, 0, 90, 400)) // transparent
	small := image.NewPaletted(image.Rect(0, 0, 40, 30), color.Palette{color.Black, color.White})
	tests := []struct {
		name   string
		data   []byte
		ct     string
		w, h   int
		format string
	}{
		{"wide opaque png", encode(t, opaqueImg, "png"), "image/jpeg", 320, 160, "jpeg"},
		{"tall transparent png", encode(t, clear, "png"), "image/png", 72, 320, "png"},
		{"jpeg", encode(t, opaqueImg, "jpeg"), "image/jpeg", 320, 160, "jpeg"},
		{"small gif is not enlarged", encode(t, small, "gif"), "image/jpeg", 40, 30, "jpeg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, err := Make(bytes.NewReader(tt.data), 320)
			if err != nil {
				t.Fatal(err)
			}
			if th.ContentType != tt.ct || th.Width != tt.w || th.Height != tt.h {
				t.Errorf("got %s %d×%d, want %s %d×%d", th.ContentType, th.Width, th.Height, tt.ct, tt.w, tt.h)
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(th.Data))
			if err != nil || format != tt.format || cfg.Width != tt.w || cfg.Height != tt.h {
				t.Errorf("the thumbnail decodes as %s %d×%d (%v)", format, cfg.Width, cfg.Height, err)
			}
		})
	}
	if _, err := Make(bytes.NewReader([]byte("not an image")), 320); err == nil {
		t.Error("Make of garbage succeeded")
	}
}

func TestFit(t *testing.T) {
	for _, c := range [][5]int{{1000, 1, 320, 320, 1}, {1, 1000, 320, 1, 320}, {320, 320, 320, 320, 320}, {0, 5, 320, 0, 0}} {
		if w, h := fit(c[0], c[1], c[2]); w != c[3] || h != c[4] {
			t.Errorf("fit(%d, %d, %d) = %d, %d; want %d, %d", c[0], c[1], c[2], w, h, c[3], c[4])
		}
	}
}
