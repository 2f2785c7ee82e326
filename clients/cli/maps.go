package cli

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/spf13/cobra"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// crsNames are the --crs values, as a planner would type them.
var crsNames = map[string]coveragev1.CoordinateSystem{
	"wgs84":    coveragev1.CoordinateSystem_COORDINATE_SYSTEM_WGS84,
	"cgcs2000": coveragev1.CoordinateSystem_COORDINATE_SYSTEM_CGCS2000,
	"gcj02":    coveragev1.CoordinateSystem_COORDINATE_SYSTEM_GCJ02,
	"bd09":     coveragev1.CoordinateSystem_COORDINATE_SYSTEM_BD09,
}

func parseCRS(flag, v string) (coveragev1.CoordinateSystem, error) {
	c, ok := crsNames[strings.ToLower(v)]
	if !ok {
		return 0, fmt.Errorf("%w: %s: unknown coordinate system %q; want wgs84, cgcs2000, gcj02 or bd09", errUsage, flag, v)
	}
	return c, nil
}

// writeGeoJSON writes a FeatureCollection for GIS tools, to a new file unless
// overwrite is set: a map a planner has edited is not silently replaced.
func writeGeoJSON(path string, overwrite bool, fc *geojson.FeatureCollection) error {
	data, err := fc.MarshalJSON()
	if err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		if os.IsExist(err) {
			return fmt.Errorf("%w: --geojson %s exists; add --overwrite to replace it", errUsage, path)
		}
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func gapsCmd(g *globals) *cobra.Command {
	var file, rulesetID, out, crs string
	var tolerance float64
	var maxGaps int32
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "gaps --settlement FILE [--geojson OUT]",
		Short: "Map where a settlement's central area is beyond the radius of every bus stop",
		Long: "Map the gaps in a settlement's bus-stop coverage (POST /v1/gaps/bus-stop-coverage): the parts of the\n" +
			"central area beyond the radius of every stop, largest first, with their exact areas. --geojson writes\n" +
			"them as a FeatureCollection of Polygons for a GIS, each with its rank, area and share as properties.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			outCRS, err := parseCRS("--crs", crs)
			if err != nil {
				return err
			}
			s, fileRuleset, err := readSettlement(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			rulesetID = cmp.Or(rulesetID, fileRuleset)
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.MapBusStopGaps(cmd.Context(), &coveragev1.MapBusStopGapsRequest{
				RulesetId: rulesetID, Settlement: s, ToleranceM: tolerance, OutputCrs: outCRS, MaxGaps: maxGaps,
			})
			if err != nil {
				return err
			}
			if out != "" {
				if err := writeGeoJSON(out, overwrite, gapFeatures(resp)); err != nil {
					return err
				}
			}
			if g.output == "json" {
				return writeJSON(cmd.OutOrStdout(), resp)
			}
			return writeGaps(cmd.OutOrStdout(), resp)
		},
	}
	cmd.Flags().StringVarP(&file, "settlement", "s", "-", "settlement JSON file, or - for standard input")
	cmd.Flags().StringVar(&rulesetID, "ruleset", "", "ruleset ID (default: the server's default)")
	cmd.Flags().StringVar(&out, "geojson", "", "write the gaps to this GeoJSON file")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace an existing --geojson file")
	cmd.Flags().StringVar(&crs, "crs", "wgs84", "coordinate system of the output: wgs84, cgcs2000, gcj02 or bd09")
	cmd.Flags().Float64Var(&tolerance, "tolerance", 0, "largest distance in metres between a drawn outline and the true boundary (0: the server's 1 m)")
	cmd.Flags().Int32Var(&maxGaps, "max-gaps", 0, "most gaps to return, largest first (0: all)")
	return cmd
}

