package scenarios

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/civic-standards/coverage/coverage/geometry"
)

// File is the on-disk form of a scenario, read by the comparison tools: the
// area as a GeoJSON MultiPolygon and the stops as a GeoJSON MultiPoint, in
// planar metres (not longitude/latitude: the geometry is already projected),
// rings closed as GeoJSON requires. Numbers are written in Go's shortest
// round-trip form, so every reader that parses decimal numbers correctly
// rounded (Go, Python) gets bit-identical float64 inputs.
type File struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	CRS         string  `json:"crs"`
	RadiusM     float64 `json:"radius_m"`
	AreaM2      float64 `json:"area_m2"`
	Vertices    int     `json:"vertices"`
	StopCount   int     `json:"stop_count"`
	Area        struct {
		Type        string           `json:"type"`
		Coordinates [][][][2]float64 `json:"coordinates"`
	} `json:"area"`
	Stops struct {
		Type        string       `json:"type"`
		Coordinates [][2]float64 `json:"coordinates"`
	} `json:"stops"`
}

// planarCRS names the coordinates in File.CRS.
const planarCRS = "planar metres (equal-area plane, no geographic CRS)"

// Write writes the scenario in the File format. It streams the numbers
// itself: a million stops encode in well under a second.
func (s *Scenario) Write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	head := func(k string, v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(bw, "%q:%s,\n", k, b)
	}
	bw.WriteString("{\n")
	head("name", s.Name)
	head("description", s.Description)
	head("crs", planarCRS)
	head("radius_m", s.Radius)
	head("area_m2", s.AreaM2)
	head("vertices", s.Vertices())
	head("stop_count", len(s.Stops))
	var buf []byte
	pt := func(p geometry.Point) {
		buf = append(buf[:0], '[')
		buf = strconv.AppendFloat(buf, p.X, 'g', -1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, p.Y, 'g', -1, 64)
		buf = append(buf, ']')
		bw.Write(buf)
	}
	bw.WriteString(`"area":{"type":"MultiPolygon","coordinates":[`)
	for pi, p := range s.Polygons {
		if pi > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('[')
		for ri, r := range p {
			if ri > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('[')
			for _, q := range r {
				pt(q)
				bw.WriteByte(',')
			}
			pt(r[0]) // GeoJSON rings are closed
			bw.WriteByte(']')
		}
		bw.WriteByte(']')
	}
	bw.WriteString("]},\n")
	bw.WriteString(`"stops":{"type":"MultiPoint","coordinates":[`)
	for i, p := range s.Stops {
		if i > 0 {
			bw.WriteByte(',')
			if i%8 == 0 {
				bw.WriteByte('\n')
			}
		}
		pt(p)
	}
	bw.WriteString("]}\n}\n")
	return bw.Flush()
}

// Read reads a scenario written by Write.
func Read(r io.Reader) (*Scenario, error) {
	var f File
	if err := json.NewDecoder(bufio.NewReaderSize(r, 1<<20)).Decode(&f); err != nil {
		return nil, err
	}
	if f.Area.Type != "MultiPolygon" || f.Stops.Type != "MultiPoint" {
		return nil, fmt.Errorf("scenarios: want a MultiPolygon area and MultiPoint stops, got %q and %q", f.Area.Type, f.Stops.Type)
	}
	s := &Scenario{Name: f.Name, Description: f.Description, Radius: f.RadiusM, AreaM2: f.AreaM2}
	for _, p := range f.Area.Coordinates {
		var poly geometry.Polygon
		for _, r := range p {
			if len(r) > 1 && r[0] == r[len(r)-1] {
				r = r[:len(r)-1]
			}
			ring := make(geometry.Ring, len(r))
			for i, q := range r {
				ring[i] = geometry.Point{X: q[0], Y: q[1]}
			}
			poly = append(poly, ring)
		}
		s.Polygons = append(s.Polygons, poly)
	}
	s.Stops = make([]geometry.Point, len(f.Stops.Coordinates))
	for i, q := range f.Stops.Coordinates {
		s.Stops[i] = geometry.Point{X: q[0], Y: q[1]}
	}
	return s, nil
}
