package filetype

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
	"unicode/utf16"
)

// Fixtures are made here, from the standard encoders and by hand, so every
// byte a test feeds the detector is visible in the code.

func pngBytes(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func gifBytes(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White})
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// webpLossless and webpLossy are 1×1 WebP images (the lossless and lossy
// probes browsers' feature tests use).
var (
	webpLossless = mustB64("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	webpLossy    = mustB64("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")
)

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// zipBytes builds a ZIP with the given entries, in order.
func zipBytes(tb testing.TB, entries ...[2]string) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.Create(e[0])
		if err != nil {
			tb.Fatal(err)
		}
		w.Write([]byte(e[1]))
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func contentTypes(main string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="` + main + `"/>
</Types>`
}

func docxBytes(tb testing.TB) []byte {
	return zipBytes(tb, [2]string{"[Content_Types].xml", contentTypes("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")},
		[2]string{"word/document.xml", "<w:document/>"})
}

// cfbBytes builds a minimal compound document (version 3, 512-byte
// sectors): sector 0 holds the FAT, sector 1 the directory with a root
// entry and the named streams.
func cfbBytes(streams ...string) []byte {
	const ss = 512
	out := make([]byte, 512+2*ss)
	h := out[:512]
	copy(h, oleSig)
	binary.LittleEndian.PutUint16(h[0x18:], 0x3e)
	binary.LittleEndian.PutUint16(h[0x1a:], 3)
	binary.LittleEndian.PutUint16(h[0x1c:], 0xfffe)
	binary.LittleEndian.PutUint16(h[0x1e:], 9)
	binary.LittleEndian.PutUint16(h[0x20:], 6)
	binary.LittleEndian.PutUint32(h[0x2c:], 1)          // FAT sectors
	binary.LittleEndian.PutUint32(h[0x30:], 1)          // first directory sector
	binary.LittleEndian.PutUint32(h[0x38:], 4096)       // mini stream cutoff
	binary.LittleEndian.PutUint32(h[0x3c:], 0xfffffffe) // no mini FAT
	binary.LittleEndian.PutUint32(h[0x44:], 0xfffffffe) // no DIFAT chain
	for i := 0; i < 109; i++ {
		binary.LittleEndian.PutUint32(h[0x4c+4*i:], 0xffffffff)
	}
	binary.LittleEndian.PutUint32(h[0x4c:], 0) // the FAT is sector 0
	fat := out[512 : 512+ss]
	for i := 0; i < ss/4; i++ {
		binary.LittleEndian.PutUint32(fat[4*i:], 0xffffffff)
	}
	binary.LittleEndian.PutUint32(fat[0:], 0xfffffffd) // FAT sector
	binary.LittleEndian.PutUint32(fat[4:], 0xfffffffe) // directory: one sector
	dir := out[512+ss:]
	entry := func(i int, name string, typ byte) {
		e := dir[128*i : 128*(i+1)]
		u := utf16.Encode([]rune(name))
		for j, c := range u {
			binary.LittleEndian.PutUint16(e[2*j:], c)
		}
		binary.LittleEndian.PutUint16(e[64:], uint16(2*len(u)+2))
		e[66] = typ
	}
	entry(0, "Root Entry", 5)
	for i, s := range streams {
		if i < 3 {
			entry(i+1, s, 2)
		}
	}
	return out
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
