package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/parleychat/parley/internal/desk"
)

//go:embed openapi.json
var openAPIDoc []byte

func openAPI(s *Server, w http.ResponseWriter, r *http.Request, _ desk.Actor) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(openAPIDoc)
	return nil
}
