//go:build ui

package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed all:dist
var dist embed.FS

// Built reports whether the real UI bundle is embedded.
const Built = true

// UI returns the handler for the embedded browser UI.
func UI() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return Handler(sub)
}
