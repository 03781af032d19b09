package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/parleychat/parley"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	parley.EINVALID:      http.StatusBadRequest,
	parley.EUNAUTHORIZED: http.StatusUnauthorized,
	parley.EFORBIDDEN:    http.StatusForbidden,
	parley.ENOTFOUND:     http.StatusNotFound,
	parley.ECONFLICT:     http.StatusConflict,
	parley.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	parley.ERATELIMITED:  http.StatusTooManyRequests,
	parley.EUNAVAILABLE:  http.StatusServiceUnavailable,
	parley.EINTERNAL:     http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError answers with err's code and caller-safe message. Errors that are
// not *parley.Error, and internal ones, are logged and shown without detail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := parley.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = parley.EINTERNAL, http.StatusInternalServerError
	}
	msg := parley.ErrorMessage(err)
	if code == parley.EINTERNAL {
		msg = parley.ErrorMessage(parley.Errorf(parley.EINTERNAL, ""))
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else if code == parley.EUNAVAILABLE {
		s.log.Warn("dependency unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
	}
	writeJSON(w, status, errorBody{errorDetail{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Default().Error("encoding a response", "err", err)
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"Something went wrong on our side."}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
