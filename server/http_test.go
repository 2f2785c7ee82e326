package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer collects log output from the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestHTTPStatuses: what the gateway answers itself gets the right HTTP
// status, a JSON google.rpc.Status body, and an access-log line.
func TestHTTPStatuses(t *testing.T) {
	logs := &lockedBuffer{}
	ts := startServer(t, Config{MaxMessageBytes: 4096, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	base := ts.base

	big := `{"settlement":{"id":"` + strings.Repeat("x", 5000) + `"}}`
	cases := []struct {
		name, method, path, body string
		status                   int
		message                  string
	}{
		{"body over the limit", http.MethodPost, "/v1/audit", big, http.StatusRequestEntityTooLarge, "4096 bytes"},
		{"wrong method", http.MethodGet, "/v1/audit", "", http.StatusMethodNotAllowed, "method GET is not allowed"},
		{"wrong method on a check", http.MethodPut, "/v1/check/parking", "{}", http.StatusMethodNotAllowed, "not allowed"},
		{"unknown path", http.MethodGet, "/v1/nothing", "", http.StatusNotFound, "Not Found"},
		{"empty body", http.MethodPost, "/v1/audit", "", http.StatusBadRequest, ""},
		{"a JSON array", http.MethodPost, "/v1/audit", "[]", http.StatusBadRequest, "invalid JSON body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Errorf("HTTP %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			var st struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatalf("body is not a JSON status: %s", body)
			}
			if !strings.Contains(st.Message, c.message) {
				t.Errorf("message %q does not contain %q", st.Message, c.message)
			}
		})
	}
	// Every request above left an access-log line with its status.
	for _, want := range []string{`"http.status":413`, `"http.status":405`, `"http.status":404`, `"http.path":"/v1/nothing"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("access log lacks %s", want)
		}
	}
}