// gapFeatures pairs each gap with its polygon of the response's MultiPolygon.
func gapFeatures(resp *coveragev1.MapBusStopGapsResponse) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	polygons, _ := resp.GetUncovered().AsMap()["coordinates"].([]any)
	for i, gap := range resp.GetGaps() {
		var poly orb.Polygon
		if i < len(polygons) {
			rings, _ := polygons[i].([]any)
			for _, r := range rings {
				positions, _ := r.([]any)
				ring := make(orb.Ring, 0, len(positions))
				for _, p := range positions {
					if xy, ok := p.([]any); ok && len(xy) == 2 {
						x, _ := xy[0].(float64)
						y, _ := xy[1].(float64)
						ring = append(ring, orb.Point{x, y})
					}
				}
				poly = append(poly, ring)
			}
		}
		f := geojson.NewFeature(poly)
		f.Properties["rank"] = gap.GetRank()
		f.Properties["areaM2"] = gap.GetAreaM2()
		f.Properties["shareOfArea"] = gap.GetShareOfArea()
		f.Properties["centroid"] = []float64{gap.GetCentroid().GetLon(), gap.GetCentroid().GetLat()}
		f.Properties["holes"] = gap.GetHoles()
		fc.Append(f)
	}
	return fc
}

func writeGaps(out io.Writer, resp *coveragev1.MapBusStopGapsResponse) error {
	cov := resp.GetCoverage()
	fmt.Fprintf(out, "Coverage %s of %s km²; %d gaps, %s km² uncovered (outlines within %s m, %s).\n\n",
		percent(cov.GetCoverageShare()), trimFloat(cov.GetTotalAreaKm2()), resp.GetGapsTotal(),
		trimFloat(resp.GetUncoveredAreaM2()/1e6), trimFloat(resp.GetToleranceM()), strings.TrimPrefix(resp.GetCrs().String(), "COORDINATE_SYSTEM_"))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tAREA (ha)\tSHARE\tCENTROID (lon, lat)\tVERTICES\tHOLES")
	for _, gap := range resp.GetGaps() {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.6f, %.6f\t%d\t%d\n", gap.GetRank(), trimFloat(gap.GetAreaM2()/1e4), percent(gap.GetShareOfArea()),
			gap.GetCentroid().GetLon(), gap.GetCentroid().GetLat(), gap.GetVertices(), gap.GetHoles())
	}
	return tw.Flush()
}

func planCmd(g *globals) *cobra.Command {
	var file, rulesetID, out, crs, candidatesFile, candidatesCRS string
	var target, spacing float64
	var maxStops int32
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "plan --settlement FILE [--geojson OUT]",
		Short: "Propose the bus stops that bring a settlement's coverage to its threshold",
		Long: "Plan bus stops (POST /v1/plan/bus-stops): greedy maximum coverage with exact gains, from a grid over the\n" +
			"uncovered area or from the sites in --candidates (a GeoJSON MultiPoint or FeatureCollection of Points,\n" +
			"for example stops on existing bus routes), until the tier's threshold (or --target) is reached.\n" +
			"--geojson writes the stops as a FeatureCollection of Points with their order and the coverage after each.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			outCRS, err := parseCRS("--crs", crs)
			if err != nil {
				return err
			}
			candCRS, err := parseCRS("--candidates-crs", candidatesCRS)
			if err != nil {
				return err
			}
			req := &coveragev1.PlanBusStopsRequest{RulesetId: rulesetID, GridSpacingM: spacing, MaxStops: maxStops, OutputCrs: outCRS, CandidatesCrs: candCRS}
			if cmd.Flags().Changed("target") {
				req.TargetShare = &target
			}
			if candidatesFile != "" {
				if req.Candidates, err = readCandidates(candidatesFile); err != nil {
					return err
				}
			}
			var fileRuleset string
			if req.Settlement, fileRuleset, err = readSettlement(file, cmd.InOrStdin()); err != nil {
				return err
			}
			req.RulesetId = cmp.Or(rulesetID, fileRuleset)
			c, err := g.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.PlanBusStops(cmd.Context(), req)
			if err != nil {
				return err
			}
			if out != "" {
				if err := writeGeoJSON(out, overwrite, planFeatures(resp)); err != nil {
					return err
				}
			}
			if g.output == "json" {
				return writeJSON(cmd.OutOrStdout(), resp)
			}
			return writePlan(cmd.OutOrStdout(), resp)
		},
	}
	cmd.Flags().StringVarP(&file, "settlement", "s", "-", "settlement JSON file, or - for standard input")
	cmd.Flags().StringVar(&rulesetID, "ruleset", "", "ruleset ID (default: the server's default)")
	cmd.Flags().StringVar(&out, "geojson", "", "write the planned stops to this GeoJSON file")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace an existing --geojson file")
	cmd.Flags().StringVar(&crs, "crs", "wgs84", "coordinate system of the output: wgs84, cgcs2000, gcj02 or bd09")
	cmd.Flags().Float64Var(&target, "target", 0, "share of the central area to reach, above 0 and at most 1 (default: the tier's threshold)")
	cmd.Flags().Float64Var(&spacing, "grid-spacing", 0, "spacing in metres of the candidate grid (0: the server's 100 m)")
	cmd.Flags().Int32Var(&maxStops, "max-stops", 0, "most stops to add (0: the server's limit)")
	cmd.Flags().StringVar(&candidatesFile, "candidates", "", "GeoJSON file of the sites to choose from instead of a grid")
	cmd.Flags().StringVar(&candidatesCRS, "candidates-crs", "wgs84", "coordinate system of --candidates")
	return cmd
}

