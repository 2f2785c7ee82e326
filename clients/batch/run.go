package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/civic-standards/coverage/clients/client"
	"github.com/civic-standards/coverage/coverage"
	"github.com/civic-standards/coverage/internal/pbconv"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// Defaults of Config.
const (
	DefaultStreams     = 4
	DefaultWindow      = 64
	DefaultMaxAttempts = 5
	DefaultGiveUpAfter = time.Minute
	DefaultFurthest    = 5
)

// Config says how to run a batch.
type Config struct {
	// Client is the connection to the servers; a client dialled with several
	// addresses (or a DNS name) spreads the streams over them.
	Client *client.Client
	// RulesetID is the ruleset to audit against; empty means the server's default.
	RulesetID string
	// View is how much of each result the servers return (default
	// RESULT_VIEW_BASIC: without the title, citation and notes of the rule,
	// which are in the ruleset once and would otherwise be most of each record).
	View coveragev1.ResultView
	// Streams is how many audit streams run at once (default DefaultStreams).
	// Each opens on the next server, round-robin.
	Streams int
	// Window is how many settlements a stream may have awaiting their results
	// (default DefaultWindow). It bounds what must be re-sent when a server dies.
	Window int
	// MaxAttempts is how many times a settlement may be lost with its server
	// before the run gives up on it (default DefaultMaxAttempts).
	MaxAttempts int
	// GiveUpAfter is how long the run waits for any server to answer before
	// it fails as unreachable (default DefaultGiveUpAfter).
	GiveUpAfter time.Duration
	// Furthest is how many settlements furthest from compliance the summary
	// keeps per rule (default DefaultFurthest).
	Furthest int
	// Progress, when set, is called from one goroutine after each record is
	// written (and once at the start).
	Progress func(Progress)
	// Warn, when set, receives notices that do not stop the run (a server
	// lost and its settlements re-sent).
	Warn func(string)
}

// Progress is how far a run has got.
type Progress struct {
	// Done counts the records finished: written, rejected or found already
	// done in a resumed output.
	Done int64
	// Total is the number of records of the inputs, or 0 when unknown.
	Total int64
	// Resumed counts the records found already done.
	Resumed int64
	Started time.Time
}

// Input is a file of settlements.
type Input struct {
	Path   string
	Format Format
}

// Output receives the results of a run in input order.
type Output interface {
	// Begin is called once, before any Write, with the ruleset of the run.
	// An output that already holds records of an interrupted run calls
	// existing with each of them, in order.
	Begin(rs *coveragev1.Ruleset, existing func(*coveragev1.AuditItem) error) error
	// Encode turns a result into the record Append writes; it is called
	// from several goroutines at once.
	Encode(*coveragev1.AuditItem) ([]byte, error)
	// Append writes one encoded result, all or nothing.
	Append(record []byte) error
}

// Report is what a run did.
type Report struct {
	Summary *coveragev1.BatchSummary
	// Ruleset is the ruleset audited against.
	Ruleset *coveragev1.Ruleset
	// Written counts the results this run wrote to the output.
	Written int64
	// Resumed counts the settlements already in the output when the run began.
	Resumed int64
	// Rejects counts the settlements that could not be audited: rejected
	// while reading, or by the server (these also have a result).
	Rejects int64
	// Resent counts settlements sent again after their server was lost.
	Resent  int64
	Elapsed time.Duration
	// Latency is how long the settlements sent by this run waited for their
	// results, from just before each was sent to the receipt of its result.
	Latency Latency
}

// UnreachableError is returned when no server answered for Config.GiveUpAfter,
// or a settlement was lost with its server Config.MaxAttempts times.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return "servers unreachable: " + e.Err.Error() }
func (e *UnreachableError) Unwrap() error { return e.Err }

// job is one settlement on its way to a server.
type job struct {
	seq        int64
	source     string
	settlement *coveragev1.Settlement
	attempts   int
	// sentAt is when the settlement was last sent, as time since the run's
	// epoch: set by the sender just before Send, read by the receiver that
	// gets its result (atomic, as nothing else orders the two).
	sentAt atomic.Int64
}

