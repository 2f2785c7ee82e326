package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// readmeExample is a command from the README and the output shown under it.
type readmeExample struct {
	line    int
	command string
	output  string
}

// TestREADMEExamples runs every curl and grpcurl command of the README
// against a real server and checks that the output shown under it is what
// the server answers. Shown outputs may be abridged: every key and array
// element shown must be in the real output with the value shown.
func TestREADMEExamples(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	examples := parseREADME(string(data))
	// A curl and a grpcurl example for each route of the API.
	for _, route := range []struct{ rest, rpc string }{
		{"localhost:8080/v1/rulesets ", "/ListRulesets"}, {"localhost:8080/v1/rulesets/", "/GetRuleset"},
		{"/v1/audit ", "/Audit"}, {"/v1/check/elderly-care ", "/CheckElderlyCare"},
		{"/v1/check/health-facilities ", "/CheckHealthFacilities"}, {"/v1/check/parking ", "/CheckParking"},
		{"/v1/check/transit ", "/CheckTransit"}, {"/v1/check/bus-stop-coverage ", "/CheckBusStopCoverage"},
		{"/v1/gaps/bus-stop-coverage ", "/MapBusStopGaps"}, {"/v1/plan/bus-stops ", "/PlanBusStops"},
		{"localhost:8080/v1/samples ", "/GetSampleSettlement"},
	} {
		var curl, grpcurl bool
		for _, ex := range examples {
			curl = curl || strings.HasPrefix(ex.command, "curl ") && strings.Contains(ex.command+" ", route.rest)
			grpcurl = grpcurl || strings.HasPrefix(ex.command, "grpcurl ") && strings.Contains(ex.command, route.rpc+" ")
			grpcurl = grpcurl || strings.HasPrefix(ex.command, "grpcurl ") && strings.HasSuffix(ex.command, route.rpc)
		}
		if !curl || !grpcurl {
			t.Errorf("README.md lacks a curl (%v) or grpcurl (%v) example with output for %s / %s", curl, grpcurl, route.rest, route.rpc)
		}
	}
	srv := startTestServer(t)
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	for _, ex := range examples {
		t.Run(fmt.Sprintf("line%d", ex.line), func(t *testing.T) {
			args := shellWords(ex.command)
			var got []byte
			switch args[0] {
			case "curl":
				got = runCurl(t, args[1:], srv.HTTPAddr())
			case "grpcurl":
				got = runGRPCurl(t, args[1:], conn)
			default:
				t.Fatalf("unsupported command %q", args[0])
			}
			var want, have any
			if err := json.Unmarshal([]byte(ex.output), &want); err != nil {
				t.Fatalf("README line %d: shown output is not JSON: %v", ex.line, err)
			}
			if err := json.Unmarshal(got, &have); err != nil {
				t.Fatalf("README line %d: %s answered non-JSON %q", ex.line, args[0], got)
			}
			if path, ok := jsonSubset(want, have, "$"); !ok {
				t.Errorf("README line %d: `%s`\nshown output differs from the real one at %s\nreal output:\n%s", ex.line, ex.command, path, got)
			}
		})
	}
}

// startTestServer is the real server on loopback ports, stopped at the end of the test.
func startTestServer(t *testing.T) *Server {
	t.Helper()
	return startServer(t, Config{}).srv
}

// parseREADME pairs each fenced sh block holding one curl or grpcurl command
// with the fenced json block right after it.
func parseREADME(text string) []readmeExample {
	lines := strings.Split(text, "\n")
	var out []readmeExample
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```sh" {
			continue
		}
		start := i + 1
		var cmd []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			cmd = append(cmd, strings.TrimSuffix(strings.TrimSpace(lines[i]), "\\"))
		}
		command := strings.Join(cmd, " ")
		if !strings.HasPrefix(command, "curl ") && !strings.HasPrefix(command, "grpcurl ") {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j >= len(lines) || strings.TrimSpace(lines[j]) != "```json" {
			continue
		}
		var body []string
		for j++; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			body = append(body, lines[j])
		}
		out = append(out, readmeExample{line: start, command: command, output: strings.Join(body, "\n")})
		i = j
	}
	return out
}

