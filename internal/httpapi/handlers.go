package httpapi

import (
	"net/http"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

// --- auth ---

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	User      userView `json:"user"`
	CSRFToken string   `json:"csrfToken"`
}

var errTooManyLogins = &parley.Error{Code: parley.ERATELIMITED, Message: "Too many sign-in attempts. Please wait and try again."}

func login(s *Server, w http.ResponseWriter, r *http.Request, _ desk.Actor) error {
	var in loginRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	ip := s.clientIP(r).String()
	account := parley.NormalizeEmail(in.Email)
	// A token is taken from both buckets before the password is checked, so
	// concurrent guesses cannot outrun the limit; a success gives them back.
	if !s.loginIP.take(ip) {
		return errTooManyLogins
	}
	if !s.loginAccount.take(account) {
		s.loginIP.give(ip)
		return errTooManyLogins
	}
	res, err := s.desk.Login(r.Context(), in.Email, in.Password, ip, r.UserAgent())
	if err != nil {
		if parley.IsCode(err, parley.EUNAUTHORIZED) {
			s.log.Info("failed sign-in", "ip", ip)
		} else {
			s.loginIP.give(ip)
			s.loginAccount.give(account)
		}
		return err
	}
	s.loginIP.give(ip)
	s.loginAccount.give(account)
	s.setSessionCookie(w, r, res.Token, res.Session.ExpiresAt)
	writeJSON(w, http.StatusOK, loginResponse{User: viewUser(res.User), CSRFToken: res.CSRFToken})
	return nil
}

