package export

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/sfnt"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

// Page geometry, in points (A4).
const (
	pageW      = 595.28
	pageH      = 841.89
	margin     = 50.0
	footerH    = 24.0
	textW      = pageW - 2*margin
	bodySize   = 10.5
	metaSize   = 8.5
	headerSize = 10.0
	titleSize  = 17.0
)

// Font families registered in each document.
const (
	famRegular = "regular"
	famBold    = "bold"
	famCJK     = "cjk"
)

type rgb struct{ r, g, b uint8 }

var (
	colorText   = rgb{0x1f, 0x23, 0x28}
	colorMuted  = rgb{0x6a, 0x71, 0x7b}
	colorNote   = rgb{0x8a, 0x5a, 0x00}
	colorSystem = rgb{0x4a, 0x55, 0x68}
)

// pdfDoc lays out a transcript: its own line breaking and page breaks, and
// a font chosen for every character (Go's, else the CJK fallback).
type pdfDoc struct {
	gp      *gopdf.GoPdf
	regular *fontFace
	bold    *fontFace
	cjk     *fontFace // nil when the transcript needs no fallback
	buf     sfnt.Buffer
	y       float64
	page    int
	footer  string
	widths  map[widthKey]float64
	err     error
}

type widthKey struct {
	family string
	size   float64
	r      rune
}

// TranscriptPDF writes one conversation as a PDF document: a header with the
// customer, the agents and the times, the transfers (for the support team),
// then the timeline, every message with its time and author, notes and
// system lines marked, long lines wrapped and pages broken as needed.
func TranscriptPDF(w io.Writer, t *desk.Transcript) error {
	d, err := newPDF(t)
	if err != nil {
		return err
	}
	d.transcript(t)
	if d.err != nil {
		return d.err
	}
	_, err = d.gp.WriteTo(w)
	return err
}

func newPDF(t *desk.Transcript) (*pdfDoc, error) {
	reg, err := regularFace()
	if err != nil {
		return nil, err
	}
	bold, err := boldFace()
	if err != nil {
		return nil, err
	}
	d := &pdfDoc{gp: &gopdf.GoPdf{}, regular: reg, bold: bold, widths: map[widthKey]float64{},
		footer: "Parley transcript " + t.Conversation.ID}
	d.gp.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	d.gp.SetInfo(gopdf.PdfInfo{Title: "Conversation " + t.Conversation.ID, Creator: "Parley", Producer: "Parley",
		CreationDate: t.ExportedAt})
	if err := d.gp.AddTTFFontData(famRegular, reg.ttf); err != nil {
		return nil, err
	}
	if err := d.gp.AddTTFFontData(famBold, bold.ttf); err != nil {
		return nil, err
	}
	// The fallback is parsed into the document only when some character
	// needs it: most transcripts are spared 3.5 MB of font parsing.
	if d.needsFallback(t) {
		cjk, err := cjkFace()
		if err != nil {
			return nil, err
		}
		if err := d.gp.AddTTFFontData(famCJK, cjk.ttf); err != nil {
			return nil, err
		}
		d.cjk = cjk
	}
	d.newPage()
	return d, nil
}

func (d *pdfDoc) needsFallback(t *desk.Transcript) bool {
	check := func(s string) bool {
		for _, r := range s {
			if r > 0x2000 && !d.regular.has(&d.buf, r) {
				return true
			}
		}
		return false
	}
	if check(t.Customer.Name) || check(t.Customer.Email) {
		return true
	}
	for _, n := range t.Agents {
		if check(n) {
			return true
		}
	}
	for _, m := range t.Messages {
		if check(m.SearchText()) {
			return true
		}
	}
	for _, tr := range t.Transfers {
		if check(tr.Reason) {
			return true
		}
	}
	return false
}

func (d *pdfDoc) newPage() {
	d.gp.AddPage()
	d.page++
	d.y = margin
	d.setColor(colorMuted)
	d.drawLine(margin, pageH-margin+8, fmt.Sprintf("%s · page %d", d.footer, d.page), famRegular, metaSize)
}

// family picks the font for r: the style's own when it has the glyph, else
// the fallback when it has it, else the style's own (which shows a box).
func (d *pdfDoc) family(r rune, style string) string {
	face := d.regular
	if style == famBold {
		face = d.bold
	}
	if r < 0x2000 || face.has(&d.buf, r) || d.cjk == nil || !d.cjk.has(&d.buf, r) {
		return style
	}
	return famCJK
}

