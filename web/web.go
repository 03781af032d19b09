// Package web serves Parley's browser UI: the agent dashboard and the visitor
// widget, built by Vite into web/dist and embedded into the binary.
//
// Built with the `ui` tag the real bundle is embedded (make build does this
// after `npm run build`); without it a small page explains how to build the UI,
// so `go build ./...` works on a machine without Node.
package web

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Handler serves the UI files of fsys, falling back to index.html for client
// routes (/admin/chat/..., /widget) so that deep links load the app.
func Handler(fsys fs.FS) http.Handler {
	files := http.FileServer(http.FS(fsys))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if st, err := fs.Stat(fsys, name); err != nil || st.IsDir() {
			if path.Ext(name) != "" && !strings.HasSuffix(name, ".html") {
				http.NotFound(w, r)
				return
			}
			serveIndex(w, r, fsys)
			return
		}
		if strings.HasPrefix(name, "assets/") {
			// Vite puts a content hash in every asset name, so they never change.
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

func serveIndex(w http.ResponseWriter, r *http.Request, fsys fs.FS) {
	b, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}
