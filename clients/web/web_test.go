package web_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/civic-standards/coverage/clients/web"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

func get(t *testing.T, h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerServesAssets(t *testing.T) {
	h := web.Handler()
	for _, tc := range []struct{ path, contentType, contains string }{
		{"/", "text/html; charset=utf-8", `<script type="module" src="js/main.js"></script>`},
		{"/index.html", "text/html; charset=utf-8", "<html"},
		{"/js/main.js", "text/javascript; charset=utf-8", "import"},
		{"/js/map.js", "text/javascript; charset=utf-8", "export class MapView"},
		{"/css/app.css", "text/css; charset=utf-8", ".verdicts"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	} {
		rec := get(t, h, "GET", tc.path, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", tc.path, rec.Code)
			continue
		}
		if ct := rec.Header().Get("Content-Type"); ct != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, ct, tc.contentType)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); csp != web.ContentSecurityPolicy {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, csp)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q", tc.path, cc)
		}
		if rec.Header().Get("ETag") == "" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", tc.path, rec.Header())
		}
		if !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("GET %s: the body lacks %q", tc.path, tc.contains)
		}
	}
}

func TestHandlerPolicy(t *testing.T) {
	csp := web.ContentSecurityPolicy
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("the policy lacks %q: %s", want, csp)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "data:", "blob:", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("the policy allows %q: %s", bad, csp)
		}
	}
}

func TestHandlerRefuses(t *testing.T) {
	h := web.Handler()
	for _, p := range []string{"/nope.js", "/js/", "/js", "/css/", "/static/index.html", "/../web.go", "/web.go", "/js/main.js.map", "/index.htm"} {
		rec := get(t, h, "GET", p, nil)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "<a href") {
			t.Errorf("GET %s: looks like a directory listing: %s", p, rec.Body)
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy on the error", p)
		}
	}
	rec := get(t, h, "POST", "/", nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestHandlerRevalidates(t *testing.T) {
	h := web.Handler()
	first := get(t, h, "GET", "/js/main.js", nil)
	etag := first.Header().Get("ETag")
	again := get(t, h, "GET", "/js/main.js", map[string]string{"If-None-Match": etag})
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("GET with If-None-Match %s: %d, %d bytes", etag, again.Code, again.Body.Len())
	}
	head := get(t, h, "HEAD", "/", nil)
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("HEAD /: %d, %d bytes, %q", head.Code, head.Body.Len(), head.Header().Get("Content-Type"))
	}
}

