package filetype

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"image"
	_ "image/gif"  // registers GIF for image.DecodeConfig
	_ "image/jpeg" // registers JPEG
	_ "image/png"  // registers PNG
	"io"
	"strings"
	"unicode/utf16"

	_ "golang.org/x/image/webp" // registers WebP
)

// Info is what Inspect found.
type Info struct {
	Type
	// Width and Height of an image, read from its header (never decoded).
	Width, Height int
}

// Pixels returns Width × Height.
func (i Info) Pixels() int64 { return int64(i.Width) * int64(i.Height) }

// Inspect confirms the type Sniff gave for the whole file (size bytes read
// through r; head is its start) and refines it: an image's header is read
// for its format and dimensions and the polyglot rule applied, a ZIP is
// told apart from the office documents built on it, a compound document is
// named Word, Excel or PowerPoint. Refusals carry ErrUnsupported.
func Inspect(r io.ReaderAt, size int64, t Type, head []byte) (Info, error) {
	switch {
	case t.Image:
		return inspectImage(r, size, t, head)
	case t.container == zipFile:
		return inspectZip(r, size)
	case t.container == oleFile:
		return inspectOLE(r, size)
	}
	return Info{Type: t}, nil
}

var formats = map[string]Type{"png": PNG, "jpeg": JPEG, "gif": GIF, "webp": WebP}

func inspectImage(r io.ReaderAt, size int64, t Type, head []byte) (Info, error) {
	name := strings.ToUpper(t.Exts[0])
	cfg, format, err := image.DecodeConfig(io.NewSectionReader(r, 0, size))
	if err != nil || formats[format].ContentType != t.ContentType {
		return Info{}, refuse("The file starts like a %s image but is not a valid one.", name)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, refuse("The %s image has no pixels.", name)
	}
	if polyglotHead(head) {
		return Info{}, refuse("The %s image also holds HTML, SVG or PDF content, which is not accepted.", name)
	}
	if _, ok := findEOCD(r, size); ok {
		return Info{}, refuse("The %s image also holds a ZIP archive (a polyglot file), which is not accepted.", name)
	}
	return Info{Type: t, Width: cfg.Width, Height: cfg.Height}, nil
}

// eocd is a ZIP's end of central directory record.
type eocd struct {
	entries  int
	dirSize  int64
	dirStart int64
}

// findEOCD looks for a well-formed end of central directory record in the
// last 64 KiB + 22 bytes, where ZIP readers look: its comment must run
// exactly to the end of the file and its directory must lie before it.
func findEOCD(r io.ReaderAt, size int64) (eocd, bool) {
	const minLen, maxComment = 22, 65535
	if size < minLen {
		return eocd{}, false
	}
	n := min(size, minLen+maxComment)
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return eocd{}, false
	}
	for i := len(buf) - minLen; i >= 0; i-- {
		if buf[i] != 'P' || !bytes.Equal(buf[i:i+4], []byte("PK\x05\x06")) {
			continue
		}
		rec := buf[i:]
		comment := int(binary.LittleEndian.Uint16(rec[20:22]))
		if minLen+comment != len(rec) {
			continue
		}
		e := eocd{entries: int(binary.LittleEndian.Uint16(rec[10:12])),
			dirSize: int64(binary.LittleEndian.Uint32(rec[12:16])), dirStart: int64(binary.LittleEndian.Uint32(rec[16:20]))}
		pos := size - n + int64(i)
		if e.entries == 0xffff || e.dirStart == 0xffffffff { // ZIP64: sizes live elsewhere
			return e, true
		}
		if e.dirStart+e.dirSize > pos {
			continue
		}
		return e, true
	}
	return eocd{}, false
}

// maxOfficeEntries bounds the directories parsed to tell office documents
// from plain archives: archive/zip keeps every entry in memory, and office
// files hold a few hundred at most.
const maxOfficeEntries = 5000

var (
	ooxmlMain = []struct {
		marker string
		t      Type
	}{
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", DOCX},
		{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", XLSX},
		{"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml", PPTX},
	}
	odfTypes = map[string]Type{ODT.ContentType: ODT, ODS.ContentType: ODS, ODP.ContentType: ODP}
)

func inspectZip(r io.ReaderAt, size int64) (Info, error) {
	e, ok := findEOCD(r, size)
	if !ok {
		return Info{}, refuse("The file starts like a ZIP archive but is not a valid one.")
	}
	if e.entries > maxOfficeEntries || e.entries == 0xffff {
		return Info{Type: Zip}, nil
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Info{}, refuse("The file starts like a ZIP archive but is not a valid one.")
	}
	for _, f := range zr.File {
		switch f.Name {
		case "[Content_Types].xml":
			ct, err := readEntry(f, 1<<20)
			if err != nil {
				return Info{}, refuse("The office document is damaged.")
			}
			if strings.Contains(strings.ToLower(ct), "macroenabled") {
				return Info{}, refuse("Office documents with macros are not accepted.")
			}
			for _, m := range ooxmlMain {
				if strings.Contains(ct, m.marker) {
					return Info{Type: m.t}, nil
				}
			}
			return Info{Type: Zip}, nil
		case "mimetype":
			mt, err := readEntry(f, 200)
			if err != nil {
				return Info{Type: Zip}, nil
			}
			if t, ok := odfTypes[strings.TrimSpace(mt)]; ok {
				return Info{Type: t}, nil
			}
		}
	}
	return Info{Type: Zip}, nil
}

// readEntry reads at most max bytes of a ZIP entry (decompressed), failing
// when it holds more: no entry is ever inflated past that.
func readEntry(f *zip.File, max int64) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return "", err
	}
	if int64(len(b)) > max {
		return "", io.ErrShortBuffer
	}
	return string(b), nil
}

