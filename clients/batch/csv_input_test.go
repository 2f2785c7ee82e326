package batch

import (
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

func TestReadCSV(t *testing.T) {
	path := filepath.Join("testdata", "input", "settlements.csv")
	got := mustReadAll(t, path, FormatCSV, nil)
	checkRecords(t, path, got, []wantRecord{
		{line: "2", s: &coveragev1.Settlement{
			Id: "town-a", Name: "Town A, north", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
			ResidentPopulation: wantInt(18000), CountySeat: wantBool(true),
			Facilities: &coveragev1.FacilityCounts{TcmHospitals: wantInt(2)},
			BusFleet: &coveragev1.PublicTransportFleet{Vehicles: []*coveragev1.VehicleGroup{
				{VehicleClass: "BUS_12M", Count: 40},
				{VehicleClass: "BUS_8M", Count: 15},
			}},
			AverageBusSpeedKmh: wantFloat(18.5),
			CentralAreaCrs:     coveragev1.CoordinateSystem_COORDINATE_SYSTEM_GCJ02,
		}},
		{line: "3", s: &coveragev1.Settlement{
			Id: "city-b", Name: `City "B"`, Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY,
			ResidentPopulation: wantInt(1200000), CountySeat: wantBool(false), RegionalCentralCity: wantBool(true),
			BusFleet: &coveragev1.PublicTransportFleet{Vehicles: []*coveragev1.VehicleGroup{
				{LengthM: wantFloat(10.5), Count: 3},
				{VehicleClass: "DOUBLE_DECKER", LengthM: wantFloat(11), Count: 2},
			}},
			CentralAreaCrs: coveragev1.CoordinateSystem_COORDINATE_SYSTEM_WGS84,
		}},
		{line: "4", s: &coveragev1.Settlement{
			Id: "county-c", Name: "Two-line\nname", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_COUNTY,
			ResidentPopulation: wantInt(52000), CountySeat: wantBool(false), RegionalCentralCity: wantBool(false),
			BusFleet: &coveragev1.PublicTransportFleet{StandardUnits: wantFloat(310.5)},
		}},
	})
}

func TestCSVColumnsFollowTheProto(t *testing.T) {
	sc := settlementColumns()
	for _, name := range []string{
		"id", "name", "kind", "regionalCentralCity", "countySeat", "urbanPopulation", "residentPopulation",
		"elderlyPopulation", "preschoolAgePopulation", "urbanisedPopulation", "elderlyCareBeds",
		"preschoolEnrolment", "vocationalSchoolIntake", "generalHighSchoolIntake", "registeredVehicles",
		"publicParkingSpaces", "averageBusSpeedKmh", "busDepotAreaM2", "urbanConstructionLandKm2",
		"roadHierarchyMeetsStandard", "intelligentTrafficSystem", "compulsoryEducationBalanced",
		"centralAreaCrs", "busStopsCrs", "populationPointsCrs", "busFleet.standardUnits", "busFleet.vehicles",
		"resident_population", "bus_fleet.standard_units", "bus_fleet.standardUnits", "facilities.tcm_hospitals",
	} {
		if sc.byName[name] == nil {
			t.Errorf("no column %q", name)
		}
	}
	// Every FacilityCounts field is a column, whatever fields it has.
	fields := (&coveragev1.FacilityCounts{}).ProtoReflect().Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		for _, name := range []string{"facilities." + fd.JSONName(), "facilities." + string(fd.Name())} {
			if col := sc.byName[name]; col == nil || col.field() != fd {
				t.Errorf("column %q missing or on the wrong field", name)
			}
		}
	}
	// Geometry, which is JSON in the API, is not a column.
	for _, name := range []string{"centralArea", "busStops", "centralAreaPolygons", "busStopPositions", "populationPoints", "busFleet"} {
		if sc.byName[name] != nil {
			t.Errorf("unexpected column %q", name)
		}
	}
	for _, col := range sc.columns {
		if len(col.path) > 0 && (col.field().IsList() || col.field().Kind() == protoreflect.MessageKind) {
			t.Errorf("column %q is not a scalar field", col.name)
		}
	}
}

