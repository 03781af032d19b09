package httpapi

import (
	"net/http"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

// The agents' workflow: transfer history, ratings, quick replies, SOP
// documents and their pins, reports.

// --- views ---

type agentRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ref shows a user reference; nil (JSON null) when there is none.
func ref(id, name string) *agentRef {
	if id == "" {
		return nil
	}
	return &agentRef{ID: id, Name: name}
}

type transferView struct {
	ID        string    `json:"id"`
	From      *agentRef `json:"fromAgent"`
	To        *agentRef `json:"toAgent"`
	By        *agentRef `json:"by"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"createdAt"`
}

type ratingView struct {
	ConversationID string    `json:"conversationId"`
	Score          int       `json:"score"`
	Comment        string    `json:"comment"`
	CreatedAt      time.Time `json:"createdAt"`
}

func viewRating(r *parley.Rating) *ratingView {
	if r == nil {
		return nil
	}
	return &ratingView{ConversationID: r.ConversationID, Score: r.Score, Comment: r.Comment, CreatedAt: r.CreatedAt}
}

type quickReplyView struct {
	ID        string    `json:"id"`
	Shortcut  string    `json:"shortcut"`
	Text      string    `json:"text"`
	Shared    bool      `json:"shared"`
	OwnerID   *string   `json:"ownerId"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func viewQuickReply(q *parley.QuickReply) quickReplyView {
	v := quickReplyView{ID: q.ID, Shortcut: q.Shortcut, Text: q.Text, Shared: q.OwnerID == "",
		CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt}
	if q.OwnerID != "" {
		v.OwnerID = &q.OwnerID
	}
	return v
}

type sopView struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Body      *string   `json:"body,omitempty"` // left out of lists
	Tags      []string  `json:"tags"`
	Version   int       `json:"version"`
	CreatedBy *string   `json:"createdBy"`
	UpdatedBy *string   `json:"updatedBy"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func tagsOf(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

func viewSOP(d *parley.SOPDocument, withBody bool) sopView {
	v := sopView{ID: d.ID, Title: d.Title, Tags: tagsOf(d.Tags), Version: d.Version,
		CreatedBy: optional(d.CreatedBy), UpdatedBy: optional(d.UpdatedBy), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if withBody {
		body := d.Body
		v.Body = &body
	}
	return v
}

type sopVersionView struct {
	Version   int       `json:"version"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Tags      []string  `json:"tags"`
	ChangedBy *string   `json:"changedBy"`
	ChangedAt time.Time `json:"changedAt"`
}

type pinnedSOPView struct {
	SOP      sopView   `json:"sop"`
	PinnedBy *string   `json:"pinnedBy"`
	PinnedAt time.Time `json:"pinnedAt"`
}

// --- transfers ---

type transfersResponse struct {
	Transfers []transferView `json:"transfers"`
}

func listTransfers(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if _, err := query(r); err != nil {
		return err
	}
	ts, err := s.desk.ListTransfers(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := transfersResponse{Transfers: make([]transferView, 0, len(ts))}
	for _, t := range ts {
		out.Transfers = append(out.Transfers, transferView{ID: t.ID, From: ref(t.FromAgentID, t.FromName),
			To: ref(t.ToAgentID, t.ToName), By: ref(t.ByUserID, t.ByName), Reason: t.Reason, CreatedAt: t.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// --- ratings ---

type rateRequest struct {
	Score   *int   `json:"score"`
	Comment string `json:"comment"`
}

func rateConversation(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in rateRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.Score == nil {
		return parley.Errorf(parley.EINVALID, "score is required (1 to 5).")
	}
	rt, err := s.desk.RateConversation(r.Context(), a, r.PathValue("id"), *in.Score, in.Comment)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewRating(rt))
	return nil
}

type ratingResponse struct {
	Rating *ratingView `json:"rating"`
}

func getRating(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if _, err := query(r); err != nil {
		return err
	}
	rt, err := s.desk.Rating(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ratingResponse{Rating: viewRating(rt)})
	return nil
}

// --- quick replies ---

type quickRepliesResponse struct {
	QuickReplies []quickReplyView `json:"quickReplies"`
}

func listQuickReplies(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if _, err := query(r); err != nil {
		return err
	}
	qs, err := s.desk.ListQuickReplies(r.Context(), a)
	if err != nil {
		return err
	}
	out := quickRepliesResponse{QuickReplies: make([]quickReplyView, 0, len(qs))}
	for _, q := range qs {
		out.QuickReplies = append(out.QuickReplies, viewQuickReply(q))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type quickReplyRequest struct {
	Shortcut string `json:"shortcut"`
	Text     string `json:"text"`
	Shared   bool   `json:"shared"`
}

func createQuickReply(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in quickReplyRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	q, err := s.desk.CreateQuickReply(r.Context(), a, desk.NewQuickReply{Shortcut: in.Shortcut, Text: in.Text, Shared: in.Shared})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewQuickReply(q))
	return nil
}

type quickReplyPatch struct {
	Shortcut *string `json:"shortcut"`
	Text     *string `json:"text"`
}

func updateQuickReply(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in quickReplyPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	q, err := s.desk.UpdateQuickReply(r.Context(), a, r.PathValue("id"), parley.QuickReplyUpdate{Shortcut: in.Shortcut, Text: in.Text})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewQuickReply(q))
	return nil
}

func deleteQuickReply(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if err := s.desk.DeleteQuickReply(r.Context(), a, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type expandRequest struct {
	ConversationID string `json:"conversationId"`
}

type expandResponse struct {
	Text string `json:"text"`
}

func expandQuickReply(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in expandRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := requireField("conversationId", in.ConversationID); err != nil {
		return err
	}
	text, err := s.desk.ExpandQuickReply(r.Context(), a, r.PathValue("id"), in.ConversationID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, expandResponse{Text: text})
	return nil
}

// --- SOP documents ---

type sopsResponse struct {
	SOPs []sopView `json:"sops"`
}

func listSOPs(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	q, err := query(r, "q", "tag", "limit")
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", 1, parley.MaxPageSize)
	if err != nil {
		return err
	}
	ds, err := s.desk.SearchSOPs(r.Context(), a, parley.SOPFilter{Query: q.Get("q"), Tag: q.Get("tag"), Limit: int(limit)})
	if err != nil {
		return err
	}
	out := sopsResponse{SOPs: make([]sopView, 0, len(ds))}
	for _, d := range ds {
		out.SOPs = append(out.SOPs, viewSOP(d, false))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type sopRequest struct {
	Title string   `json:"title"`
	Body  string   `json:"body"`
	Tags  []string `json:"tags"`
}

func createSOP(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in sopRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	d, err := s.desk.CreateSOP(r.Context(), a, desk.NewSOP{Title: in.Title, Body: in.Body, Tags: in.Tags})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewSOP(d, true))
	return nil
}

func getSOP(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if _, err := query(r); err != nil {
		return err
	}
	d, err := s.desk.GetSOP(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSOP(d, true))
	return nil
}

type sopPatch struct {
	Title         *string  `json:"title"`
	Body          *string  `json:"body"`
	Tags          []string `json:"tags"`
	ExpectVersion *int     `json:"expectVersion"`
}

func updateSOP(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in sopPatch
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.ExpectVersion == nil {
		return parley.Errorf(parley.EINVALID, "expectVersion is required: the version the change was made on.")
	}
	d, err := s.desk.UpdateSOP(r.Context(), a, r.PathValue("id"), desk.SOPChange{Title: in.Title, Body: in.Body,
		Tags: in.Tags, ExpectVersion: *in.ExpectVersion})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSOP(d, true))
	return nil
}

func deleteSOP(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if err := s.desk.DeleteSOP(r.Context(), a, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type sopVersionsResponse struct {
	Versions []sopVersionView `json:"versions"`
}

func listSOPVersions(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if _, err := query(r); err != nil {
		return err
	}
	vs, err := s.desk.SOPVersions(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := sopVersionsResponse{Versions: make([]sopVersionView, 0, len(vs))}
	for _, v := range vs {
		out.Versions = append(out.Versions, sopVersionView{Version: v.Version, Title: v.Title, Body: v.Body,
			Tags: tagsOf(v.Tags), ChangedBy: optional(v.ChangedBy), ChangedAt: v.ChangedAt})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type pinnedSOPsResponse struct {
	SOPs []pinnedSOPView `json:"sops"`
}

func listPinnedSOPs(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if _, err := query(r); err != nil {
		return err
	}
	ps, err := s.desk.PinnedSOPs(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := pinnedSOPsResponse{SOPs: make([]pinnedSOPView, 0, len(ps))}
	for _, p := range ps {
		out.SOPs = append(out.SOPs, pinnedSOPView{SOP: viewSOP(p.Document, false), PinnedBy: optional(p.PinnedBy), PinnedAt: p.PinnedAt})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func pinSOP(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in struct{}
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	if err := s.desk.PinSOP(r.Context(), a, r.PathValue("id"), r.PathValue("sopId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func unpinSOP(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if err := s.desk.UnpinSOP(r.Context(), a, r.PathValue("id"), r.PathValue("sopId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- reports ---

type durationView struct {
	Count         int     `json:"count"`
	MedianSeconds float64 `json:"medianSeconds"`
	P90Seconds    float64 `json:"p90Seconds"`
}

type satisfactionView struct {
	Count   int     `json:"count"`
	Average float64 `json:"average"`
	// Distribution[i] counts the ratings of i+1.
	Distribution [5]int `json:"distribution"`
}

type statsView struct {
	Started       int              `json:"started"`
	Closed        int              `json:"closed"`
	FirstResponse durationView     `json:"firstResponse"`
	Resolution    durationView     `json:"resolution"`
	Satisfaction  satisfactionView `json:"satisfaction"`
}

type agentStatsView struct {
	AgentID string `json:"agentId"`
	Name    string `json:"name"`
	statsView
}

type queueView struct {
	At      time.Time `json:"at"`
	Waiting int       `json:"waiting"`
}

type reportView struct {
	From    time.Time        `json:"from"`
	To      time.Time        `json:"to"`
	Bucket  string           `json:"bucket"`
	Overall statsView        `json:"overall"`
	Agents  []agentStatsView `json:"agents"`
	Queue   []queueView      `json:"queue"`
}

func viewDuration(d parley.DurationStats) durationView {
	return durationView{Count: d.Count, MedianSeconds: d.Median.Seconds(), P90Seconds: d.P90.Seconds()}
}

func viewStats(st parley.ReportStats) statsView {
	return statsView{Started: st.Started, Closed: st.Closed, FirstResponse: viewDuration(st.FirstResponse),
		Resolution: viewDuration(st.Resolution), Satisfaction: satisfactionView{Count: st.Satisfaction.Count,
			Average: st.Satisfaction.Average(), Distribution: st.Satisfaction.Distribution}}
}

var buckets = map[string]time.Duration{"hour": time.Hour, "day": 24 * time.Hour}

func reportSummary(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	q, err := query(r, "from", "to", "bucket")
	if err != nil {
		return err
	}
	var f parley.ReportFilter
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v := q.Get(p.name)
		if v == "" {
			return parley.Errorf(parley.EINVALID, "%s is required (an RFC 3339 date-time).", p.name)
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return parley.Errorf(parley.EINVALID, "%s must be an RFC 3339 date-time.", p.name)
		}
		*p.dst = t
	}
	bucket := q.Get("bucket")
	if bucket == "" {
		bucket = "hour"
	}
	if f.Bucket = buckets[bucket]; f.Bucket == 0 {
		return parley.Errorf(parley.EINVALID, "bucket must be hour or day.")
	}
	rep, err := s.desk.Report(r.Context(), a, f)
	if err != nil {
		return err
	}
	out := reportView{From: rep.From, To: rep.To, Bucket: bucket, Overall: viewStats(rep.Overall),
		Agents: make([]agentStatsView, 0, len(rep.Agents)), Queue: make([]queueView, 0, len(rep.Queue))}
	for _, ag := range rep.Agents {
		out.Agents = append(out.Agents, agentStatsView{AgentID: ag.AgentID, Name: ag.Name, statsView: viewStats(ag.ReportStats)})
	}
	for _, qs := range rep.Queue {
		out.Queue = append(out.Queue, queueView{At: qs.At, Waiting: qs.Waiting})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
