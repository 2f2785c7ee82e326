package server

import (
	"context"
	"sync"

	"google.golang.org/grpc"

	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// responseRecycler lets unary audits on the gRPC transport reuse their
// response and the arrays of its results. A full-view audit's RuleResult
// and Citation messages were half of the bytes the server allocated for it
// (10.7 of 21 KB), and they are dead as soon as the codec has encoded them.
//
// They go back to the pool in the codec, once the response is encoded,
// which is sound only where nothing reads a response after its encoding.
// On the gRPC server that holds while it has no stats handler (which is
// given the sent message) and grpc.EnableTracing is off (whose trace keeps
// the message to print later): New sets no stats handler, and makes no
// recycler when tracing is on as it runs (the program never turns it on).
// Binary logs log the encoded bytes.
// The gateway's in-process calls do read the response after encoding it
// (to write it as JSON), so the interceptor that opens a call's slot is on
// the gRPC server's chain only, and calls without a slot allocate.
type responseRecycler struct {
	pool sync.Pool // of *pooledResults
	// sent holds the responses handed to the codec: the server calls it
	// once for each unary response its handler returned without error.
	sent sync.Map // *coveragev1.AuditResponse → *pooledResults
}

// pooledResults is one response's arrays.
type pooledResults struct {
	resp coveragev1.AuditResponse
	ptrs []*coveragev1.RuleResult
	msgs []coveragev1.RuleResult
	cits []coveragev1.Citation
}

// recycleSlot is a call's claim on the recycler: the handler fills it when
// it builds its response from pooled arrays.
type recycleSlot struct {
	r   *responseRecycler
	got *pooledResults
}

type recycleSlotKey struct{}

// unaryInterceptor opens a slot for the call, and after the chain has
// returned decides who gives the arrays back: the codec when the response
// built from them is the one to be sent, this function when it is not (the
// chain failed or answered with another message after the handler built
// it), so that no array is held by a response nobody encodes.
func (r *responseRecycler) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if info.FullMethod != coveragev1.CoverageService_Audit_FullMethodName {
		return handler(ctx, req)
	}
	slot := &recycleSlot{r: r}
	resp, err := handler(context.WithValue(ctx, recycleSlotKey{}, slot), req)
	if p := slot.got; p != nil {
		if m, ok := resp.(*coveragev1.AuditResponse); err == nil && ok && m == &p.resp {
			r.sent.Store(m, p)
		} else {
			r.put(p)
		}
	}
	return resp, err
}

// released gives back the arrays of m once it is encoded; m is not
// touched after.
func (r *responseRecycler) released(m *coveragev1.AuditResponse) {
	if r == nil {
		return
	}
	if p, ok := r.sent.LoadAndDelete(m); ok {
		r.put(p.(*pooledResults))
	}
}

// put returns p to the pool. Its messages are not cleared: fillResult
// overwrites each of them whole before it is next sent, and what they still
// reference (mostly the ruleset's own strings) is dropped with the pool's
// entries at the second garbage collection.
func (r *responseRecycler) put(p *pooledResults) {
	p.resp = coveragev1.AuditResponse{}
	r.pool.Put(p)
}

// auditResponse converts a as auditToProto does, into pooled arrays when the
// call has a slot.
func auditResponse(ctx context.Context, a *coverage.Audit) *coveragev1.AuditResponse {
	slot, _ := ctx.Value(recycleSlotKey{}).(*recycleSlot)
	if slot == nil || slot.got != nil {
		return auditToProto(a)
	}
	p, _ := slot.r.pool.Get().(*pooledResults)
	if p == nil {
		p = new(pooledResults)
	}
	n := len(a.Results)
	if cap(p.msgs) < n {
		p.ptrs = make([]*coveragev1.RuleResult, n)
		p.msgs = make([]coveragev1.RuleResult, n)
		p.cits = make([]coveragev1.Citation, n)
	}
	p.ptrs, p.msgs, p.cits = p.ptrs[:n], p.msgs[:n], p.cits[:n]
	fillResults(p.ptrs, p.msgs, p.cits, a.Results)
	fillAudit(&p.resp, a, p.ptrs)
	slot.got = p
	return &p.resp
}
