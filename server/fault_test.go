package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/bench/scenarios"
	"github.com/civic-standards/coverage/coverage/geo"
	"github.com/civic-standards/coverage/internal/race"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// handlerFrame is how the stream handler appears in a goroutine dump.
const handlerFrame = "server.(*Service).AuditStream("

// goroutinesRunning counts the goroutines whose stack holds frame.
func goroutinesRunning(frame string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, frame) {
			count++
		}
	}
	return count
}

// waitFor polls cond until it holds or the time is up, and says which.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); ; {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStreamClientGoneFreesServer: a client that leaves in the middle of an
// AuditStream, politely or not, must not leave its handler (and what the
// handler holds: the ruleset, the summary) behind on a server that runs for
// months; and once the server stops, nothing of it may be left running.
func TestStreamClientGoneFreesServer(t *testing.T) {
	type leaving struct {
		cancel context.CancelFunc
		conn   *grpc.ClientConn
		tcp    net.Conn
	}
	for _, tc := range []struct {
		name  string
		leave func(l leaving)
	}{
		{"context cancelled", func(l leaving) { l.cancel() }},
		{"client connection closed", func(l leaving) { l.conn.Close() }},
		// No RST_STREAM, no GOAWAY: only the socket's end tells the server.
		{"TCP connection dropped", func(l leaving) { l.tcp.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Captured before the server exists, so that whatever the server
			// starts and fails to stop is reported.
			preexisting := goleak.IgnoreCurrent()
			ts := startServer(t, Config{})

			var mu sync.Mutex
			var tcp net.Conn
			conn, err := grpc.NewClient(ts.srv.GRPCAddr(),
				grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
					c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
					mu.Lock()
					tcp = c
					mu.Unlock()
					return c, err
				}))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			client := coveragev1.NewCoverageServiceClient(conn)
			// Connected, and counted with the connection up, before the stream.
			if _, err := client.ListRulesets(rpcContext(t), &coveragev1.ListRulesetsRequest{}); err != nil {
				t.Fatal(err)
			}
			baseline := runtime.NumGoroutine()
			if n := goroutinesRunning(handlerFrame); n != 0 {
				t.Fatalf("%d stream handlers running before any stream", n)
			}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream, err := client.AuditStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := stream.Send(&coveragev1.AuditStreamRequest{Settlement: batchTown(fmt.Sprint(i), 1)}); err != nil {
					t.Fatal(err)
				}
				if _, err := stream.Recv(); err != nil {
					t.Fatal(err)
				}
			}
			// The handler now waits in Recv for a fourth settlement.
			if n := goroutinesRunning(handlerFrame); n != 1 {
				t.Fatalf("%d stream handlers running mid-stream, want 1", n)
			}

			mu.Lock()
			raw := tcp
			mu.Unlock()
			left := time.Now()
			tc.leave(leaving{cancel: cancel, conn: conn, tcp: raw})

			if !waitFor(time.Second, func() bool { return goroutinesRunning(handlerFrame) == 0 }) {
				t.Errorf("the stream handler still runs 1 s after its client left")
			} else {
				t.Logf("handler returned %v after the client left", time.Since(left).Round(time.Millisecond))
			}
			var now int
			if !waitFor(time.Second, func() bool { now = runtime.NumGoroutine(); return now <= baseline }) {
				t.Errorf("%d goroutines 1 s after the client left, %d before the stream opened", now, baseline)
			}

			// The server goes on serving others.
			if _, err := ts.client.Audit(rpcContext(t), &coveragev1.AuditRequest{Settlement: batchTown("after", 1)}); err != nil {
				t.Errorf("Audit after a client left mid-stream: %v", err)
			}

			conn.Close()
			ts.conn.Close()
			ts.http.CloseIdleConnections()
			if err := ts.stop(); err != nil {
				t.Fatalf("Serve: %v", err)
			}
			goleak.VerifyNone(t, preexisting)
		})
	}
}