// outcome is one record, ready to be written in input order.
type outcome struct {
	seq      int64
	item     *coveragev1.AuditItem // the server's answer; nil for the rest
	record   []byte                // item, encoded for the output
	rejects  []string              // lines for the rejects file
	resumed  bool                  // already in the output
	isRecord bool                  // a settlement (not a file that failed)
}

type runner struct {
	cfg       Config
	out       Output
	rulesetID string

	jobs    chan *job
	retry   chan *job
	results chan outcome
	window  chan struct{} // records read but not yet written

	mu          sync.Mutex
	outstanding int64
	readDone    bool
	allDone     chan struct{}

	epoch   time.Time          // the run's start; the monotonic clock of the latencies
	latency []*latencyRecorder // one per worker

	lastAnswer atomic.Int64 // unix nanoseconds of the last result received
	lastWarn   atomic.Int64 // unix nanoseconds of the last warning
	resent     atomic.Int64

	fatalOnce sync.Once
	fatalErr  error
	cancel    context.CancelFunc
}

// Run audits the settlements of inputs (with geo's areas and stops joined by
// ID) on the servers of cfg.Client, writing one result per settlement to out
// in input order and one line per rejected record to rejects. Settlements
// already in out (a resumed run) are not sent again. It returns when every
// record is written, or with the error that stopped it; what was written up
// to then is whole, and a new Run with the same output resumes from there.
func Run(ctx context.Context, cfg Config, inputs []Input, geo *Geometry, out Output, rejects io.Writer) (*Report, error) {
	started := time.Now()
	cfg.setDefaults()
	rsProto, rs, err := fetchRuleset(ctx, cfg.Client, cfg.RulesetID)
	if err != nil {
		return nil, err
	}
	summary := coverage.NewBatchSummary(rs, cfg.Furthest)
	report := &Report{Ruleset: rsProto}

	// What an interrupted run already wrote: its settlements are skipped, and
	// its rejected ones listed again in this run's rejects file.
	done := map[string][]string{}
	if err := out.Begin(rsProto, func(item *coveragev1.AuditItem) error {
		id := item.GetSettlementId()
		if _, dup := done[id]; dup {
			return fmt.Errorf("the output holds settlement %q twice; it was not written by a resumable run", id)
		}
		if a := item.GetAudit(); a != nil {
			if a.GetRulesetId() != rs.ID {
				return fmt.Errorf("the output's settlement %q was audited against ruleset %q, not %q", id, a.GetRulesetId(), rs.ID)
			}
			summary.Add(pbconv.AuditForSummary(a))
			done[id] = nil
		} else {
			summary.AddRejected()
			done[id] = []string{serverReject(item.GetClientRef(), item)}
		}
		report.Resumed++
		return nil
	}); err != nil {
		return nil, err
	}

	// The total is for the progress display only: a file that cannot be
	// counted leaves it unknown, and reading that file reports why.
	var total int64
	for _, in := range inputs {
		n, err := CountRecords(in.Path, in.Format)
		if err != nil {
			total = 0
			break
		}
		total += int64(n)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &runner{
		cfg:       cfg,
		out:       out,
		rulesetID: rs.ID,
		jobs:      make(chan *job),
		retry:     make(chan *job, cfg.Streams*(cfg.Window+1)),
		results:   make(chan outcome, cfg.Streams*cfg.Window),
		window:    make(chan struct{}, max(1024, 4*cfg.Streams*cfg.Window)),
		allDone:   make(chan struct{}),
		cancel:    cancel,
		epoch:     started,
	}
	r.lastAnswer.Store(time.Now().UnixNano())

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.read(ctx, inputs, geo, done)
	}()
	for range cfg.Streams {
		lat := newLatencyRecorder()
		r.latency = append(r.latency, lat)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx, lat)
		}()
	}
	go func() {
		wg.Wait()
		close(r.results)
	}()

	// The writer runs here: results come in any order and are written in
	// input order, so that the output is the same however the work was
	// spread, and a resumed run appends exactly what is missing.
	pending := map[int64]outcome{}
	var next int64
	progress := Progress{Total: total, Resumed: report.Resumed, Done: report.Resumed, Started: started}
	if cfg.Progress != nil {
		cfg.Progress(progress)
	}
	var writeErr error
	for o := range r.results {
		if writeErr != nil {
			continue // drain, so that the senders can stop
		}
		pending[o.seq] = o
		for {
			o, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err := r.write(o, out, rejects, summary, report); err != nil {
				writeErr = err
				r.fail(err)
				break
			}
			<-r.window
			progress.Done++
			if cfg.Progress != nil {
				cfg.Progress(progress)
			}
		}
	}
	// r.results is closed once every worker has returned: the histograms
	// are theirs no longer.
	report.Latency = mergeLatency(r.latency)
	report.Resent = r.resent.Load()
	report.Elapsed = time.Since(started)
	if r.fatalErr != nil {
		return report, r.fatalErr
	}
	if err := ctx.Err(); err != nil {
		return report, err
	}
	report.Summary = pbconv.Summary(rs, summary)
	return report, nil
}

