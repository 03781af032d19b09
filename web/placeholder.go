//go:build !ui

package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed placeholder
var placeholder embed.FS

// Built reports whether the real UI bundle is embedded.
const Built = false

// UI returns the handler for the browser UI: here, a page explaining that the
// UI is not part of this build.
func UI() http.Handler {
	sub, err := fs.Sub(placeholder, "placeholder")
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return Handler(sub)
}