// Every file shipped is served (an asset of an unknown type would be left
// out), and the page holds no inline script or style for the policy to
// refuse.
func TestAssetsAreServable(t *testing.T) {
	h := web.Handler()
	root := os.DirFS("static")
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if rec := get(t, h, "GET", "/"+p, nil); rec.Code != http.StatusOK {
			t.Errorf("static/%s is not served: %d", p, rec.Code)
		}
		if path.Ext(p) != ".html" {
			return nil
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		html := string(b)
		for _, m := range regexp.MustCompile(`<script\b[^>]*>`).FindAllString(html, -1) {
			if !strings.Contains(m, " src=") {
				t.Errorf("%s: inline script %s", p, m)
			}
		}
		for _, re := range []string{`\sstyle=`, `<style\b`, `\son[a-z]+=`, `https?://[^"\s]*(?:\.js|\.css)`} {
			if loc := regexp.MustCompile(re).FindString(html); loc != "" {
				t.Errorf("%s: %q is refused by the policy or loads from elsewhere", p, loc)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The scripts import only files that are there.
func TestModuleImportsResolve(t *testing.T) {
	h := web.Handler()
	files, err := fs.Glob(os.DirFS("static"), "js/*.js")
	if err != nil {
		t.Fatal(err)
	}
	imp := regexp.MustCompile(`(?m)^\s*import\b[^"']*["']([^"']+)["']|import\(["']([^"']+)["']\)`)
	for _, f := range files {
		b, err := os.ReadFile("static/" + f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range imp.FindAllStringSubmatch(string(b), -1) {
			target := m[1] + m[2]
			if !strings.HasPrefix(target, "./") {
				t.Errorf("%s imports %q: only files of the page, by relative path", f, target)
				continue
			}
			if rec := get(t, h, "GET", "/"+path.Join(path.Dir(f), target), nil); rec.Code != http.StatusOK {
				t.Errorf("%s imports %q, which is not served (%d)", f, target, rec.Code)
			}
		}
	}
}

// settlementColumns lists the scalar fields of Settlement as protojson paths
// with the type the page's readers give them, walking sub-messages as the
// batch CSV reader does.
func settlementColumns() map[string]string {
	out := map[string]string{}
	var walk func(md protoreflect.MessageDescriptor, prefix string)
	walk = func(md protoreflect.MessageDescriptor, prefix string) {
		for i := 0; i < md.Fields().Len(); i++ {
			fd := md.Fields().Get(i)
			name := prefix + fd.JSONName()
			if fd.IsList() || fd.IsMap() {
				if name == "busFleet.vehicles" {
					out[name] = "vehicles"
				}
				continue
			}
			switch fd.Kind() {
			case protoreflect.MessageKind:
				if !strings.HasPrefix(string(fd.Message().FullName()), "google.protobuf.") && fd.Message().FullName() != "coverage.v1.MultiPolygon" && fd.Message().FullName() != "coverage.v1.Positions" {
					walk(fd.Message(), name+".")
				}
			case protoreflect.EnumKind:
				out[name] = "enum:" + string(fd.Enum().Name())
			case protoreflect.BoolKind:
				out[name] = "bool"
			case protoreflect.StringKind:
				out[name] = "string"
			case protoreflect.Int64Kind:
				out[name] = "int64"
			case protoreflect.DoubleKind:
				out[name] = "double"
			default:
				out[name] = fd.Kind().String()
			}
		}
	}
	walk((&coveragev1.Settlement{}).ProtoReflect().Descriptor(), "")
	return out
}

// The page's list of settlement fields (static/js/fields.js), which drives
// its form and its file readers, is the proto's.
func TestFieldsMatchTheProto(t *testing.T) {
	b, err := os.ReadFile("static/js/fields.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	start := strings.Index(src, "export const SETTLEMENT_FIELDS = [")
	end := strings.Index(src[start:], "];")
	if start < 0 || end < 0 {
		t.Fatal("fields.js has no SETTLEMENT_FIELDS list")
	}
	page := map[string]string{}
	for _, m := range regexp.MustCompile(`\["([A-Za-z0-9.]+)", "([A-Za-z0-9:]+)"\]`).FindAllStringSubmatch(src[start:start+end], -1) {
		page[m[1]] = m[2]
	}
	proto := settlementColumns()
	var diffs []string
	for name, typ := range proto {
		if page[name] != typ {
			diffs = append(diffs, "proto "+name+" "+typ+", page "+page[name])
		}
	}
	for name, typ := range page {
		if _, ok := proto[name]; !ok {
			diffs = append(diffs, "page "+name+" "+typ+", not in the proto")
		}
	}
	sort.Strings(diffs)
	for _, d := range diffs {
		t.Error(d)
	}
	// The enums the page offers are the proto's.
	enums := map[string]protoreflect.EnumDescriptor{
		"SettlementKind":   coveragev1.SettlementKind(0).Descriptor(),
		"CoordinateSystem": coveragev1.CoordinateSystem(0).Descriptor(),
	}
	for name, ed := range enums {
		var values []string
		for i := 0; i < ed.Values().Len(); i++ {
			values = append(values, `"`+string(ed.Values().Get(i).Name())+`"`)
		}
		re := regexp.MustCompile(name + `: \[([^\]]*)\]`)
		m := re.FindStringSubmatch(src)
		if m == nil {
			t.Errorf("fields.js has no %s list", name)
			continue
		}
		got := strings.Join(strings.Fields(strings.ReplaceAll(m[1], ",", " ")), " ")
		if got != strings.Join(values, " ") {
			t.Errorf("fields.js %s: %s, the proto has %s", name, got, strings.Join(values, " "))
		}
	}
}