func (c *Config) setDefaults() {
	if c.View == coveragev1.ResultView_RESULT_VIEW_UNSPECIFIED {
		c.View = coveragev1.ResultView_RESULT_VIEW_BASIC
	}
	if c.Streams <= 0 {
		c.Streams = DefaultStreams
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.GiveUpAfter <= 0 {
		c.GiveUpAfter = DefaultGiveUpAfter
	}
	if c.Furthest <= 0 {
		c.Furthest = DefaultFurthest
	}
}

// fetchRuleset gets the ruleset from the server, as the message (for the
// output's columns) and as the domain ruleset that computes the summary
// exactly as the server does.
func fetchRuleset(ctx context.Context, c *client.Client, id string) (*coveragev1.Ruleset, *coverage.Ruleset, error) {
	var rs *coveragev1.Ruleset
	if id == "" {
		resp, err := c.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{})
		if err != nil {
			return nil, nil, err
		}
		for _, r := range resp.GetRulesets() {
			if r.GetId() == resp.GetDefaultRulesetId() {
				rs = r
			}
		}
		if rs == nil {
			return nil, nil, fmt.Errorf("the server names %q as its default ruleset but does not list it", resp.GetDefaultRulesetId())
		}
	} else {
		resp, err := c.GetRuleset(ctx, &coveragev1.GetRulesetRequest{Id: id})
		if err != nil {
			return nil, nil, err
		}
		rs = resp.GetRuleset()
	}
	return rs, pbconv.RulesetForSummary(rs), nil
}

// read reads every input in order and hands each record to the writer
// (rejected or already done) or to the streams (to audit).
func (r *runner) read(ctx context.Context, inputs []Input, geo *Geometry, done map[string][]string) {
	defer r.finishReading()
	// Settlement ID → where it was first read, as input index and line: this
	// map is the one part of a run's memory that grows with the batch, so it
	// holds two numbers rather than the source text.
	seen := map[string]firstRead{}
	var seq int64
	for inputIndex, in := range inputs {
		// A file that cannot be read (further) is one line of the rejects
		// file, and the other files are still audited.
		fileError := func(err error, consequence string) bool {
			select {
			case r.window <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			o := outcome{seq: seq, rejects: []string{oneLine(err.Error() + " (" + consequence + ")")}}
			seq++
			select {
			case r.results <- o:
				return true
			case <-ctx.Done():
				return false
			}
		}
		rd, err := OpenInput(in.Path, in.Format, geo)
		if err != nil {
			if !fileError(err, "the file was not read") {
				return
			}
			continue
		}
		for {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if !fileError(err, "the rest of the file was not read") {
					rd.Close()
					return
				}
				break
			}
			select {
			case r.window <- struct{}{}:
			case <-ctx.Done():
				rd.Close()
				return
			}
			o := outcome{seq: seq, isRecord: true}
			seq++
			switch {
			case rec.Err != nil:
				o.rejects = []string{oneLine(rec.Source + ": " + rec.Err.Error())}
			default:
				id := rec.Settlement.GetId()
				if first, dup := seen[id]; dup {
					o.rejects = []string{fmt.Sprintf("%s: %s: id: duplicate settlement ID (first at %s:%d)", rec.Source, id, inputs[first.input].Path, first.line)}
					break
				}
				seen[id] = firstRead{input: int32(inputIndex), line: lineOf(rec.Source)}
				if prior, ok := done[id]; ok {
					o.resumed = true
					o.rejects = prior
					break
				}
				r.mu.Lock()
				r.outstanding++
				r.mu.Unlock()
				select {
				case r.jobs <- &job{seq: o.seq, source: rec.Source, settlement: rec.Settlement}:
				case <-ctx.Done():
					rd.Close()
					return
				}
				continue
			}
			select {
			case r.results <- o:
			case <-ctx.Done():
				rd.Close()
				return
			}
		}
		rd.Close()
	}
}