// Compound File Binary (the legacy Office container): a FAT file system in a
// file. Only the directory is read, to find the streams that name the
// application and the storages that hold macros.
const cfbEndOfChain = 0xfffffffe

func inspectOLE(r io.ReaderAt, size int64) (Info, error) {
	damaged := refuse("The file starts like an Office 97-2003 document but is damaged.")
	var hdr [512]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return Info{}, damaged
	}
	shift := binary.LittleEndian.Uint16(hdr[0x1e:])
	if shift != 9 && shift != 12 {
		return Info{}, damaged
	}
	ss := int64(1) << shift
	// Every walk below is bounded by the number of sectors the file has, so
	// a chain that loops in a crafted file ends.
	maxSteps := int(size/ss) + 1
	sector := func(n uint32) int64 { return (int64(n) + 1) * ss }
	// The FAT's sectors: 109 listed in the header, the rest in a DIFAT chain.
	var fatSectors []uint32
	for i := 0; i < 109; i++ {
		if s := binary.LittleEndian.Uint32(hdr[0x4c+4*i:]); s < 0xfffffffa {
			fatSectors = append(fatSectors, s)
		}
	}
	difat := binary.LittleEndian.Uint32(hdr[0x44:])
	buf := make([]byte, ss)
	for steps := 0; difat < 0xfffffffa && steps < maxSteps; steps++ {
		if sector(difat)+ss > size {
			return Info{}, damaged
		}
		if _, err := r.ReadAt(buf, sector(difat)); err != nil {
			return Info{}, damaged
		}
		for i := int64(0); i < ss/4-1 && len(fatSectors) < maxSteps; i++ {
			if s := binary.LittleEndian.Uint32(buf[4*i:]); s < 0xfffffffa {
				fatSectors = append(fatSectors, s)
			}
		}
		difat = binary.LittleEndian.Uint32(buf[ss-4:])
	}
	perSector := uint32(ss / 4)
	fatBuf := make([]byte, ss)
	cached := -1
	next := func(s uint32) (uint32, bool) {
		i := int(s / perSector)
		if i >= len(fatSectors) {
			return 0, false
		}
		if i != cached {
			if sector(fatSectors[i])+ss > size {
				return 0, false
			}
			if _, err := r.ReadAt(fatBuf, sector(fatSectors[i])); err != nil {
				return 0, false
			}
			cached = i
		}
		return binary.LittleEndian.Uint32(fatBuf[4*(s%perSector):]), true
	}
	names := map[string]bool{}
	dir := binary.LittleEndian.Uint32(hdr[0x30:])
	for steps := 0; dir != cfbEndOfChain; steps++ {
		if steps >= maxSteps || sector(dir)+ss > size {
			return Info{}, damaged
		}
		if _, err := r.ReadAt(buf, sector(dir)); err != nil {
			return Info{}, damaged
		}
		for off := int64(0); off+128 <= ss; off += 128 {
			e := buf[off : off+128]
			l := int(binary.LittleEndian.Uint16(e[64:66]))
			if e[66] == 0 || l < 2 || l > 64 {
				continue
			}
			u := make([]uint16, l/2-1)
			for i := range u {
				u[i] = binary.LittleEndian.Uint16(e[2*i:])
			}
			names[string(utf16.Decode(u))] = true
		}
		var ok bool
		if dir, ok = next(dir); !ok {
			return Info{}, damaged
		}
	}
	if names["Macros"] || names["_VBA_PROJECT_CUR"] || names["_VBA_PROJECT"] || names["VBA"] {
		return Info{}, refuse("Office documents with macros are not accepted.")
	}
	switch {
	case names["WordDocument"]:
		return Info{Type: DOC}, nil
	case names["Workbook"], names["Book"]:
		return Info{Type: XLS}, nil
	case names["PowerPoint Document"]:
		return Info{Type: PPT}, nil
	}
	return Info{}, refuse("The compound document is not a Word, Excel or PowerPoint file; it is not accepted.")
}
