package batch

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzRead reads data as a file of the given format and checks that the
// reader ends in io.EOF or a file error naming the file, that every record is
// either a settlement with an ID or an error, and that CountRecords agrees
// with a read that reaches the end.
func fuzzRead(t *testing.T, name string, format Format, data []byte) {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenInput(path, format, nil)
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("open error %q does not name the file", err)
		}
		return
	}
	defer r.Close()
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("file error %q does not name the file", err)
			}
			return
		}
		n++
		if n > len(data)+1 {
			t.Fatalf("%d records from %d bytes", n, len(data))
		}
		if !strings.HasPrefix(rec.Source, path+":") {
			t.Fatalf("Source %q", rec.Source)
		}
		switch {
		case rec.Err == nil && rec.Settlement == nil, rec.Err != nil && rec.Settlement != nil:
			t.Fatalf("%s: Err %v with Settlement %v", rec.Source, rec.Err, rec.Settlement)
		case rec.Settlement != nil && rec.Settlement.GetId() == "":
			t.Fatalf("%s: settlement without ID", rec.Source)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("Next after io.EOF = %v", err)
	}
	if count, err := CountRecords(path, format); err != nil || count != n {
		t.Fatalf("CountRecords = %d, %v; read %d", count, err, n)
	}
}

func FuzzReadJSONL(f *testing.F) {
	for _, seed := range []string{
		"",
		"\n\n",
		`{"id":"a","kind":"SETTLEMENT_KIND_TOWN","residentPopulation":"18000"}` + "\n" + `{"id":"b"}`,
		"\ufeff{\"id\":\"a\"}\r\n  \r\n{\"id\":\"\"}\n{",
		`{"id":"a","centralArea":{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,1]]]}}`,
		`{"id":"a","busFleet":{"vehicles":[{"lengthM":10.5,"count":"3"}]},"x":1}`,
		"[1]\nnull\n\"id\"\n{}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "f.jsonl", FormatJSONL, data) })
}

func FuzzReadCSV(f *testing.F) {
	for _, seed := range []string{
		"",
		"id\n",
		"\ufeffid,name,kind,residentPopulation,countySeat\na,\"A, b\",town,18000,yes\nb,,,12x,maybe\n",
		"id,busFleet.vehicles,facilities.museums\na,BUS_12M:40;@10.5:3,1\nb,x,\n,,\n",
		"id,name\n\"a\nb\",\"c\"d\nx\ny,z,w\n",
		"name,kind\n",
		"id,id\n",
		"id,centralAreaCrs,averageBusSpeedKmh\na,gcj02,NaN\nb,COORDINATE_SYSTEM_BD09,1e308\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "f.csv", FormatCSV, data) })
}

func FuzzReadGeoJSON(f *testing.F) {
	for _, seed := range []string{
		"",
		`{"type":"FeatureCollection","features":[]}`,
		`{"features":[{"id":1,"properties":{},"geometry":{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,1]]]}}],"type":"FeatureCollection"}`,
		"{\"bbox\":[0,0,1,1],\"features\":[\n{\"properties\":{\"id\":\"a\"},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[1,1,0]]]]}},\n17,null]}",
		`{"type":"Feature","properties":{"id":"a"},"geometry":null}`,
		`{"features":[{"properties":{"id":"a"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "f.geojson", FormatGeoJSON, data) })
}