type firstRead struct{ input, line int32 }

// lineOf is the line of a "path:line" source.
func lineOf(source string) int32 {
	n, _ := strconv.ParseInt(source[strings.LastIndexByte(source, ':')+1:], 10, 32)
	return int32(n)
}

func (r *runner) finishReading() {
	close(r.jobs)
	r.mu.Lock()
	r.readDone = true
	r.checkDone()
	r.mu.Unlock()
}

// checkDone ends the streams once everything read has been answered; r.mu is held.
func (r *runner) checkDone() {
	if r.readDone && r.outstanding == 0 {
		select {
		case <-r.allDone:
		default:
			close(r.allDone)
		}
	}
}

func (r *runner) deliver(j *job, item *coveragev1.AuditItem) {
	r.lastAnswer.Store(time.Now().UnixNano())
	item.Index = j.seq
	item.ClientRef = j.source
	o := outcome{seq: j.seq, item: item, isRecord: true}
	var err error
	if o.record, err = r.out.Encode(item); err != nil {
		r.fail(fmt.Errorf("output: %w", err))
	}
	if item.GetError() != nil {
		o.rejects = []string{serverReject(j.source, item)}
	}
	r.results <- o
	r.mu.Lock()
	r.outstanding--
	r.checkDone()
	r.mu.Unlock()
}

func (r *runner) fail(err error) {
	r.fatalOnce.Do(func() {
		r.fatalErr = err
		r.cancel()
	})
}

func (r *runner) write(o outcome, out Output, rejects io.Writer, summary *coverage.BatchSummary, report *Report) error {
	for _, line := range o.rejects {
		if _, err := io.WriteString(rejects, line+"\n"); err != nil {
			return fmt.Errorf("rejects file: %w", err)
		}
	}
	report.Rejects += int64(len(o.rejects))
	if o.resumed {
		return nil
	}
	if o.item == nil {
		if o.isRecord {
			summary.AddRejected()
		}
		return nil
	}
	if err := out.Append(o.record); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	report.Written++
	if a := o.item.GetAudit(); a != nil {
		summary.Add(pbconv.AuditForSummary(a))
	} else {
		summary.AddRejected()
	}
	return nil
}

// serverReject is the rejects-file line of a settlement the server refused.
func serverReject(source string, item *coveragev1.AuditItem) string {
	return oneLine(fmt.Sprintf("%s: %s: %s", source, item.GetSettlementId(), item.GetError().GetMessage()))
}