// shellWords splits a command line the way sh would for the simple quoting
// the README uses: single quotes, and a `< file` redirection kept as two words.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func readBodyArg(t *testing.T, arg string) []byte {
	t.Helper()
	if !strings.HasPrefix(arg, "@") {
		return []byte(arg)
	}
	data, err := os.ReadFile(filepath.Join("..", strings.TrimPrefix(arg, "@")))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func runCurl(t *testing.T, args []string, httpAddr string) []byte {
	t.Helper()
	method := http.MethodGet
	var body []byte
	var url string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-s", "-sS":
		case "-X":
			i++
			method = args[i]
		case "-d", "--data-binary":
			i++
			body = readBodyArg(t, args[i])
			if method == http.MethodGet {
				method = http.MethodPost
			}
		default:
			if strings.HasPrefix(args[i], "-") {
				t.Fatalf("unsupported curl flag %q", args[i])
			}
			url = args[i]
		}
	}
	url = strings.Replace(strings.TrimPrefix(url, "http://"), "localhost:8080", httpAddr, 1)
	req, err := http.NewRequest(method, "http://"+url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runGRPCurl(t *testing.T, args []string, conn *grpc.ClientConn) []byte {
	t.Helper()
	var body []byte
	var method string
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "-plaintext":
		case args[i] == "-d":
			i++
			if args[i] != "@" {
				body = []byte(args[i])
			}
		case args[i] == "<":
			i++
			body = readBodyArg(t, "@"+args[i])
		case strings.HasPrefix(args[i], "-"):
			t.Fatalf("unsupported grpcurl flag %q", args[i])
		case strings.Contains(args[i], "/"):
			method = args[i]
		}
	}
	svc, name, _ := strings.Cut(method, "/")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		t.Fatalf("unknown service %q: %v", svc, err)
	}
	md := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(name))
	if md == nil {
		t.Fatalf("unknown method %q", method)
	}
	newMsg := func(fn protoreflect.FullName) proto.Message {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(fn)
		if err != nil {
			t.Fatal(err)
		}
		return mt.New().Interface()
	}
	req, resp := newMsg(md.Input().FullName()), newMsg(md.Output().FullName())
	if len(body) > 0 {
		if err := protojson.Unmarshal(body, req); err != nil {
			t.Fatalf("request body: %v", err)
		}
	}
	if err := conn.Invoke(context.Background(), "/"+svc+"/"+name, req, resp); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	out, err := protojson.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// jsonSubset reports whether want is contained in have: objects by key,
// arrays element by element in order (have may hold more elements), numbers
// equal to 1e-12 relative, other scalars equal. It returns the path of the
// first difference.
func jsonSubset(want, have any, path string) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return path, false
		}
		for k, v := range w {
			hv, ok := h[k]
			if !ok {
				return path + "." + k + " (missing)", false
			}
			if p, ok := jsonSubset(v, hv, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		h, ok := have.([]any)
		if !ok {
			return path, false
		}
		j := 0
		for i, v := range w {
			for ; j < len(h); j++ {
				if _, ok := jsonSubset(v, h[j], ""); ok {
					break
				}
			}
			if j == len(h) {
				return fmt.Sprintf("%s[%d]", path, i), false
			}
			j++
		}
		return "", true
	case float64:
		// Equal to the last few bits: a refactoring of the exact engine may
		// change the rounding of a covered area, never its value.
		h, ok := have.(float64)
		return path, ok && math.Abs(w-h) <= 1e-12*math.Max(math.Abs(w), math.Abs(h))
	default:
		return path, reflect.DeepEqual(want, have)
	}
}