// readCandidates reads sites from a GeoJSON Point, MultiPoint or
// FeatureCollection of Points.
func readCandidates(path string) (*coveragev1.Positions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: --candidates: %v", errUsage, err)
	}
	var points []orb.Point
	add := func(g orb.Geometry) error {
		switch g := g.(type) {
		case orb.Point:
			points = append(points, g)
		case orb.MultiPoint:
			points = append(points, g...)
		default:
			return fmt.Errorf("a %s; want Points", g.GeoJSONType())
		}
		return nil
	}
	if fc, err := geojson.UnmarshalFeatureCollection(data); err == nil && fc.Type == "FeatureCollection" {
		for i, f := range fc.Features {
			if f.Geometry == nil {
				return nil, fmt.Errorf("%w: --candidates %s: feature %d has no geometry", errUsage, path, i)
			}
			if err := add(f.Geometry); err != nil {
				return nil, fmt.Errorf("%w: --candidates %s: feature %d is %v", errUsage, path, i, err)
			}
		}
	} else if g, err := geojson.UnmarshalGeometry(data); err == nil {
		if err := add(g.Geometry()); err != nil {
			return nil, fmt.Errorf("%w: --candidates %s: the geometry is %v", errUsage, path, err)
		}
	} else {
		return nil, fmt.Errorf("%w: --candidates %s: not a GeoJSON FeatureCollection or geometry: %v", errUsage, path, err)
	}
	if len(points) == 0 {
		return nil, fmt.Errorf("%w: --candidates %s: no points", errUsage, path)
	}
	out := &coveragev1.Positions{Positions: make([]*coveragev1.LonLat, len(points))}
	for i, p := range points {
		out.Positions[i] = &coveragev1.LonLat{Lon: p.Lon(), Lat: p.Lat()}
	}
	return out, nil
}

func planFeatures(resp *coveragev1.PlanBusStopsResponse) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for i, s := range resp.GetAddedStops() {
		p := s.GetPosition()
		if len(p) != 2 {
			continue
		}
		f := geojson.NewFeature(orb.Point{p[0], p[1]})
		f.Properties["order"] = i + 1
		f.Properties["coverageShare"] = s.GetCoverageShare()
		f.Properties["gainM2"] = s.GetGainM2()
		fc.Append(f)
	}
	return fc
}

func writePlan(out io.Writer, resp *coveragev1.PlanBusStopsResponse) error {
	fmt.Fprintf(out, "%d stops take coverage from %s to %s; target %s (%s): %s. At least %d stops are needed from these %d candidates.\n\n",
		resp.GetStopsAdded(), percent(resp.GetBefore().GetCoverageShare()), percent(resp.GetFinalShare()),
		percent(resp.GetTargetShare()), resp.GetTargetReason(), resp.GetStopped(), resp.GetLowerBound(), resp.GetCandidates())
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORDER\tLON\tLAT\tCOVERAGE AFTER\tNEW AREA (ha)")
	for i, s := range resp.GetAddedStops() {
		p := s.GetPosition()
		if len(p) != 2 {
			continue
		}
		fmt.Fprintf(tw, "%d\t%.6f\t%.6f\t%s\t%s\n", i+1, p[0], p[1], percent(s.GetCoverageShare()), trimFloat(s.GetGainM2()/1e4))
	}
	return tw.Flush()
}