// bigCity is a city of the first n stops of the million-stop benchmark
// scenario over its 1,500 km² area, taken from the scenario's plane back to
// longitude and latitude around Changchun.
func bigCity(t testing.TB, n int) *coveragev1.Settlement {
	t.Helper()
	sc := scenarios.MustGet("stress1m")
	proj := geo.NewLAEA(125.3, 43.9, 0, 0)
	ll := func(x, y float64) *coveragev1.LonLat {
		lon, lat := proj.Inverse(x, y)
		return &coveragev1.LonLat{Lon: lon, Lat: lat}
	}
	area := &coveragev1.MultiPolygon{}
	for _, poly := range sc.Polygons {
		p := &coveragev1.Polygon{}
		for _, ring := range poly {
			r := &coveragev1.LinearRing{}
			for _, q := range ring {
				r.Positions = append(r.Positions, ll(q.X, q.Y))
			}
			r.Positions = append(r.Positions, r.Positions[0]) // GeoJSON closes rings; the scenario does not
			p.Rings = append(p.Rings, r)
		}
		area.Polygons = append(area.Polygons, p)
	}
	stops := make([]*coveragev1.LonLat, n)
	for i, q := range sc.Stops[:n] {
		stops[i] = ll(q.X, q.Y)
	}
	return &coveragev1.Settlement{
		Id: "big", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY, UrbanPopulation: proto.Int64(3_000_000),
		CentralAreaPolygons: area,
		BusStopPositions:    &coveragev1.Positions{Positions: stops},
	}
}