func (d *pdfDoc) setFont(family string, size float64) {
	if d.err == nil {
		d.err = d.gp.SetFont(family, "", size)
	}
}

func (d *pdfDoc) setColor(c rgb) { d.gp.SetTextColor(c.r, c.g, c.b) }

func (d *pdfDoc) runeWidth(r rune, style string, size float64) float64 {
	fam := d.family(r, style)
	k := widthKey{fam, size, r}
	if w, ok := d.widths[k]; ok {
		return w
	}
	d.setFont(fam, size)
	w, err := d.gp.MeasureTextWidth(string(r))
	if err != nil && d.err == nil {
		d.err = err
	}
	d.widths[k] = w
	return w
}

func (d *pdfDoc) textWidth(s, style string, size float64) float64 {
	var w float64
	for _, r := range s {
		w += d.runeWidth(r, style, size)
	}
	return w
}

// drawLine writes s on one line at (x, y), switching fonts where the
// characters need it.
func (d *pdfDoc) drawLine(x, y float64, s, style string, size float64) {
	var run strings.Builder
	runFam := ""
	flush := func() {
		if run.Len() == 0 || d.err != nil {
			run.Reset()
			return
		}
		text := run.String()
		d.setFont(runFam, size)
		d.gp.SetXY(x, y)
		if err := d.gp.Cell(nil, text); err != nil && d.err == nil {
			d.err = err
		}
		x += d.textWidth(text, style, size)
		run.Reset()
	}
	for _, r := range s {
		fam := d.family(r, style)
		if fam != runFam {
			flush()
			runFam = fam
		}
		run.WriteRune(r)
	}
	flush()
}

// wrap breaks a paragraph into lines no wider than width: at spaces, around
// ideographs (which take no spaces), and inside a word only when the word
// alone is wider than a line.
func (d *pdfDoc) wrap(s, style string, size, width float64) []string {
	var lines []string
	var line []rune
	var lineW float64
	// Pieces: a run of spaces, a word, or one ideograph.
	var pieces []string
	var cur []rune
	kind := 0 // 1 space, 2 word
	for _, r := range s {
		switch {
		case r == ' ':
			if kind != 1 && len(cur) > 0 {
				pieces = append(pieces, string(cur))
				cur = cur[:0]
			}
			kind = 1
			cur = append(cur, r)
		case isWide(r):
			if len(cur) > 0 {
				pieces = append(pieces, string(cur))
				cur = cur[:0]
			}
			pieces = append(pieces, string(r))
			kind = 0
		default:
			if kind != 2 && len(cur) > 0 {
				pieces = append(pieces, string(cur))
				cur = cur[:0]
			}
			kind = 2
			cur = append(cur, r)
		}
	}
	if len(cur) > 0 {
		pieces = append(pieces, string(cur))
	}
	emit := func() {
		lines = append(lines, strings.TrimRight(string(line), " "))
		line, lineW = line[:0], 0
	}
	for _, p := range pieces {
		pw := d.textWidth(p, style, size)
		if p[0] == ' ' {
			if len(line) > 0 {
				line = append(line, []rune(p)...)
				lineW += pw
			}
			continue
		}
		if lineW+pw <= width {
			line = append(line, []rune(p)...)
			lineW += pw
			continue
		}
		if len(line) > 0 {
			emit()
		}
		if pw <= width {
			line = append(line, []rune(p)...)
			lineW = pw
			continue
		}
		for _, r := range p { // a word wider than the line
			rw := d.runeWidth(r, style, size)
			if lineW+rw > width && len(line) > 0 {
				emit()
			}
			line = append(line, r)
			lineW += rw
		}
	}
	if len(line) > 0 || len(lines) == 0 {
		emit()
	}
	return lines
}

// isWide reports whether r is written without spaces around it (CJK), so a
// line may break before or after it.
func isWide(r rune) bool {
	if r < 0x2E80 {
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		(r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF)
}

// clean makes text printable: tabs become spaces, other control characters
// go, and line ends split paragraphs.
func clean(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t':
			b.WriteString("    ")
		case unicode.IsControl(r) || r == utf8Replacement:
		default:
			b.WriteRune(r)
		}
	}
	return strings.Split(b.String(), "\n")
}

const utf8Replacement = '\uFFFD'

// paragraph writes text wrapped at width from x, breaking pages as needed.
func (d *pdfDoc) paragraph(x float64, text, style string, size float64, c rgb) {
	lh := size * 1.4
	for _, para := range clean(text) {
		for _, ln := range d.wrap(para, style, size, textW-(x-margin)) {
			if d.y+lh > pageH-margin-footerH {
				d.newPage()
			}
			d.setColor(c)
			d.drawLine(x, d.y, ln, style, size)
			d.y += lh
		}
	}
}

