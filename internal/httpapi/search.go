package httpapi

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/export"
)

// --- search ---

type snippetPartView struct {
	Text      string `json:"text"`
	Highlight bool   `json:"highlight,omitempty"`
}

type searchCustomerView struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

type searchMessageView struct {
	ID         string            `json:"id"`
	Seq        int64             `json:"seq"`
	SenderType parley.SenderType `json:"senderType"`
	SenderID   string            `json:"senderId,omitempty"`
	Kind       parley.Kind       `json:"kind"`
	CreatedAt  time.Time         `json:"createdAt"`
}

type searchHitView struct {
	Field        parley.SearchField `json:"field"`
	Score        float64            `json:"score"`
	Conversation conversationView   `json:"conversation"`
	Customer     searchCustomerView `json:"customer"`
	Message      *searchMessageView `json:"message"`
	Snippet      []snippetPartView  `json:"snippet"`
}

type searchResponse struct {
	Results    []searchHitView `json:"results"`
	NextCursor string          `json:"nextCursor"`
	Truncated  bool            `json:"truncated"`
}

func searchMessages(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	q, err := query(r, "q", "status", "agent", "from", "to", "cursor", "limit")
	if err != nil {
		return err
	}
	st, err := statuses(q)
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", 1, parley.MaxSearchPage)
	if err != nil {
		return err
	}
	from, to, err := timeRange(q)
	if err != nil {
		return err
	}
	if !q.Has("q") {
		return parley.Errorf(parley.EINVALID, "q is required.")
	}
	p, err := s.desk.Search(r.Context(), a, desk.SearchRequest{Text: q.Get("q"), Statuses: st, Agent: q.Get("agent"),
		From: from, To: to, Cursor: q.Get("cursor"), Limit: int(limit)})
	if err != nil {
		return err
	}
	out := searchResponse{Results: make([]searchHitView, 0, len(p.Hits)), NextCursor: p.NextCursor, Truncated: p.Truncated}
	for _, h := range p.Hits {
		v := searchHitView{Field: h.Field, Score: h.Score, Conversation: viewConversation(h.Conversation, false),
			Customer: searchCustomerView{Name: h.CustomerName, Email: h.CustomerEmail},
			Snippet:  make([]snippetPartView, 0, len(h.Snippet))}
		if m := h.Message; m != nil {
			v.Message = &searchMessageView{ID: m.ID, Seq: m.Seq, SenderType: m.SenderType, SenderID: m.SenderID,
				Kind: m.Kind, CreatedAt: m.CreatedAt}
		}
		for _, sp := range h.Snippet {
			v.Snippet = append(v.Snippet, snippetPartView{Text: sp.Text, Highlight: sp.Highlight})
		}
		out.Results = append(out.Results, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// timeRange reads from and to: RFC 3339 times, or dates (YYYY-MM-DD, UTC),
// where a date as to includes that whole day.
func timeRange(q url.Values) (from, to time.Time, err error) {
	parse := func(name string, end bool) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			if t.Year() < 1 || t.Year() > 9999 {
				return time.Time{}, parley.Errorf(parley.EINVALID, "%s is out of range.", name)
			}
			return t.UTC(), nil
		}
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			if end {
				t = t.AddDate(0, 0, 1)
			}
			return t, nil
		}
		return time.Time{}, parley.Errorf(parley.EINVALID, "%s must be an RFC 3339 time or a date (YYYY-MM-DD).", name)
	}
	if from, err = parse("from", false); err != nil {
		return
	}
	if to, err = parse("to", true); err != nil {
		return
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		err = parley.Errorf(parley.EINVALID, "from must be before to.")
	}
	return
}

// --- exports ---

// exportFormats are the formats of a transcript, with their content types.
var exportFormats = map[string]string{
	"pdf":  "application/pdf",
	"csv":  "text/csv; charset=utf-8; header=present",
	"json": "application/json; charset=utf-8",
}

func exportFormat(q url.Values, def string, allowed ...string) (string, error) {
	f := q.Get("format")
	if f == "" {
		f = def
	}
	for _, a := range allowed {
		if f == a {
			return f, nil
		}
	}
	return "", parley.Errorf(parley.EINVALID, "format must be %s.", strings.Join(allowed, ", "))
}

// attachment sets the headers of a download. The file name is made of ids
// and dates only, never of anything a user typed.
func attachment(w http.ResponseWriter, format, name string) {
	h := w.Header()
	h.Set("Content-Type", exportFormats[format])
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + "." + format}))
}

func exportConversation(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	q, err := query(r, "format")
	if err != nil {
		return err
	}
	format, err := exportFormat(q, "pdf", "pdf", "csv", "json")
	if err != nil {
		return err
	}
	t, err := s.desk.ExportTranscript(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	// A transcript is built whole before the first byte is sent, so a
	// failure is still an error answer, not a broken file.
	var b bytes.Buffer
	switch format {
	case "pdf":
		err = export.TranscriptPDF(&b, t)
	case "csv":
		err = export.TranscriptCSV(&b, t)
	case "json":
		err = export.TranscriptJSON(&b, t)
	}
	if err != nil {
		return parley.WrapError(parley.EINTERNAL, "httpapi.exportConversation", err)
	}
	attachment(w, format, "conversation-"+t.Conversation.ID+"-"+t.ExportedAt.Format("20060102"))
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
	return nil
}

// bulkWriter is what a bulk export writes through.
type bulkWriter interface {
	Conversation(*parley.Conversation, *parley.Customer) error
	Message(*parley.Message) error
	Flush() error
	Close() error
}

// exportWriteWindow is how long a bulk export may go without progress
// before the server gives up on the client; each flush extends it, so
// an export may take longer than the server's write timeout.
const exportWriteWindow = 2 * time.Minute

func exportConversations(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	q, err := query(r, "from", "to", "format")
	if err != nil {
		return err
	}
	format, err := exportFormat(q, "csv", "csv", "json")
	if err != nil {
		return err
	}
	from, to, err := timeRange(q)
	if err != nil {
		return err
	}
	ex, err := s.desk.StartExport(r.Context(), a, desk.ExportQuery{From: from, To: to})
	if err != nil {
		return err
	}
	name := "conversations-" + parley.Now().Format("20060102-150405")
	attachment(w, format, name)
	names := export.MapNames(ex.Agents)
	var out bulkWriter
	if format == "json" {
		out, err = export.NewJSON(w, names, from, to)
	} else {
		out, err = export.NewCSV(w, names)
	}
	if err != nil {
		return parley.WrapError(parley.EINTERNAL, "httpapi.exportConversations", err)
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
	n := 0
	progress := func() error {
		if n++; n%256 != 0 {
			return nil
		}
		if err := out.Flush(); err != nil {
			return err
		}
		rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	err = ex.Run(r.Context(), parley.ExportVisitor{
		Conversation: func(c *parley.Conversation, cu *parley.Customer) error {
			if err := out.Conversation(c, cu); err != nil {
				return err
			}
			return progress()
		},
		Message: func(m *parley.Message) error {
			if err := out.Message(m); err != nil {
				return err
			}
			return progress()
		},
	})
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		// The status line is gone: end the response without its final
		// chunk, so the client sees a cut transfer, not a short file that
		// looks whole.
		if r.Context().Err() == nil {
			s.log.Error("bulk export failed", "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}