func TestReadCSVValues(t *testing.T) {
	header := "id,kind,countySeat,residentPopulation,averageBusSpeedKmh,centralAreaCrs,bus_stops_crs,facilities.museums\n"
	tests := []struct {
		name string
		row  string
		want *coveragev1.Settlement
		err  []string
	}{
		{"short enum upper", "a,TOWN,,,,,,", &coveragev1.Settlement{Id: "a", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN}, nil},
		{"short enum lower", "a,county_level_city,,,,,,", &coveragev1.Settlement{Id: "a", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_COUNTY_LEVEL_CITY}, nil},
		{"full enum any case", "a,Settlement_Kind_District,,,,cgcs2000,BD09,", &coveragev1.Settlement{
			Id: "a", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_DISTRICT,
			CentralAreaCrs: coveragev1.CoordinateSystem_COORDINATE_SYSTEM_CGCS2000, BusStopsCrs: coveragev1.CoordinateSystem_COORDINATE_SYSTEM_BD09,
		}, nil},
		{"bool true", "a,,TRUE,,,,,", &coveragev1.Settlement{Id: "a", CountySeat: wantBool(true)}, nil},
		{"bool Yes", "a,,Yes,,,,,", &coveragev1.Settlement{Id: "a", CountySeat: wantBool(true)}, nil},
		{"bool 1", "a,,1,,,,,", &coveragev1.Settlement{Id: "a", CountySeat: wantBool(true)}, nil},
		{"bool no", "a,,NO,,,,,", &coveragev1.Settlement{Id: "a", CountySeat: wantBool(false)}, nil},
		{"bool 0", "a,,0,,,,,", &coveragev1.Settlement{Id: "a", CountySeat: wantBool(false)}, nil},
		{"zero is present", "a,,,0,0,,,0", &coveragev1.Settlement{
			Id: "a", ResidentPopulation: wantInt(0), AverageBusSpeedKmh: wantFloat(0), Facilities: &coveragev1.FacilityCounts{Museums: wantInt(0)},
		}, nil},
		{"signed and spaced", "a,,, +12 , -1.5e1 ,,,", &coveragev1.Settlement{Id: "a", ResidentPopulation: wantInt(12), AverageBusSpeedKmh: wantFloat(-15)}, nil},
		{"quoted comma in id", `"a,b",,,,,,,`, &coveragev1.Settlement{Id: "a,b"}, nil},
		{"decimal integer", "a,,,12.5,,,,", nil, []string{`column residentPopulation: "12.5" is not an integer`}},
		{"exponent integer", "a,,,1e3,,,,", nil, []string{`column residentPopulation: "1e3" is not an integer`}},
		{"suffixed integer", "a,,,12x,,,,", nil, []string{`column residentPopulation: "12x" is not an integer`}},
		{"huge integer", "a,,,99999999999999999999,,,,", nil, []string{`column residentPopulation: "99999999999999999999" is out of range`}},
		{"nested integer", "a,,,,,,,two", nil, []string{`column facilities.museums: "two" is not an integer`}},
		{"not a number", "a,,,,fast,,,", nil, []string{`column averageBusSpeedKmh: "fast" is not a number`}},
		{"infinite", "a,,,,Inf,,,", nil, []string{`column averageBusSpeedKmh: "Inf" is not a finite number`}},
		{"nan", "a,,,,NaN,,,", nil, []string{`column averageBusSpeedKmh: "NaN" is not a finite number`}},
		{"bad bool", "a,,maybe,,,,,", nil, []string{`column countySeat: "maybe" is not a yes/no value`}},
		{"bad enum", "a,VILLAGE,,,,,,", nil, []string{`column kind: "VILLAGE" is not a SettlementKind`, "TOWN", "COUNTY_LEVEL_CITY"}},
		{"bad enum of other type", "a,,,,,TOWN,,", nil, []string{`column centralAreaCrs: "TOWN" is not a CoordinateSystem`, "GCJ02"}},
		{"several bad cells", "a,,maybe,12x,,,,", nil, []string{"column countySeat", "column residentPopulation: \"12x\""}},
		{"no id", ",TOWN,,,,,,", nil, []string{"id: required (batch results are keyed by settlement ID)"}},
		{"blank id", "  ,TOWN,,,,,,", nil, []string{"id: required"}},
		{"too few cells", "a,TOWN", nil, []string{"2 cells", "8 columns"}},
		{"too many cells", "a,TOWN,,,,,,,,", nil, []string{"10 cells", "8 columns"}},
		{"bare quote", `a,TO"WN,,,,,,`, nil, []string{`bare "`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeInput(t, "s.csv", header+tt.row+"\nlast,,,,,,,\n")
			got := mustReadAll(t, path, FormatCSV, nil)
			checkRecords(t, path, got, []wantRecord{
				{line: "2", s: tt.want, errParts: tt.err},
				{line: "3", s: &coveragev1.Settlement{Id: "last"}},
			})
		})
	}
}

