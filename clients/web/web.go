package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed static
var static embed.FS

// contentTypes covers every extension shipped under static; a file with any
// other extension is not served, so an asset added without thought cannot go
// out sniffed as something else.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
	".png":  "image/png",
	".txt":  "text/plain; charset=utf-8",
}

// ContentSecurityPolicy is sent with every asset. Everything comes from the
// page's own origin, scripts only from files (no inline code, no eval), and
// the page may not be framed: it shows official figures, which a framing
// page could dress up as its own.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets is read once: the files are in the binary and never change while it
// runs, so their ETags are computed once too.
var assets = sync.OnceValues(func() (map[string]*asset, error) {
	m := map[string]*asset{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return nil
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		m[strings.TrimPrefix(p, "static")] = &asset{body: body, contentType: ct,
			etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	return m, err
})

// Handler serves the web client: index.html at "/", the scripts, styles and
// images under their paths, and 404 for anything else (there are no directory
// listings). It is meant to be mounted at "/" beside the API, whose routes
// it leaves alone.
func Handler() http.Handler {
	files, err := assets()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if err != nil {
			http.Error(w, "the web client's files could not be read", http.StatusInternalServerError)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		if p == "/" {
			p = "/index.html"
		}
		a, ok := files[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", a.etag)
		// The assets have no fingerprint in their names, so a browser must
		// ask again each time; the ETag makes that a 304 without a body.
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(a.body))
	})
}
