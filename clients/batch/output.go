package batch

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// OutputFormat is the format of a results file.
type OutputFormat string

// The results formats: JSONL holds each result whole (the AuditItem message
// as protojson, one per line); CSV holds one row per settlement with the
// status, value, threshold and shortfall of every rule, for spreadsheets.
const (
	OutputJSONL OutputFormat = "jsonl"
	OutputCSV   OutputFormat = "csv"
)

// OutputFormatFor is the explicit format when given ("jsonl" or "csv"),
// otherwise the one the path's extension names (.csv is CSV, anything else JSONL).
func OutputFormatFor(path, explicit string) (OutputFormat, error) {
	switch strings.ToLower(explicit) {
	case "jsonl", "ndjson":
		return OutputJSONL, nil
	case "csv":
		return OutputCSV, nil
	case "":
	default:
		return "", fmt.Errorf("output format %q: want jsonl or csv", explicit)
	}
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return OutputCSV, nil
	}
	return OutputJSONL, nil
}

// OpenMode says what to do with a results file that exists.
type OpenMode int

const (
	// CreateNew refuses a file that exists, so a finished run is never
	// overwritten by mistake.
	CreateNew OpenMode = iota
	// Overwrite starts the file again.
	Overwrite
	// Resume keeps the records the file holds and appends the rest; a file
	// that does not exist is created.
	Resume
)

// ErrOutputExists is returned by OpenOutput in CreateNew mode when the file exists.
var ErrOutputExists = errors.New("the output file exists")

// FileOutput is a results file. Each record is appended with one write of
// a whole line, so an interruption at any moment leaves at worst a partial
// last line, which resuming cuts off: no record is torn, lost or doubled.
type FileOutput struct {
	path   string
	format OutputFormat
	mode   OpenMode
	f      *os.File
	rules  []string // rule IDs, for CSV columns
	size   int64    // bytes of whole records
}

// OpenOutput opens the results file at path.
func OpenOutput(path string, format OutputFormat, mode OpenMode) (*FileOutput, error) {
	flags := os.O_RDWR | os.O_CREATE
	switch mode {
	case CreateNew:
		flags |= os.O_EXCL
	case Overwrite:
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%s: %w (resume it, or start again with overwrite)", path, ErrOutputExists)
	}
	if err != nil {
		return nil, err
	}
	return &FileOutput{path: path, format: format, mode: mode, f: f}, nil
}

// Path is the file's path.
func (o *FileOutput) Path() string { return o.path }

// Begin reads back the records of a resumed file, cutting off a partial last
// line, and writes the CSV header of a new one.
func (o *FileOutput) Begin(rs *coveragev1.Ruleset, existing func(*coveragev1.AuditItem) error) error {
	for _, r := range rs.GetRules() {
		o.rules = append(o.rules, r.GetId())
	}
	end, err := o.scan(existing)
	if err != nil {
		return fmt.Errorf("%s: %w", o.path, err)
	}
	if err := o.f.Truncate(end); err != nil {
		return err
	}
	if _, err := o.f.Seek(end, io.SeekStart); err != nil {
		return err
	}
	o.size = end
	if o.format == OutputCSV && end == 0 {
		return o.writeRow(o.header())
	}
	return nil
}

// scan calls existing for each whole record and returns where they end.
func (o *FileOutput) scan(existing func(*coveragev1.AuditItem) error) (int64, error) {
	if o.mode != Resume {
		return 0, nil
	}
	rd := bufio.NewReaderSize(o.f, 1<<20)
	var end int64
	header := o.format == OutputCSV
	for line := 1; ; line++ {
		data, err := rd.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			// No newline: the last write of an interrupted run, never finished.
			return end, nil
		}
		if err != nil {
			return 0, err
		}
		end += int64(len(data))
		if header {
			header = false
			if got, want := string(bytes.TrimRight(data, "\r\n")), csvLine(o.header()); got != want {
				return 0, fmt.Errorf("line 1: the columns differ from this run's (another ruleset, or not a results file); not resuming")
			}
			continue
		}
		var item *coveragev1.AuditItem
		if o.format == OutputCSV {
			item, err = o.parseRow(data)
		} else {
			item = &coveragev1.AuditItem{}
			err = protojson.Unmarshal(data, item)
		}
		if err != nil {
			return 0, fmt.Errorf("line %d is not a result (%v); not resuming", line, err)
		}
		if err := existing(item); err != nil {
			return 0, fmt.Errorf("line %d: %w", line, err)
		}
	}
}