func TestReadCSVVehicles(t *testing.T) {
	tests := []struct {
		cell string
		want []*coveragev1.VehicleGroup
		err  string
	}{
		{"BUS_12M:40", []*coveragev1.VehicleGroup{{VehicleClass: "BUS_12M", Count: 40}}, ""},
		{" BUS_12M : 40 ; BUS_8M:15; ", []*coveragev1.VehicleGroup{{VehicleClass: "BUS_12M", Count: 40}, {VehicleClass: "BUS_8M", Count: 15}}, ""},
		{"@12:4;MINI@6.5:1", []*coveragev1.VehicleGroup{{LengthM: wantFloat(12), Count: 4}, {VehicleClass: "MINI", LengthM: wantFloat(6.5), Count: 1}}, ""},
		{"BUS_12M", nil, `group "BUS_12M" is not class:count`},
		{"BUS_12M:many", nil, `count "many" is not an integer`},
		{"BUS_12M:4.5", nil, `count "4.5" is not an integer`},
		{":4", nil, "neither a class nor a length"},
		{"@long:4", nil, `length "long" is not a number`},
		{";", nil, "no vehicle groups"},
	}
	for _, tt := range tests {
		path := writeInput(t, "v.csv", "id,busFleet.vehicles\na,\""+tt.cell+"\"\n")
		got := mustReadAll(t, path, FormatCSV, nil)
		want := wantRecord{line: "2"}
		if tt.err != "" {
			want.errParts = []string{"column busFleet.vehicles: ", tt.err}
		} else {
			want.s = &coveragev1.Settlement{Id: "a", BusFleet: &coveragev1.PublicTransportFleet{Vehicles: tt.want}}
		}
		t.Run(tt.cell, func(t *testing.T) { checkRecords(t, path, got, []wantRecord{want}) })
	}
}

func TestReadCSVLineNumbers(t *testing.T) {
	content := "id,name\n" +
		"a,\"one\ntwo\nthree\"\n" + // lines 2-4
		"\n" + // 5: skipped
		"b,plain\n" + // 6
		"c,\"x\"y\n" + // 7: broken quoting
		"d,after\r\n" // 8
	path := writeInput(t, "lines.csv", content)
	got := mustReadAll(t, path, FormatCSV, nil)
	checkRecords(t, path, got, []wantRecord{
		{line: "2", s: &coveragev1.Settlement{Id: "a", Name: "one\ntwo\nthree"}},
		{line: "6", s: &coveragev1.Settlement{Id: "b", Name: "plain"}},
		{line: "7", errParts: []string{"malformed CSV", `extraneous or missing " in quoted-field`}},
		{line: "8", s: &coveragev1.Settlement{Id: "d", Name: "after"}},
	})
}

func TestReadCSVHeaderErrors(t *testing.T) {
	tests := []struct {
		name, content string
		err           []string
		notErr        string
	}{
		{"empty file", "", []string{"empty file", "header"}, ""},
		{"unknown column", "id,residentPop\n", []string{`:1: unknown column "residentPop"`, `did you mean "residentPopulation"`}, "kind"},
		{"unknown column without hint", "id,colour\n", []string{`unknown column "colour"`}, "did you mean"},
		{"case slip", "id,ResidentPopulation\n", []string{`did you mean "residentPopulation"`}, ""},
		{"snake slip", "id,facilities.tcm_hospital\n", []string{`did you mean "facilities.tcmHospitals"`}, ""},
		{"geometry is not a column", "id,centralArea\n", []string{`unknown column "centralArea"`}, ""},
		{"duplicate", "id,name,name\n", []string{`column "name" given twice`}, ""},
		{"duplicate alias", "id,residentPopulation,resident_population\n", []string{`"residentPopulation" and "resident_population" are the same field`}, ""},
		{"unnamed column", "id,,name\n", []string{"column 2 of the header has no name"}, ""},
		{"no id", "name,kind\nx,TOWN\n", []string{"no id column"}, ""},
		{"header on a later line", "\n\nid,bogus\n", []string{`:3: unknown column "bogus"`}, ""},
		{"broken header", "id,\"name\n", []string{"malformed CSV"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeInput(t, "h.csv", tt.content)
			_, err := OpenInput(path, FormatCSV, nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, part := range append(tt.err, path) {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
			if tt.notErr != "" && strings.Contains(err.Error(), tt.notErr) {
				t.Errorf("error %q lists more than needed (%q)", err, tt.notErr)
			}
		})
	}
}

func TestReadCSVHeaderOnly(t *testing.T) {
	path := writeInput(t, "h.csv", "\ufeff id , name \n")
	if got := mustReadAll(t, path, FormatCSV, nil); len(got) != 0 {
		t.Errorf("got %d records, want none", len(got))
	}
	if n, err := CountRecords(path, FormatCSV); n != 0 || err != nil {
		t.Errorf("CountRecords = %d, %v; want 0", n, err)
	}
}