// TestCancelledCoverageStopsPromptly: a caller that gives up on a big city
// (a deadline, a closed browser tab) frees the server's CPU at once rather
// than after the whole computation. The handler is called directly: over a
// connection the client sees its own cancellation at once, whatever the
// server goes on doing.
func TestCancelledCoverageStopsPromptly(t *testing.T) {
	if testing.Short() {
		t.Skip("computes the coverage of 500,000 stops")
	}
	// 500,000 stops over 1,500 km²; under the race detector 200,000, which
	// take about as long as the 500,000 do without it.
	n := 500_000
	if race.Enabled {
		n = 200_000
	}
	svc := NewService(testCatalog(t))
	req := &coveragev1.CheckBusStopCoverageRequest{Settlement: bigCity(t, n)}

	start := time.Now()
	resp, err := svc.CheckBusStopCoverage(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	whole := time.Since(start)
	if got := resp.GetCoverage().GetStopsGiven(); got != int32(n) {
		t.Fatalf("stops given %d, want %d", got, n)
	}
	if whole < 300*time.Millisecond {
		t.Skipf("the whole computation takes %v here, too little to cancel in the middle of", whole)
	}

	// Production's bound. The race detector slows tenfold the work before
	// the first check (converting the request's 200,000 positions, a few
	// milliseconds without it), so there the bound only tells a handler
	// that checks from one that does not (which is seconds late).
	bound := 100 * time.Millisecond
	if race.Enabled {
		bound = time.Second
	}

	// 50 ms in, the server is converting and projecting the stops; later
	// it builds the stop grid, then integrates disk by disk: each phase
	// must notice.
	cancelPromptly(t, fmt.Sprintf("%d stops", n), func(ctx context.Context) error {
		_, err := svc.CheckBusStopCoverage(ctx, req)
		return err
	}, whole, bound, 50*time.Millisecond, whole/4, whole/2)
}

// cancelPromptly calls the handler with a context cancelled after each of
// afters and fails the test unless it returns within bound of the
// cancellation, with CANCELLED (or its answer, when the cancellation came
// after its last check). The handler does its work on the caller's
// goroutine, so its return is when the server stops using the CPU for the
// request.
func cancelPromptly(t *testing.T, what string, call func(context.Context) error, whole, bound time.Duration, afters ...time.Duration) {
	t.Helper()
	// cancelled calls the handler with a context cancelled after d and
	// returns how long it took to return after that, or false if it
	// finished first.
	cancelled := func(d time.Duration) (time.Duration, bool) {
		ctx, cancel := context.WithCancel(context.Background())
		cancelledAt := make(chan time.Time, 1)
		timer := time.AfterFunc(d, func() { cancelledAt <- time.Now(); cancel() })
		defer timer.Stop()
		err := call(ctx)
		returned := time.Now()
		select {
		case at := <-cancelledAt:
			// No error when the cancellation came after the last check, in
			// the last stretch of work; the return is still when it stopped.
			if c := status.Code(err); err != nil && c != codes.Canceled && c != codes.DeadlineExceeded {
				t.Fatalf("cancelled after %v: %v, want CANCELLED", d, err)
			}
			return returned.Sub(at), true
		default:
			if err != nil {
				t.Fatalf("not cancelled: %v", err)
			}
			return 0, false
		}
	}
	for _, after := range afters {
		// The best of three: on a loaded machine the handler's goroutine
		// may wait to be scheduled, which no check for cancellation helps;
		// a phase that does not check is late every time.
		var lags []time.Duration
		best := time.Duration(math.MaxInt64)
		for range 3 {
			lag, ok := cancelled(after)
			if !ok {
				continue // finished first: the machine is less loaded than when whole was measured
			}
			lags = append(lags, lag.Round(time.Millisecond))
			best = min(best, lag)
			if best <= bound {
				break
			}
		}
		t.Logf("%s, whole computation %v: cancelled after %v, returned %v later", what, whole.Round(time.Millisecond), after.Round(time.Millisecond), lags)
		if len(lags) > 0 && best > bound {
			t.Errorf("cancelled after %v, the handler returned %v later, want under %v (whole computation %v)", after.Round(time.Millisecond), lags, bound, whole.Round(time.Millisecond))
		}
	}
}

// hugeArea is a city whose central area is one ring of n positions (the
// closing one included) around Changchun, a star of 1,500-odd km² with a
// wavy edge, and a handful of stops: almost all the work of measuring its
// coverage is preparing the area.
func hugeArea(n int) *coveragev1.Settlement {
	proj := geo.NewLAEA(125.3, 43.9, 0, 0)
	ll := func(x, y float64) *coveragev1.LonLat {
		lon, lat := proj.Inverse(x, y)
		return &coveragev1.LonLat{Lon: lon, Lat: lat}
	}
	ring := &coveragev1.LinearRing{Positions: make([]*coveragev1.LonLat, 0, n)}
	for k := range n - 1 {
		th := 2 * math.Pi * float64(k) / float64(n-1)
		rad := 22_000 + 2_000*math.Sin(7*th) + 300*math.Sin(1_000*th)
		ring.Positions = append(ring.Positions, ll(rad*math.Cos(th), rad*math.Sin(th)))
	}
	ring.Positions = append(ring.Positions, ring.Positions[0])
	var stops []*coveragev1.LonLat
	for i := range 10 {
		stops = append(stops, ll(float64(i-5)*2_000, float64(i%3-1)*3_000))
	}
	return &coveragev1.Settlement{
		Id: "huge-area", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY, UrbanPopulation: proto.Int64(3_000_000),
		CentralAreaPolygons: &coveragev1.MultiPolygon{Polygons: []*coveragev1.Polygon{{Rings: []*coveragev1.LinearRing{ring}}}},
		BusStopPositions:    &coveragev1.Positions{Positions: stops},
	}
}

// TestCancelledAreaPreparationStopsPromptly: the same for a central area
// of as many vertices as the server accepts by default and ten stops, where
// the time goes to validating, projecting and indexing the area (about a
// second), not to the stops.
func TestCancelledAreaPreparationStopsPromptly(t *testing.T) {
	if testing.Short() {
		t.Skip("prepares a central area of 1,000,000 vertices")
	}
	// Under the race detector 200,000 vertices, which take about as long
	// as the 1,000,000 do without it.
	n := DefaultMaxVertices
	if race.Enabled {
		n = 200_000
	}
	svc := NewService(testCatalog(t))
	req := &coveragev1.CheckBusStopCoverageRequest{Settlement: hugeArea(n)}

	start := time.Now()
	resp, err := svc.CheckBusStopCoverage(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	whole := time.Since(start)
	if got := resp.GetCoverage().GetAreaVertices(); got != int32(n-1) {
		t.Fatalf("area vertices %d, want %d", got, n-1)
	}
	if whole < 300*time.Millisecond {
		t.Skipf("the whole computation takes %v here, too little to cancel in the middle of", whole)
	}
	// As in TestCancelledCoverageStopsPromptly.
	bound := 100 * time.Millisecond
	if race.Enabled {
		bound = time.Second
	}
	// 50 ms in, the server is converting and projecting the positions;
	// later it sorts the edges, builds the edge grid, checks for crossings
	// and nesting: each phase must notice.
	cancelPromptly(t, fmt.Sprintf("%d area vertices", n-1), func(ctx context.Context) error {
		_, err := svc.CheckBusStopCoverage(ctx, req)
		return err
	}, whole, bound, 50*time.Millisecond, whole/4, whole/2, whole*3/4)
}

// TestRESTGarbageBodies: whatever arrives as a body, the caller gets a 4xx
// with a google.rpc.Status JSON body naming the problem, never a 500 (which
// pages someone) or a dropped connection, and the server goes on serving.
func TestRESTGarbageBodies(t *testing.T) {
	ts := startServer(t, Config{})
	small := startServer(t, Config{MaxMessageBytes: 1 << 20})

	nest := func(depth int, inner string) string {
		return strings.Repeat("[", depth) + inner + strings.Repeat("]", depth)
	}
	tenMB := strings.Repeat("x", 10<<20)
	// Long enough for a 10 MB body to be read, decoded and answered under
	// the race detector: a timeout would hide what the answer was.
	slowClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	defer slowClient.CloseIdleConnections()
	rng := rand.New(rand.NewPCG(7, 11))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	valid, err := proto.Marshal(&coveragev1.AuditRequest{Settlement: batchTown("pb", 1)})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name        string
		srv         *testServer
		contentType string
		body        string
		want        int
	}{
		{"truncated JSON", ts, "application/json", `{"settlement":{"id":"t1","name":"T`, http.StatusBadRequest},
		{"truncated after a key", ts, "application/json", `{"settlement":`, http.StatusBadRequest},
		{"invalid UTF-8 in a string", ts, "application/json", "{\"settlement\":{\"id\":\"t\xff\xfe1\"}}", http.StatusBadRequest},
		{"invalid UTF-8 as a key", ts, "application/json", "{\"\xc3\x28\":1}", http.StatusBadRequest},
		{"number for the request", ts, "application/json", `42`, http.StatusBadRequest},
		{"number for the settlement", ts, "application/json", `{"settlement":42}`, http.StatusBadRequest},
		{"array for the settlement", ts, "application/json", `{"settlement":[1,2]}`, http.StatusBadRequest},
		// The error names the bad value; it must not send all of it back,
		// 20 MB of answer (message and details) to a 10 MB mistake.
		{"10 MB string for a number", ts, "application/json", `{"settlement":{"urbanPopulation":"` + tenMB + `"}}`, http.StatusBadRequest},
		{"10 MB body over a 1 MiB limit", small, "application/json", `{"settlement":{"id":"` + tenMB + `"}}`, http.StatusRequestEntityTooLarge},
		{"10,000 nested arrays for the request", ts, "application/json", nest(10_000, ""), http.StatusBadRequest},
		{"10,000 nested arrays in GeoJSON", ts, "application/json",
			`{"settlement":{"id":"t","kind":"SETTLEMENT_KIND_CITY","centralArea":{"type":"Polygon","coordinates":` + nest(10_000, "1") + `}}}`, http.StatusBadRequest},
		{"10,000 nested objects in GeoJSON", ts, "application/json",
			`{"settlement":{"id":"t","busStops":` + strings.Repeat(`{"a":`, 10_000) + "1" + strings.Repeat("}", 10_000) + `}}`, http.StatusBadRequest},
		{"binary garbage", ts, "application/json", string(garbage), http.StatusBadRequest},
		{"binary garbage, no content type", ts, "", string(garbage), http.StatusBadRequest},
		{"empty body", ts, "application/json", "", http.StatusBadRequest},
		{"protobuf content type, garbage", ts, "application/x-protobuf", string(garbage), http.StatusBadRequest},
		{"protobuf content type, a valid message", ts, "application/x-protobuf", string(valid), http.StatusBadRequest},
		{"NUL bytes", ts, "application/json", "\x00\x00\x00\x00", http.StatusBadRequest},
		// A body is one JSON value: whatever follows it is a client's
		// mistake (two requests in one body, a botched template) that would
		// otherwise go unnoticed, its second half silently dropped.
		{"trailing garbage after the JSON value", ts, "application/json", elderlyAcceptanceBody + `}}garbage`, http.StatusBadRequest},
		{"two JSON values", ts, "application/json", elderlyAcceptanceBody + `{"settlement":{"id":"t2"}}`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, tc.srv.base+"/v1/audit", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := slowClient.Do(req)
			if err != nil {
				t.Fatalf("POST: %v (the server dropped the connection?)", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("HTTP %d, want %d\n%.300s", resp.StatusCode, tc.want, body)
				if resp.StatusCode < 400 {
					return
				}
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if len(body) > 64<<10 {
				t.Fatalf("the error body is %d bytes: it echoes the request (starts %.200q)", len(body), body)
			}
			var e struct {
				Code    *int    `json:"code"`
				Message *string `json:"message"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("the error body is not JSON: %v\n%.300s", err, body)
			}
			if e.Code == nil || *e.Code == 0 || e.Message == nil || *e.Message == "" {
				t.Errorf("the error body lacks a code or a message: %.300s", body)
			}
		})
	}

	for _, srv := range []*testServer{ts, small} {
		if code, body := srv.do(t, http.MethodGet, "/v1/rulesets", ""); code != http.StatusOK {
			t.Errorf("GET /v1/rulesets after the garbage = %d\n%.300s", code, body)
		}
		if code, body := srv.do(t, http.MethodPost, "/v1/audit", elderlyAcceptanceBody); code != http.StatusOK {
			t.Errorf("POST /v1/audit after the garbage = %d\n%.300s", code, body)
		}
	}
}

// rawCodec sends and receives messages as the bytes given, so that a test
// can put on the wire what no generated client would. Named "proto", the
// server decodes them with its protobuf codec.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: %T is not []byte", v)
	}
	return b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: %T is not *[]byte", v)
	}
	*p = append([]byte(nil), data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// TestGRPCGarbageMessages: bytes that are not the request's protobuf get a
// clean status, never UNKNOWN (a handler that ran on garbage) nor a dropped
// connection, and the server goes on serving on the same connection.
//
// grpc-go itself answers a message its codec cannot decode with INTERNAL
// ("grpc: failed to unmarshal the received message"), before any handler
// runs; that is the code expected here for undecodable bytes.
func TestGRPCGarbageMessages(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := rpcContext(t)
	const method = "/coverage.v1.CoverageService/Audit"

	valid, err := proto.Marshal(&coveragev1.AuditRequest{Settlement: batchTown("raw", 1)})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 5))
	random := make([]byte, 512)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	withUnknown := protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), valid...), 999, protowire.VarintType), 42)
	// Field 2 is the settlement, a message: here a varint.
	wrongWireType := protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 7)
	// Field 2 announced as 2 GiB long, followed by a few bytes.
	hugeLength := append(protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.BytesType), 1<<31), valid...)
	// A settlement whose own bytes are garbage.
	badNested := protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), random[:64])
	// Group markers are legal wire syntax but proto3 messages have no groups.
	endGroup := protowire.AppendTag(nil, 2, protowire.EndGroupType)

	// What the server answers to the valid message, to compare with the
	// one that carries an unknown field.
	var want []byte
	if err := ts.conn.Invoke(ctx, method, valid, &want, grpc.ForceCodec(rawCodec{})); err != nil {
		t.Fatalf("the valid message through the raw codec: %v", err)
	}

	for _, tc := range []struct {
		name  string
		msg   []byte
		codes []codes.Code // acceptable codes
	}{
		{"truncated protobuf", valid[:len(valid)/2], []codes.Code{codes.Internal, codes.InvalidArgument}},
		{"random bytes", random, []codes.Code{codes.Internal, codes.InvalidArgument}},
		{"wrong wire type for the settlement", wrongWireType, []codes.Code{codes.Internal, codes.InvalidArgument}},
		{"length beyond the message", hugeLength, []codes.Code{codes.Internal, codes.InvalidArgument}},
		{"garbage inside the settlement", badNested, []codes.Code{codes.Internal, codes.InvalidArgument}},
		{"unmatched end-group", endGroup, []codes.Code{codes.Internal, codes.InvalidArgument}},
		// Proto3 keeps fields it does not know, for newer clients: the
		// answer is the one without it.
		{"unknown field number", withUnknown, []codes.Code{codes.OK}},
		// No settlement at all.
		{"empty message", []byte{}, []codes.Code{codes.InvalidArgument}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reply []byte
			err := ts.conn.Invoke(ctx, method, tc.msg, &reply, grpc.ForceCodec(rawCodec{}))
			st := status.Convert(err)
			ok := false
			for _, c := range tc.codes {
				ok = ok || st.Code() == c
			}
			if !ok {
				t.Errorf("%v (%q), want one of %v", st.Code(), st.Message(), tc.codes)
			}
			if st.Code() == codes.OK && !bytes.Equal(reply, want) {
				got, wantResp := &coveragev1.AuditResponse{}, &coveragev1.AuditResponse{}
				if proto.Unmarshal(reply, got) != nil || proto.Unmarshal(want, wantResp) != nil || !proto.Equal(got, wantResp) {
					t.Errorf("the answer differs from the one to the same message without the unknown field")
				}
			}
			t.Logf("%v: %s", st.Code(), st.Message())
		})
	}

	// Garbage in the middle of a stream ends that stream, after the answers
	// to what came before it.
	t.Run("garbage mid-stream", func(t *testing.T) {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		desc := &grpc.StreamDesc{StreamName: "AuditStream", ServerStreams: true, ClientStreams: true}
		st, err := ts.conn.NewStream(sctx, desc, "/coverage.v1.CoverageService/AuditStream", grpc.ForceCodec(rawCodec{}))
		if err != nil {
			t.Fatal(err)
		}
		first, err := proto.Marshal(&coveragev1.AuditStreamRequest{Settlement: batchTown("s1", 1)})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range [][]byte{first, first[:len(first)-3]} {
			if err := st.SendMsg(m); err != nil {
				t.Fatalf("SendMsg: %v", err)
			}
		}
		var reply []byte
		if err := st.RecvMsg(&reply); err != nil {
			t.Fatalf("the answer to the message before the garbage: %v", err)
		}
		resp := &coveragev1.AuditStreamResponse{}
		if err := proto.Unmarshal(reply, resp); err != nil || resp.GetResult().GetSettlementId() != "s1" {
			t.Fatalf("first answer %v (%v), want the result of s1", resp, err)
		}
		err = st.RecvMsg(&reply)
		if c := status.Code(err); c != codes.Internal && c != codes.InvalidArgument {
			t.Errorf("after the garbage: %v, want INTERNAL or INVALID_ARGUMENT", err)
		}
	})

	if _, err := ts.client.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{}); err != nil {
		t.Errorf("ListRulesets after the garbage: %v", err)
	}
	if _, err := ts.client.Audit(ctx, &coveragev1.AuditRequest{Settlement: batchTown("after", 1)}); err != nil {
		t.Errorf("Audit after the garbage: %v", err)
	}
}

// trickle connects to addr, writes burst at once and then slow one byte
// every interval, and returns how long after connecting the server closed
// the connection; it gives up once limit has passed with the connection
// still open.
func trickle(addr string, burst, slow []byte, interval, limit time.Duration) (time.Duration, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		// The server may answer (408) before closing, or just close; the
		// read ends either way.
		_, _ = io.Copy(io.Discard, c)
		closed <- time.Since(start)
	}()
	if _, err := c.Write(burst); err != nil {
		return 0, err
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	timeout := time.After(limit)
	for i := 0; ; i++ {
		select {
		case d := <-closed:
			return d, nil
		case <-timeout:
			return 0, fmt.Errorf("the connection is still open %v after connecting, %d of %d slow bytes sent", limit, min(i, len(slow)), len(slow))
		case <-tick.C:
			if i < len(slow) {
				// A write after the server closed may fail; the reader reports the close.
				_, _ = c.Write(slow[i : i+1])
			}
		}
	}
}

// TestSlowLorisHeaders: a client that sends its request headers a byte at a
// time cannot hold a connection (and its goroutine) for longer than the
// header timeout; meanwhile other callers are served.
func TestSlowLorisHeaders(t *testing.T) {
	const timeout = time.Second
	ts := startServer(t, Config{HTTPReadHeaderTimeout: timeout})
	head := []byte("POST /v1/audit HTTP/1.1\r\nHost: " + ts.srv.HTTPAddr() + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\nX-Padding: " +
		strings.Repeat("a", 64) + "\r\n\r\n{}")

	type result struct {
		d   time.Duration
		err error
	}
	done := make(chan result, 1)
	go func() {
		// 100 bytes at 5 a second would take 20 s.
		d, err := trickle(ts.srv.HTTPAddr(), nil, head, 200*time.Millisecond, timeout+2*time.Second)
		done <- result{d, err}
	}()

	// Served meanwhile.
	time.Sleep(timeout / 2)
	if code, body := ts.do(t, http.MethodGet, "/v1/rulesets", ""); code != http.StatusOK {
		t.Errorf("GET /v1/rulesets during the slow request = %d\n%.300s", code, body)
	}

	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Logf("connection closed %v after it opened (header timeout %v)", r.d.Round(time.Millisecond), timeout)
	if r.d < timeout-100*time.Millisecond {
		t.Errorf("closed after %v, before the header timeout of %v: the test is not measuring that timeout", r.d, timeout)
	}
}

// TestSlowBody: a client that sends complete headers and then trickles its
// body is cut off by the read timeout, which the header timeout does not
// cover once the headers are in.
func TestSlowBody(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	ts := startServer(t, Config{HTTPReadHeaderTimeout: 500 * time.Millisecond, HTTPReadTimeout: timeout})
	body := `{"settlement":{"id":"slow","name":"` + strings.Repeat("s", 200) + `"}}`
	req := []byte(fmt.Sprintf("POST /v1/audit HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		ts.srv.HTTPAddr(), len(body), body))
	headerEnd := bytes.Index(req, []byte("\r\n\r\n")) + 4
	d, err := trickle(ts.srv.HTTPAddr(), req[:headerEnd], req[headerEnd:], 100*time.Millisecond, timeout+2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("connection closed %v after it opened (read timeout %v)", d.Round(time.Millisecond), timeout)
	if d < timeout-100*time.Millisecond {
		t.Errorf("closed after %v, before the read timeout of %v", d, timeout)
	}
	if code, body := ts.do(t, http.MethodGet, "/v1/rulesets", ""); code != http.StatusOK {
		t.Errorf("GET /v1/rulesets after the slow body = %d\n%.300s", code, body)
	}
}