// Encode is a result as the record Append writes: one line. It is safe to
// call from several goroutines at once (after Begin), so that results are
// encoded on the streams that received them, in parallel.
func (o *FileOutput) Encode(item *coveragev1.AuditItem) ([]byte, error) {
	if o.format == OutputCSV {
		return []byte(csvLine(o.row(item)) + "\n"), nil
	}
	data, err := protojson.Marshal(item)
	if err != nil {
		return nil, err
	}
	if !protojsonSpaced {
		return append(data, '\n'), nil
	}
	// protojson varies its spacing from build to build on purpose; compacted,
	// the same result is the same bytes whichever binary wrote it.
	var b bytes.Buffer
	b.Grow(len(data) + 1)
	if err := json.Compact(&b, data); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// protojsonSpaced is whether this binary's protojson puts a space after its
// commas (it decides once per build); only then is compacting needed.
var protojsonSpaced = func() bool {
	data, err := protojson.Marshal(&coveragev1.AuditItem{Index: 1, SettlementId: "x"})
	return err != nil || bytes.Contains(data, []byte(", "))
}()

// Append writes one encoded record.
func (o *FileOutput) Append(record []byte) error { return o.appendLine(record) }

// appendLine writes one record; a write that fails part-way (a full disk) is
// cut back off, so the next record does not follow half of this one.
func (o *FileOutput) appendLine(line []byte) error {
	n, err := o.f.Write(line)
	if err != nil {
		if terr := o.f.Truncate(o.size); terr == nil {
			_, _ = o.f.Seek(o.size, io.SeekStart)
		}
		return err
	}
	o.size += int64(n)
	return nil
}

// Close flushes the file to disk and closes it.
func (o *FileOutput) Close() error {
	err := o.f.Sync()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// CSV columns: the settlement, then five per rule in ruleset order.
var csvFixed = []string{"index", "settlementId", "settlementName", "source", "rulesetId", "rulesetVersion", "tier",
	"compliant", "nonCompliant", "notApplicable", "insufficientData", "errorCode", "error"}

var csvPerRule = []string{"status", "value", "threshold", "shortfall", "shortfallUnit", "actions"}

// csvAction is how a CSV cell lists a result's actions: JSON, since an action
// has several parts and a summary rebuilt from the file totals them.
type csvAction struct {
	Kind         string  `json:"kind"`
	Quantity     float64 `json:"quantity"`
	Unit         string  `json:"unit"`
	UnitZh       string  `json:"unitZh,omitempty"`
	Facility     string  `json:"facility,omitempty"`
	VehicleClass string  `json:"vehicleClass,omitempty"`
	Text         string  `json:"text,omitempty"`
}

func actionsCell(as []*coveragev1.Action) string {
	if len(as) == 0 {
		return ""
	}
	out := make([]csvAction, len(as))
	for i, a := range as {
		out[i] = csvAction{Kind: a.GetKind(), Quantity: a.GetQuantity(), Unit: a.GetUnit(), UnitZh: a.GetUnitZh(),
			VehicleClass: a.GetVehicleClass(), Text: a.GetText()}
		if a.GetFacility() != coveragev1.FacilityType_FACILITY_TYPE_UNSPECIFIED {
			out[i].Facility = a.GetFacility().String()
		}
	}
	data, _ := json.Marshal(out) // strings and finite numbers: cannot fail
	return string(data)
}

func parseActionsCell(cell string) ([]*coveragev1.Action, error) {
	if cell == "" {
		return nil, nil
	}
	var in []csvAction
	if err := json.Unmarshal([]byte(cell), &in); err != nil {
		return nil, err
	}
	out := make([]*coveragev1.Action, len(in))
	for i, a := range in {
		out[i] = &coveragev1.Action{Kind: a.Kind, Quantity: a.Quantity, Unit: a.Unit, UnitZh: a.UnitZh,
			VehicleClass: a.VehicleClass, Text: a.Text}
		if a.Facility != "" {
			f, ok := coveragev1.FacilityType_value[a.Facility]
			if !ok {
				return nil, fmt.Errorf("unknown facility %q", a.Facility)
			}
			out[i].Facility = coveragev1.FacilityType(f)
		}
	}
	return out, nil
}

func (o *FileOutput) header() []string {
	h := append([]string(nil), csvFixed...)
	for _, id := range o.rules {
		for _, c := range csvPerRule {
			h = append(h, id+"."+c)
		}
	}
	return h
}

func (o *FileOutput) row(item *coveragev1.AuditItem) []string {
	a := item.GetAudit()
	c := a.GetCounts()
	row := []string{
		strconv.FormatInt(item.GetIndex(), 10), item.GetSettlementId(), a.GetSettlementName(), item.GetClientRef(),
		a.GetRulesetId(), a.GetRulesetVersion(), a.GetTier().GetId(),
		count(a, c.GetCompliant()), count(a, c.GetNonCompliant()), count(a, c.GetNotApplicable()), count(a, c.GetInsufficientData()),
		item.GetError().GetCode(), item.GetError().GetMessage(),
	}
	byRule := map[string]*coveragev1.RuleResult{}
	for _, r := range a.GetResults() {
		byRule[r.GetRuleId()] = r
	}
	for _, id := range o.rules {
		r, ok := byRule[id]
		if !ok {
			row = append(row, "", "", "", "", "", "")
			continue
		}
		row = append(row, strings.TrimPrefix(r.GetStatus().String(), "STATUS_"),
			number(r.Value), number(r.Threshold), number(r.Shortfall), r.GetShortfallUnit(), actionsCell(r.GetActions()))
	}
	return row
}

func count(a *coveragev1.AuditResponse, n int32) string {
	if a == nil {
		return ""
	}
	return strconv.Itoa(int(n))
}

// number writes the shortest text that reads back as the same float, so a
// summary rebuilt from a CSV file equals the one from the results.
func number(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

// parseRow reads back what a summary needs from a CSV row.
func (o *FileOutput) parseRow(line []byte) (*coveragev1.AuditItem, error) {
	row, err := csv.NewReader(bytes.NewReader(line)).Read()
	if err != nil {
		return nil, err
	}
	if len(row) != len(csvFixed)+len(csvPerRule)*len(o.rules) {
		return nil, fmt.Errorf("%d columns, want %d", len(row), len(csvFixed)+len(csvPerRule)*len(o.rules))
	}
	index, err := strconv.ParseInt(row[0], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("index: %v", err)
	}
	item := &coveragev1.AuditItem{Index: index, SettlementId: row[1], ClientRef: row[3]}
	if row[11] != "" {
		item.Error = &coveragev1.ItemError{Code: row[11], Message: row[12]}
		return item, nil
	}
	a := &coveragev1.AuditResponse{SettlementId: row[1], SettlementName: row[2], RulesetId: row[4], RulesetVersion: row[5]}
	for i, id := range o.rules {
		cells := row[len(csvFixed)+i*len(csvPerRule):][:len(csvPerRule)]
		if cells[0] == "" {
			continue
		}
		st, ok := coveragev1.Status_value["STATUS_"+cells[0]]
		if !ok {
			return nil, fmt.Errorf("%s.status: unknown status %q", id, cells[0])
		}
		r := &coveragev1.RuleResult{RuleId: id, Status: coveragev1.Status(st), ShortfallUnit: cells[4]}
		for j, dst := range []**float64{&r.Value, &r.Threshold, &r.Shortfall} {
			if cells[1+j] == "" {
				continue
			}
			v, err := strconv.ParseFloat(cells[1+j], 64)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %v", id, csvPerRule[1+j], err)
			}
			*dst = &v
		}
		if r.Actions, err = parseActionsCell(cells[5]); err != nil {
			return nil, fmt.Errorf("%s.actions: %v", id, err)
		}
		a.Results = append(a.Results, r)
	}
	item.Audit = a
	return item, nil
}

func (o *FileOutput) writeRow(row []string) error {
	return o.appendLine([]byte(csvLine(row) + "\n"))
}

// csvLine encodes one row on one line: a line break inside a cell (an error
// message could hold one) becomes a space, so that every record is a line
// and resuming can count them.
func csvLine(row []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	clean := make([]string, len(row))
	for i, c := range row {
		clean[i] = oneLine(c)
	}
	_ = w.Write(clean) // a strings.Builder does not fail
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// oneLine replaces line breaks with spaces.
func oneLine(s string) string { return lineBreaks.Replace(s) }