func (d *pdfDoc) gap(h float64) { d.y += h }

func pdfTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func (d *pdfDoc) field(label, value string) {
	if value == "" {
		return
	}
	lh := headerSize * 1.45
	if d.y+lh > pageH-margin-footerH {
		d.newPage()
	}
	d.setColor(colorMuted)
	d.drawLine(margin, d.y, label, famBold, headerSize)
	start := d.y
	d.paragraph(margin+95, value, famRegular, headerSize, colorText)
	if d.y < start+lh {
		d.y = start + lh
	}
}

func (d *pdfDoc) rule() {
	d.gp.SetStrokeColor(0xd0, 0xd4, 0xd9)
	d.gp.SetLineWidth(0.6)
	d.gp.Line(margin, d.y, pageW-margin, d.y)
	d.y += 10
}

func (d *pdfDoc) transcript(t *desk.Transcript) {
	c, cu := t.Conversation, t.Customer
	d.paragraph(margin, "Conversation transcript", famBold, titleSize, colorText)
	d.gap(6)
	customer := cu.Name
	if customer == "" {
		customer = "Visitor"
	}
	if cu.Email != "" {
		customer += " <" + cu.Email + ">"
	}
	d.field("Customer", customer)
	d.field("Conversation", c.ID)
	d.field("Status", string(c.Status))
	if c.AssigneeID != "" {
		d.field("Assigned to", t.AgentName(c.AssigneeID))
	}
	var agents []string
	seen := map[string]bool{}
	for _, m := range t.Messages {
		if m.SenderType == parley.SenderAgent && !seen[m.SenderID] {
			seen[m.SenderID] = true
			agents = append(agents, t.AgentName(m.SenderID))
		}
	}
	d.field("Agents", strings.Join(agents, ", "))
	d.field("Started", pdfTime(c.CreatedAt))
	if c.LastMessageAt != nil {
		d.field("Last message", pdfTime(*c.LastMessageAt))
	}
	if c.ClosedAt != nil {
		d.field("Closed", pdfTime(*c.ClosedAt))
	}
	d.field("Messages", fmt.Sprint(len(t.Messages)))
	d.field("Exported", pdfTime(t.ExportedAt))
	d.gap(6)
	d.rule()

	if len(t.Transfers) > 0 {
		d.paragraph(margin, "Transfers", famBold, headerSize+1, colorText)
		d.gap(2)
		for _, tr := range t.Transfers {
			from := "the queue"
			if tr.FromAgentID != "" {
				from = t.AgentName(tr.FromAgentID)
			}
			line := fmt.Sprintf("%s  %s → %s, by %s", pdfTime(tr.CreatedAt), from, t.AgentName(tr.ToAgentID), t.AgentName(tr.ByUserID))
			if tr.Reason != "" {
				line += ": " + tr.Reason
			}
			d.paragraph(margin, line, famRegular, bodySize-1, colorSystem)
		}
		d.gap(6)
		d.rule()
	}

	if len(t.Messages) == 0 {
		d.paragraph(margin, "No messages.", famRegular, bodySize, colorMuted)
	}
	for _, m := range t.Messages {
		who := senderName(m, cu.Name, t.AgentName)
		color := colorText
		switch {
		case m.Kind == parley.KindNote:
			who = "Private note by " + who
			color = colorNote
		case m.SenderType == parley.SenderAgent:
			who += " (agent)"
		case m.SenderType == parley.SenderCustomer:
			who += " (customer)"
		case m.SenderType == parley.SenderSystem:
			color = colorSystem
		}
		if d.y+metaSize*1.4+bodySize*1.4 > pageH-margin-footerH {
			d.newPage() // keep a message's first line with its heading
		}
		d.paragraph(margin, fmt.Sprintf("#%d  %s  ·  %s", m.Seq, pdfTime(m.CreatedAt), who), famBold, metaSize, colorMuted)
		if m.Content != "" {
			d.paragraph(margin+8, m.Content, famRegular, bodySize, color)
		}
		for _, a := range m.Attachments {
			d.paragraph(margin+8, fmt.Sprintf("Attachment: %s (%s, %s)", a.Name, a.ContentType, sizeText(a.Size)), famRegular, bodySize-1, colorMuted)
		}
		d.gap(7)
	}
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
