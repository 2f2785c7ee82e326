package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/civic-standards/coverage/clients/batch"
	"github.com/civic-standards/coverage/clients/client"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// ExitInterrupted is the status of an audit stopped by SIGINT or SIGTERM
// (128 + SIGINT, as shells report it); --resume continues it.
const ExitInterrupted = 130

type auditFlags struct {
	inputs    []string
	inFormat  string
	out       string
	format    string
	summary   string
	rejects   string
	areas     string
	stops     string
	areasCRS  string
	stopsCRS  string
	ruleset   string
	resume    bool
	overwrite bool
	streams   int
	window    int
	giveUp    time.Duration
	progress  string
	view      string
}

func auditCmd(g *globals) *cobra.Command {
	f := &auditFlags{}
	cmd := &cobra.Command{
		Use:   "audit --in FILE... --out FILE",
		Short: "Audit every settlement of one or more files, writing one result per settlement",
		Long: `Audit every settlement of the input files against a ruleset on the server(s), and write one
result per settlement, in input order, to --out (JSONL, or CSV when the name ends in .csv or
--format csv), the summary over the whole batch to --summary, the records that could not be
audited to --rejects (file:line: reason), and a summary table to standard output.

Inputs are JSONL (one settlement per line, as the REST API's settlement object), CSV (one row per
settlement; geometry from --areas and --stops, joined by settlement ID) or a GeoJSON
FeatureCollection (one feature per settlement), chosen by extension (--in-format overrides).

--server takes one address, a comma-separated list, or a DNS name (dns:///host:port): the
streams (--streams) are spread over every server, and the settlements in flight on a server
that fails are sent again to the others.

An interrupted run (Ctrl-C, a crash, the servers gone) leaves every written result whole;
run the same command with --resume to continue: it skips what the output holds and appends
the rest, so the output is the same as an uninterrupted run's.

Exit status: 0 every settlement audited; 1 the servers were unreachable or failed; 2 bad flags
or unusable files; 3 finished, but some records were rejected (see the rejects file);
130 interrupted (continue with --resume).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd.Context(), g, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.inputs, "in", "i", nil, "input file of settlements (repeatable): .jsonl, .csv, .geojson")
	fl.StringVar(&f.inFormat, "in-format", "", "input format for every --in: jsonl, csv or geojson (default: by extension)")
	fl.StringVarP(&f.out, "out", "O", "", "results file (required); .csv for CSV, otherwise JSONL")
	fl.StringVar(&f.format, "format", "", "results format: jsonl or csv (default: by the --out extension)")
	fl.StringVar(&f.summary, "summary", "", "summary file (default: the --out path plus .summary.json)")
	fl.StringVar(&f.rejects, "rejects", "", "rejects file (default: the --out path plus .rejects.txt)")
	fl.StringVar(&f.areas, "areas", "", "central areas: GeoJSON FeatureCollection, features keyed by property settlementId")
	fl.StringVar(&f.stops, "stops", "", "bus stops: CSV (settlementId,lon,lat) or GeoJSON points keyed by property settlementId")
	fl.StringVar(&f.areasCRS, "areas-crs", "", "coordinate system of --areas: WGS84, CGCS2000, GCJ02 or BD09 (default WGS84)")
	fl.StringVar(&f.stopsCRS, "stops-crs", "", "coordinate system of --stops (default WGS84)")
	fl.StringVar(&f.ruleset, "ruleset", "", "ruleset ID (default: the server's default)")
	fl.BoolVar(&f.resume, "resume", false, "continue an interrupted run: keep the results in --out and audit the rest")
	fl.BoolVar(&f.overwrite, "overwrite", false, "start again when --out exists")
	fl.IntVar(&f.streams, "streams", batch.DefaultStreams, "audit streams at once, spread over the servers")
	fl.IntVar(&f.window, "window", batch.DefaultWindow, "settlements a stream may have awaiting results")
	fl.DurationVar(&f.giveUp, "give-up-after", batch.DefaultGiveUpAfter, "fail when no server has answered for this long")
	fl.StringVar(&f.view, "view", "basic", "results: basic (without each rule's title, citation and notes, which the ruleset holds) or full")
	fl.StringVar(&f.progress, "progress", "auto", "progress on stderr: auto (a bar on a terminal, lines otherwise), bar, lines or none")
	return cmd
}

func (f *auditFlags) check() error {
	switch {
	case len(f.inputs) == 0:
		return fmt.Errorf("%w: --in is required", errUsage)
	case f.out == "":
		return fmt.Errorf("%w: --out is required", errUsage)
	case f.resume && f.overwrite:
		return fmt.Errorf("%w: --resume and --overwrite exclude each other", errUsage)
	case f.streams < 1 || f.window < 1:
		return fmt.Errorf("%w: --streams and --window must be at least 1", errUsage)
	}
	switch f.progress {
	case "auto", "bar", "lines", "none":
	default:
		return fmt.Errorf("%w: --progress must be auto, bar, lines or none, got %q", errUsage, f.progress)
	}
	if f.view != "basic" && f.view != "full" {
		return fmt.Errorf("%w: --view must be basic or full, got %q", errUsage, f.view)
	}
	if f.summary == "" {
		f.summary = f.out + ".summary.json"
	}
	if f.rejects == "" {
		f.rejects = f.out + ".rejects.txt"
	}
	return nil
}

func runAudit(ctx context.Context, g *globals, f *auditFlags, stdout, stderr io.Writer) error {
	if err := f.check(); err != nil {
		return err
	}
	var inputs []batch.Input
	for _, path := range f.inputs {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%w: --in: %v", errUsage, err)
		}
		format := batch.Format(strings.ToLower(f.inFormat))
		if f.inFormat == "" {
			var err error
			if format, err = batch.DetectFormat(path); err != nil {
				return fmt.Errorf("%w: --in: %v", errUsage, err)
			}
		} else if format != batch.FormatJSONL && format != batch.FormatCSV && format != batch.FormatGeoJSON {
			return fmt.Errorf("%w: --in-format must be jsonl, csv or geojson, got %q", errUsage, f.inFormat)
		}
		inputs = append(inputs, batch.Input{Path: path, Format: format})
	}
	outFormat, err := batch.OutputFormatFor(f.out, f.format)
	if err != nil {
		return fmt.Errorf("%w: --format: %v", errUsage, err)
	}
	var geo *batch.Geometry
	if f.areas != "" || f.stops != "" {
		areasCRS, err := coordinateSystem("--areas-crs", f.areasCRS)
		if err != nil {
			return err
		}
		stopsCRS, err := coordinateSystem("--stops-crs", f.stopsCRS)
		if err != nil {
			return err
		}
		if geo, err = batch.LoadGeometry(f.areas, f.stops, areasCRS, stopsCRS); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}

	c, err := g.dial()
	if err != nil {
		return err
	}
	defer c.Close()

	mode := batch.CreateNew
	switch {
	case f.resume:
		mode = batch.Resume
	case f.overwrite:
		mode = batch.Overwrite
	}
	out, err := batch.OpenOutput(f.out, outFormat, mode)
	if errors.Is(err, batch.ErrOutputExists) {
		return fmt.Errorf("%w: %s exists; continue it with --resume, or start again with --overwrite", errUsage, f.out)
	}
	if err != nil {
		return fmt.Errorf("%w: --out: %v", errUsage, err)
	}
	defer out.Close()
	// The rejects file is rebuilt by every run, a resumed one included: the
	// reading rejects are found again and the server's are in the output.
	rejects, err := os.Create(f.rejects)
	if err != nil {
		return fmt.Errorf("%w: --rejects: %v", errUsage, err)
	}
	defer rejects.Close()

	show := newProgress(f.progress, stderr)
	report, err := batch.Run(ctx, batch.Config{
		Client: c, RulesetID: f.ruleset, View: resultView(f.view), Streams: f.streams, Window: f.window, GiveUpAfter: f.giveUp,
		Progress: show.update,
		Warn:     func(msg string) { show.warn(msg) },
	}, inputs, geo, out, rejects)
	show.finish()
	if geo != nil {
		if unused := geo.Unused(); len(unused) > 0 {
			fmt.Fprintf(stderr, "coverage: %d settlement IDs of the geometry files match no input settlement: %s\n", len(unused), abbreviate(unused, 10))
		}
	}
	if err != nil {
		if report != nil && ctx.Err() != nil {
			fmt.Fprintf(stderr, "coverage: interrupted; %d results written to %s this run. Run the same command with --resume to continue.\n", report.Written, f.out)
			return errInterrupted
		}
		if report != nil {
			fmt.Fprintf(stderr, "coverage: stopped; %d results written to %s this run, every one whole. Run the same command with --resume to continue.\n", report.Written, f.out)
		}
		var unreachable *batch.UnreachableError
		if errors.As(err, &unreachable) {
			return &client.Error{Code: codes.Unavailable, Message: err.Error()}
		}
		return err
	}
	if err := writeFileAtomic(f.summary, report.Summary); err != nil {
		return fmt.Errorf("--summary: %w", err)
	}
	writeSummary(stdout, report, f)
	if report.Rejects > 0 {
		return fmt.Errorf("%w: %d records could not be audited; they are listed in %s", errRejects, report.Rejects, f.rejects)
	}
	return nil
}

var (
	errInterrupted = errors.New("interrupted")
	errRejects     = errors.New("rejected input")
)

func resultView(name string) coveragev1.ResultView {
	if name == "full" {
		return coveragev1.ResultView_RESULT_VIEW_FULL
	}
	return coveragev1.ResultView_RESULT_VIEW_BASIC
}

func coordinateSystem(flag, name string) (coveragev1.CoordinateSystem, error) {
	if name == "" {
		return coveragev1.CoordinateSystem_COORDINATE_SYSTEM_UNSPECIFIED, nil
	}
	full := strings.ToUpper(name)
	if !strings.HasPrefix(full, "COORDINATE_SYSTEM_") {
		full = "COORDINATE_SYSTEM_" + strings.NewReplacer("-", "", "_", "").Replace(full)
	}
	v, ok := coveragev1.CoordinateSystem_value[full]
	if !ok || v == 0 {
		return 0, fmt.Errorf("%w: %s: unknown coordinate system %q; want WGS84, CGCS2000, GCJ02 or BD09", errUsage, flag, name)
	}
	return coveragev1.CoordinateSystem(v), nil
}

func abbreviate(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(" and %d more", len(list)-n)
}

// writeFileAtomic writes m as indented JSON through a temporary file renamed
// into place, so the summary is either the old one or the new one, never half.
func writeFileAtomic(path string, m *coveragev1.BatchSummary) error {
	data, err := protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(m)
	if err != nil {
		return err
	}
	// Indented by encoding/json rather than protojson, whose spacing varies
	// from build to build on purpose.
	var b bytes.Buffer
	if err := json.Indent(&b, data, "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b.Bytes())
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func writeSummary(out io.Writer, report *batch.Report, f *auditFlags) {
	s := report.Summary
	fmt.Fprintf(out, "Audited %d settlements against %s %s in %s: %d audited, %d rejected",
		s.GetSettlements(), s.GetRulesetId(), s.GetRulesetVersion(), report.Elapsed.Round(time.Millisecond), s.GetAudited(), s.GetRejected())
	if report.Resumed > 0 {
		fmt.Fprintf(out, " (%d of them by an earlier, interrupted run)", report.Resumed)
	}
	fmt.Fprint(out, ".\n")
	writeLatency(out, report)
	fmt.Fprintf(out, "Results: %s   Summary: %s", f.out, f.summary)
	if report.Rejects > 0 {
		fmt.Fprintf(out, "   Rejects: %s (%d)", f.rejects, report.Rejects)
	}
	fmt.Fprint(out, "\n\n")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tCOMPLIANT\tNON-COMPLIANT\tINSUFFICIENT DATA\tNOT APPLICABLE\tOTHER\tFURTHEST FROM COMPLIANCE: SHORTFALL")
	for _, r := range s.GetRules() {
		c := r.GetCounts()
		furthest := "-"
		if fs := r.GetFurthest(); len(fs) > 0 {
			furthest = fmt.Sprintf("%s: %s %s", fs[0].GetSettlementId(), trimFloat(fs[0].GetShortfall()), fs[0].GetShortfallUnit())
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", r.GetRuleId(), c.GetCompliant(), c.GetNonCompliant(), c.GetInsufficientData(),
			c.GetNotApplicable(), c.GetInformational()+c.GetNotComputed(), furthest)
	}
	tw.Flush()
	if len(s.GetAggregates()) > 0 {
		fmt.Fprint(out, "\nRules over the whole batch:\n")
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tVERDICT\tSHARE\tREQUIRED\tREASON")
		for _, ag := range s.GetAggregates() {
			share := "-"
			if ag.Share != nil {
				share = percent(ag.GetShare())
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ag.GetRuleId(), strings.TrimPrefix(ag.GetStatus().String(), "STATUS_"),
				share, percent(ag.GetThreshold()), ag.GetReason())
		}
		tw.Flush()
	}
	if len(s.GetActions()) > 0 {
		fmt.Fprint(out, "\nActions to comply, totalled over the batch:\n")
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACTION\tQUANTITY\tUNIT\tSETTLEMENTS\tRULES")
		for _, a := range s.GetActions() {
			kind := a.GetKind()
			if a.GetFacility() != coveragev1.FacilityType_FACILITY_TYPE_UNSPECIFIED {
				kind += " " + strings.TrimPrefix(a.GetFacility().String(), "FACILITY_TYPE_")
			}
			unit := a.GetUnit()
			if a.GetVehicleClass() != "" {
				unit += " (" + a.GetVehicleClass() + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", kind, trimFloat(a.GetQuantity()), unit, a.GetSettlements(), strings.Join(a.GetRuleIds(), ", "))
		}
		tw.Flush()
	}
}

// writeLatency writes the line of the settlements' latency on the streams,
// when any was sent:
//
//	Settlement latency, send to result (154 answered): p50 1.23 ms, p95 2.51 ms, p99 4.02 ms, max 7.80 ms.
//
// bench/load's loadkit reads it; keep its shape.
func writeLatency(out io.Writer, report *batch.Report) {
	l := report.Latency
	if l.Count == 0 {
		return
	}
	fmt.Fprintf(out, "Settlement latency, send to result (%d answered): p50 %s ms, p95 %s ms, p99 %s ms, max %s ms",
		l.Count, millis(l.P50), millis(l.P95), millis(l.P99), millis(l.Max))
	if report.Resent > 0 {
		fmt.Fprintf(out, "; %d re-sent after a lost server, each timed by its answered attempt", report.Resent)
	}
	fmt.Fprint(out, ".\n")
}

// millis is d in milliseconds to about three significant digits.
func millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3f", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f", ms)
	default:
		return fmt.Sprintf("%.0f", ms)
	}
}

func percent(v float64) string { return trimFloat(100*v) + "%" }

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// progress shows how far an audit has got on stderr: a bar on a terminal,
// a line every few seconds otherwise (logs of batch jobs), or nothing.
type progress struct {
	mu      sync.Mutex // warnings come from the streams, updates from the writer
	mode    string
	w       io.Writer
	bar     *progressbar.ProgressBar
	last    time.Time
	current batch.Progress
	every   time.Duration
}

func newProgress(mode string, w io.Writer) *progress {
	if mode == "auto" {
		mode = "lines"
		if f, ok := w.(*os.File); ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
			mode = "bar"
		}
	}
	return &progress{mode: mode, w: w, every: 5 * time.Second}
}

func (p *progress) update(pr batch.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current = pr
	switch p.mode {
	case "bar":
		if p.bar == nil {
			total := pr.Total
			if total == 0 {
				total = -1 // unknown: a spinner
			}
			p.bar = progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription("auditing"),
				progressbar.OptionSetItsString("settlements"),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetWidth(30),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
			)
		}
		_ = p.bar.Set64(pr.Done)
	case "lines":
		if now := time.Now(); pr.Done == 0 || now.Sub(p.last) >= p.every {
			p.last = now
			p.line(pr)
		}
	}
}

func (p *progress) line(pr batch.Progress) {
	elapsed := time.Since(pr.Started)
	fresh := pr.Done - pr.Resumed
	rate := 0.0
	if elapsed > 0 {
		rate = float64(fresh) / elapsed.Seconds()
	}
	msg := fmt.Sprintf("audited %d", pr.Done)
	if pr.Total > 0 {
		msg += fmt.Sprintf(" of %d (%.1f%%)", pr.Total, 100*float64(pr.Done)/float64(pr.Total))
	}
	msg += fmt.Sprintf(", %.0f/s", rate)
	if pr.Total > 0 && rate > 0 && pr.Done < pr.Total {
		msg += fmt.Sprintf(", about %s left", time.Duration(float64(pr.Total-pr.Done)/rate*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintln(p.w, msg)
}

func (p *progress) warn(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == "bar" && p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintln(p.w, "coverage:", msg)
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case "bar":
		if p.bar != nil {
			_ = p.bar.Finish()
		}
	case "lines":
		p.line(p.current)
	}
}