// work keeps one stream going until every settlement is answered, opening a
// new one (on the next server) when a stream fails; each stream records the
// latency of the settlements it gets answered in lat.
func (r *runner) work(ctx context.Context, lat *latencyRecorder) {
	backoff := 100 * time.Millisecond
	for {
		answered, err := r.stream(ctx, lat)
		if err == nil || ctx.Err() != nil {
			return
		}
		if !retryable(err) {
			r.fail(err)
			return
		}
		if answered > 0 {
			backoff = 100 * time.Millisecond
		}
		if since := time.Since(time.Unix(0, r.lastAnswer.Load())); since > r.cfg.GiveUpAfter {
			r.fail(&UnreachableError{Err: fmt.Errorf("no server answered for %s: %w", since.Round(time.Second), err)})
			return
		}
		if r.cfg.Warn != nil && r.shouldWarn() {
			r.cfg.Warn(fmt.Sprintf("stream lost (%v); resending its settlements", err))
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// shouldWarn lets one warning through every few seconds: while the servers
// are down, every stream fails every couple of seconds, and one line says it.
func (r *runner) shouldWarn() bool {
	now, last := time.Now().UnixNano(), r.lastWarn.Load()
	return now-last >= int64(5*time.Second) && r.lastWarn.CompareAndSwap(last, now)
}

// retryable tells a lost server (try another) from a refusal that any server
// would repeat.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.Internal, codes.Unknown, codes.DeadlineExceeded, codes.Canceled:
		return true
	}
	return false
}

// stream runs one AuditStream until every settlement is answered (nil) or
// the stream fails; then the settlements it had sent and not yet seen
// answered go back to be sent again. Only the oldest of them counts the
// attempt: the server answers in order, so it is the one it was working on,
// and a settlement that makes servers fail cannot take the others down with
// it.
func (r *runner) stream(ctx context.Context, lat *latencyRecorder) (answered int, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := r.cfg.Client.AuditStream(sctx)
	if err != nil {
		return 0, err
	}
	inflight := make(chan *job, r.cfg.Window)
	recvErr := make(chan error, 1)
	recvDone := make(chan struct{})
	// The receiver delivers to the writer, which stops listening once every
	// worker has returned: it must be gone before this stream returns.
	defer func() { cancel(); <-recvDone }()
	var nAnswered atomic.Int64
	go func() {
		defer close(recvDone)
		for {
			resp, err := st.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			item := resp.GetResult()
			if item == nil {
				continue // the stream's own summary; the run makes its own
			}
			var j *job
			select {
			case j = <-inflight:
			default:
				recvErr <- status.Errorf(codes.Internal, "the server answered settlement %q that was not sent", item.GetSettlementId())
				return
			}
			if item.GetSettlementId() != j.settlement.GetId() || item.GetClientRef() != j.source {
				// Put it back so that it is sent again, not lost.
				r.requeue(j, false)
				recvErr <- status.Errorf(codes.Internal, "the server answered %q (%s) where %q (%s) was due", item.GetSettlementId(), item.GetClientRef(), j.settlement.GetId(), j.source)
				return
			}
			lat.record(time.Since(r.epoch) - time.Duration(j.sentAt.Load()))
			nAnswered.Add(1)
			r.deliver(j, item)
		}
	}()
	// requeueAll returns everything not answered once the receiver has stopped.
	requeueAll := func(hand *job) {
		cancel()
		first := true
		for j := range drain(inflight) {
			r.requeue(j, first)
			first = false
		}
		if hand != nil {
			r.requeue(hand, false)
		}
	}
	jobs := r.jobs
	for {
		var j *job
		select {
		case j = <-r.retry:
		default:
			select {
			case j = <-r.retry:
			case next, ok := <-jobs:
				if !ok {
					jobs = nil // read to the end; wait for the others' leftovers or the end
					continue
				}
				j = next
			case err := <-recvErr:
				requeueAll(nil)
				return int(nAnswered.Load()), err
			case <-r.allDone:
				// Everything is answered: close politely, and a failure now
				// loses nothing.
				if st.CloseSend() == nil {
					select {
					case <-recvErr:
					case <-time.After(5 * time.Second):
					}
				}
				return int(nAnswered.Load()), nil
			case <-ctx.Done():
				return int(nAnswered.Load()), ctx.Err()
			}
		}
		select {
		case inflight <- j:
		case err := <-recvErr:
			requeueAll(j)
			return int(nAnswered.Load()), err
		case <-ctx.Done():
			return int(nAnswered.Load()), ctx.Err()
		}
		j.sentAt.Store(int64(time.Since(r.epoch)))
		if err := st.Send(&coveragev1.AuditStreamRequest{RulesetId: r.rulesetID, View: r.cfg.View, Settlement: j.settlement, ClientRef: j.source}); err != nil {
			// The stream is broken; its receiver reports why.
			err = <-recvErr
			requeueAll(nil)
			return int(nAnswered.Load()), err
		}
	}
}

// drain yields what is left in c; c's sender has stopped.
func drain(c chan *job) func(func(*job) bool) {
	return func(yield func(*job) bool) {
		for {
			select {
			case j := <-c:
				if !yield(j) {
					return
				}
			default:
				return
			}
		}
	}
}

func (r *runner) requeue(j *job, blame bool) {
	if blame {
		j.attempts++
		if j.attempts >= r.cfg.MaxAttempts {
			r.fail(&UnreachableError{Err: fmt.Errorf("settlement %q (%s) was lost with its server %d times", j.settlement.GetId(), j.source, j.attempts)})
			return
		}
	}
	r.resent.Add(1)
	r.retry <- j
}