func logout(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if err := s.desk.Logout(r.Context(), a); err != nil {
		return err
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type meResponse struct {
	User      userView `json:"user"`
	CSRFToken string   `json:"csrfToken,omitempty"`
}

func me(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	u, err := s.desk.Me(r.Context(), a)
	if err != nil {
		return err
	}
	out := meResponse{User: viewUser(u)}
	if a.Session != nil {
		out.CSRFToken = a.Session.CSRFToken
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type updateMeRequest struct {
	Name         *string              `json:"name"`
	Availability *parley.Availability `json:"availability"`
}

func updateMe(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in updateMeRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	u, err := s.desk.UpdateMe(r.Context(), a, desk.MeUpdate{Name: in.Name, Availability: in.Availability})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, meResponse{User: viewUser(u)})
	return nil
}

type passwordRequest struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

func changePassword(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in passwordRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := s.desk.ChangePassword(r.Context(), a, in.CurrentPassword, in.NewPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- visitors ---

type visitorRequest struct {
	Name     string          `json:"name"`
	Email    string          `json:"email"`
	Metadata parley.Metadata `json:"metadata"`
}

type visitorResponse struct {
	VisitorID string `json:"visitorId"`
	Token     string `json:"token"`
}

func createVisitor(s *Server, w http.ResponseWriter, r *http.Request, _ desk.Actor) error {
	var in visitorRequest
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	ip := s.clientIP(r).String()
	if !s.visitorIP.take(ip) {
		return parley.Errorf(parley.ERATELIMITED, "Too many new visitors from this address. Please wait and try again.")
	}
	v, err := s.desk.CreateVisitor(r.Context(), desk.VisitorInfo{Name: in.Name, Email: in.Email,
		UserAgent: r.UserAgent(), IP: ip, Metadata: in.Metadata})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, visitorResponse{VisitorID: v.Customer.ID, Token: v.Token})
	return nil
}

// --- conversations ---

type startRequest struct {
	Metadata parley.Metadata `json:"metadata"`
}

func startConversation(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in startRequest
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	c, created, err := s.desk.StartConversation(r.Context(), a, in.Metadata)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, viewConversation(c, a.IsVisitor()))
	return nil
}

func listConversations(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	q, err := query(r, "status", "assignee", "customer", "cursor", "limit")
	if err != nil {
		return err
	}
	st, err := statuses(q)
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", 1, parley.MaxPageSize)
	if err != nil {
		return err
	}
	p, err := s.desk.ListConversations(r.Context(), a, desk.ConversationQuery{Statuses: st,
		Assignee: q.Get("assignee"), Customer: q.Get("customer"), Cursor: q.Get("cursor"), Limit: int(limit)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewInbox(p, a.IsVisitor()))
	return nil
}

func seedInbox(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	q, err := query(r, "adminId", "status", "limit", "cursor")
	if err != nil {
		return err
	}
	st, err := statuses(q)
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", 1, parley.MaxPageSize)
	if err != nil {
		return err
	}
	p, err := s.desk.Inbox(r.Context(), a, q.Get("adminId"), st, q.Get("cursor"), int(limit))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewInbox(p, false))
	return nil
}

func getConversation(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	c, err := s.desk.GetConversation(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewConversation(c, a.IsVisitor()))
	return nil
}

type updateConversationRequest struct {
	Status parley.Status `json:"status"`
}

func updateConversation(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in updateConversationRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := requireField("status", string(in.Status)); err != nil {
		return err
	}
	c, err := s.desk.SetStatus(r.Context(), a, r.PathValue("id"), in.Status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewConversation(c, false))
	return nil
}

func deleteConversation(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if err := s.desk.DeleteConversation(r.Context(), a, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func claimConversation(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in struct{}
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	c, err := s.desk.Claim(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewConversation(c, false))
	return nil
}

type assignRequest struct {
	AssigneeID *string `json:"assigneeId"`
}

func assignConversation(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in assignRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.AssigneeID == nil {
		return parley.Errorf(parley.EINVALID, "assigneeId is required (\"\" returns the conversation to the queue).")
	}
	c, err := s.desk.Assign(r.Context(), a, r.PathValue("id"), *in.AssigneeID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewConversation(c, false))
	return nil
}

type transferRequest struct {
	ToAgentID string `json:"toAgentId"`
	Reason    string `json:"reason"`
	Force     bool   `json:"force"`
}

func transferConversation(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in transferRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := requireField("toAgentId", in.ToAgentID); err != nil {
		return err
	}
	c, err := s.desk.Transfer(r.Context(), a, r.PathValue("id"), desk.TransferInput{ToAgentID: in.ToAgentID, Reason: in.Reason, Force: in.Force})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewConversation(c, false))
	return nil
}

type readRequest struct {
	Seq *int64 `json:"seq"`
}

func markRead(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in readRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.Seq == nil {
		return parley.Errorf(parley.EINVALID, "seq is required.")
	}
	p, err := s.desk.MarkRead(r.Context(), a, r.PathValue("id"), *in.Seq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, participantView{ConversationID: p.ConversationID, LastReadSeq: p.LastReadSeq, LastSeenAt: p.LastSeenAt})
	return nil
}

// --- messages ---

type messagesResponse struct {
	Messages []messageView `json:"messages"`
}

func listMessages(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	q, err := query(r, "after", "before", "limit")
	if err != nil {
		return err
	}
	after, err := intParam(q, "after", 0, 1<<62)
	if err != nil {
		return err
	}
	before, err := intParam(q, "before", 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", 1, parley.MaxMessagePage)
	if err != nil {
		return err
	}
	ms, err := s.desk.ListMessages(r.Context(), a, r.PathValue("id"), desk.MessageQuery{After: after, Before: before, Limit: int(limit)})
	if err != nil {
		return err
	}
	out := messagesResponse{Messages: make([]messageView, 0, len(ms))}
	for _, m := range ms {
		out.Messages = append(out.Messages, viewMessage(m))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type postMessageRequest struct {
	Content         string      `json:"content"`
	Kind            parley.Kind `json:"kind"`
	ClientMessageID string      `json:"clientMessageId"`
}

func postMessage(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in postMessageRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	m, created, err := s.desk.SendMessage(r.Context(), a, desk.Outgoing{ConversationID: r.PathValue("id"),
		Content: in.Content, Kind: in.Kind, ClientMsgID: in.ClientMessageID})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, viewMessage(m))
	return nil
}

type seedSendRequest struct {
	ConversationID  string  `json:"conversationId"`
	SenderType      string  `json:"senderType"`
	Message         string  `json:"message"`
	Timestamp       *string `json:"timestamp"`
	ClientMessageID string  `json:"clientMessageId"`
}

type seedSendResponse struct {
	MessageID      string    `json:"messageId"`
	Status         string    `json:"status"`
	DeliveredAt    time.Time `json:"deliveredAt"`
	ConversationID string    `json:"conversationId"`
	Seq            int64     `json:"seq"`
}

// seedSenders maps the seed's sender types to Parley's.
var seedSenders = map[string]parley.SenderType{"customer": parley.SenderCustomer, "admin": parley.SenderAgent}

func seedSend(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in seedSendRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := requireField("conversationId", in.ConversationID); err != nil {
		return err
	}
	as, ok := seedSenders[in.SenderType]
	if !ok {
		return parley.Errorf(parley.EINVALID, "senderType must be customer or admin.")
	}
	if in.Timestamp == nil {
		return parley.Errorf(parley.EINVALID, "timestamp is required.")
	}
	ts, err := time.Parse(time.RFC3339Nano, *in.Timestamp)
	if err != nil {
		return parley.Errorf(parley.EINVALID, "timestamp must be an RFC 3339 date-time.")
	}
	m, created, err := s.desk.SendMessage(r.Context(), a, desk.Outgoing{ConversationID: in.ConversationID,
		Content: in.Message, ClientMsgID: in.ClientMessageID, As: as, ClientTime: &ts})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, seedSendResponse{MessageID: m.ID, Status: "sent", DeliveredAt: m.CreatedAt,
		ConversationID: m.ConversationID, Seq: m.Seq})
	return nil
}

// --- customers ---

type customersResponse struct {
	Customers  []customerView `json:"customers"`
	NextCursor string         `json:"nextCursor"`
}

func listCustomers(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	q, err := query(r, "email", "cursor", "limit")
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", 1, parley.MaxPageSize)
	if err != nil {
		return err
	}
	p, err := s.desk.ListCustomers(r.Context(), a, q.Get("email"), q.Get("cursor"), int(limit))
	if err != nil {
		return err
	}
	out := customersResponse{Customers: make([]customerView, 0, len(p.Customers)), NextCursor: p.NextCursor}
	for _, c := range p.Customers {
		out.Customers = append(out.Customers, viewCustomer(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func getCustomer(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	c, err := s.desk.GetCustomer(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewCustomer(c))
	return nil
}

// --- users ---

type usersResponse struct {
	Users []userView `json:"users"`
}

func listUsers(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	q, err := query(r, "role", "availability", "includeDisabled")
	if err != nil {
		return err
	}
	inc := false
	switch q.Get("includeDisabled") {
	case "", "false":
	case "true":
		inc = true
	default:
		return parley.Errorf(parley.EINVALID, "includeDisabled must be true or false.")
	}
	us, err := s.desk.ListUsers(r.Context(), a, desk.UserQuery{Role: parley.Role(q.Get("role")),
		Availability: parley.Availability(q.Get("availability")), IncludeDisabled: inc})
	if err != nil {
		return err
	}
	out := usersResponse{Users: make([]userView, 0, len(us))}
	for _, u := range us {
		out.Users = append(out.Users, viewUser(u))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createUserRequest struct {
	Email    string      `json:"email"`
	Name     string      `json:"name"`
	Password string      `json:"password"`
	Role     parley.Role `json:"role"`
	MaxChats int         `json:"maxChats"`
}

func createUser(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in createUserRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	u, err := s.desk.CreateUser(r.Context(), a, desk.NewUser{Email: in.Email, Name: in.Name, Password: in.Password,
		Role: in.Role, MaxChats: in.MaxChats})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewUser(u))
	return nil
}

func getUser(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	u, err := s.desk.GetUser(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewUser(u))
	return nil
}

type updateUserRequest struct {
	Email        *string              `json:"email"`
	Name         *string              `json:"name"`
	Password     *string              `json:"password"`
	Role         *parley.Role         `json:"role"`
	Availability *parley.Availability `json:"availability"`
	MaxChats     *int                 `json:"maxChats"`
	Disabled     *bool                `json:"disabled"`
}

func updateUser(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in updateUserRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	u, err := s.desk.UpdateUser(r.Context(), a, r.PathValue("id"), desk.UserChange{Email: in.Email, Name: in.Name,
		Password: in.Password, Role: in.Role, Availability: in.Availability, MaxChats: in.MaxChats, Disabled: in.Disabled})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewUser(u))
	return nil
}

// --- tokens ---

type tokensResponse struct {
	Tokens []tokenView `json:"tokens"`
}

func listTokens(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	ts, err := s.desk.ListTokens(r.Context(), a)
	if err != nil {
		return err
	}
	out := tokensResponse{Tokens: make([]tokenView, 0, len(ts))}
	for _, t := range ts {
		out.Tokens = append(out.Tokens, viewToken(t))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createTokenRequest struct {
	Name string `json:"name"`
}

func createToken(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	var in createTokenRequest
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	t, err := s.desk.CreateToken(r.Context(), a, in.Name)
	if err != nil {
		return err
	}
	v := viewToken(t.APIToken)
	v.Token = t.Token
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func revokeToken(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error {
	if err := s.desk.RevokeToken(r.Context(), a, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
