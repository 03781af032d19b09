// Package web serves Parley's browser UI: the agent dashboard and the visitor
// widget, built by Vite into web/dist and embedded into the binary.
//
// Built with the `ui` tag the real bundle is embedded (make build does this
// after `npm run build`); without it a small page explains how to build the UI,
// so `go build ./...` works on a machine without Node.
//
// The routes:
//
//	/widget.js     the loader sites paste: a stable name, so a short cache
//	/widget        the widget page the loader frames
//	/admin, /admin/...  the dashboard (its client routes all load admin.html)
//	/assets/...    hashed bundles, cached for a year
//	/              redirects to /admin
package web

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Cache lifetimes. The loader's name never changes, so browsers must come
// back for a new version soon; hashed assets never change at all.
const (
	loaderCache = "public, max-age=300"
	assetCache  = "public, max-age=31536000, immutable"
)

// Content-Security-Policy of the two pages. Both load only their own
// scripts and talk only to their own origin (REST and the socket); message
// text is never HTML, and this makes sure nothing injected could run. The
// widget's frame-ancestors (who may embed it) is a separate policy added by
// the server from the allowed origins; policies combine, so Add, not Set.
const (
	pageCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
	adminCSP = pageCSP + "; frame-ancestors 'self'"
)

// Handler serves the UI files of fsys. A build without the UI (the
// placeholder) has only index.html, which then answers every page.
func Handler(fsys fs.FS) http.Handler {
	files := http.FileServer(http.FS(fsys))
	admin := loadPage(fsys, "admin.html")
	widget := loadPage(fsys, "widget.html")
	loader, _ := fs.ReadFile(fsys, "widget.js")
	modTime := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		p := path.Clean(r.URL.Path)
		switch {
		case p == "/":
			http.Redirect(w, r, "/admin", http.StatusFound)
		case p == "/widget.js":
			if loader == nil {
				http.NotFound(w, r)
				return
			}
			h.Set("Content-Type", "text/javascript; charset=utf-8")
			h.Set("Cache-Control", loaderCache)
			// Any site may load the loader, also one that isolates itself (COEP).
			h.Set("Cross-Origin-Resource-Policy", "cross-origin")
			http.ServeContent(w, r, "widget.js", modTime, bytes.NewReader(loader))
		case p == "/widget":
			h.Add("Content-Security-Policy", pageCSP)
			servePage(w, r, widget)
		case p == "/admin" || strings.HasPrefix(p, "/admin/"):
			h.Set("X-Frame-Options", "SAMEORIGIN")
			h.Add("Content-Security-Policy", adminCSP)
			servePage(w, r, admin)
		case strings.HasPrefix(p, "/assets/"):
			name := strings.TrimPrefix(p, "/")
			if st, err := fs.Stat(fsys, name); err != nil || st.IsDir() {
				http.NotFound(w, r)
				return
			}
			// Vite puts a content hash in every asset name, so they never change.
			h.Set("Cache-Control", assetCache)
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
			files.ServeHTTP(w, r)
		default:
			name := strings.TrimPrefix(p, "/")
			// Other files at the top of the build (a favicon, robots.txt); never
			// the entry pages under another name, and never a directory listing.
			if strings.HasSuffix(name, ".html") || strings.Contains(name, "/") {
				http.NotFound(w, r)
				return
			}
			if st, err := fs.Stat(fsys, name); err != nil || st.IsDir() {
				http.NotFound(w, r)
				return
			}
			files.ServeHTTP(w, r)
		}
	})
}

// loadPage reads an entry page, or the placeholder's index.html in a build
// without the UI.
func loadPage(fsys fs.FS, name string) []byte {
	if b, err := fs.ReadFile(fsys, name); err == nil {
		return b
	}
	b, _ := fs.ReadFile(fsys, "index.html")
	return b
}

func servePage(w http.ResponseWriter, r *http.Request, b []byte) {
	if b == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page names the current hashed bundles: always ask for it again.
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}
