#!/usr/bin/env python3
"""Time the GEOS pipeline (through shapely) on the scenario files written by
bench/cmd/genscenarios and print a markdown table beside the Go engine's
timings (the JSON lines of bench/cmd/covertime).

The GEOS pipeline is the usual polygon-approximation method:

    disks = [Point(x, y).buffer(r, quad_segs) for every stop]   # 4*quad_segs-gon
    covered = unary_union(disks).intersection(area).area

timed end to end (best of N runs); reading the file and building the area
polygon are not timed. Benchmark-only: shapely is never a runtime dependency.

Usage: compare_geos.py --dir DIR --go go.jsonl [--runs 3] [--budget 180]
"""

import argparse
import gc
import json
import math
import os
import sys
import time

import shapely
from shapely.geometry import Point, shape
from shapely.ops import unary_union

try:  # shapely 1.x
    from shapely.geos import geos_version_string as GEOS_VERSION
except ImportError:  # shapely 2.x
    GEOS_VERSION = shapely.geos_version_string

ORDER = ["town", "mid", "large", "stress50k", "stress1m"]


def geos_cover(area, stops, radius, quad_segs):
    """Returns (seconds, covered area, phase seconds)."""
    t0 = time.perf_counter()
    disks = [Point(x, y).buffer(radius, quad_segs) for x, y in stops]
    t1 = time.perf_counter()
    union = unary_union(disks)
    t2 = time.perf_counter()
    covered = union.intersection(area).area
    t3 = time.perf_counter()
    return t3 - t0, covered, (t1 - t0, t2 - t1, t3 - t2)


def load(path):
    with open(path) as f:
        d = json.load(f)
    return d, shape(d["area"]), [tuple(p) for p in d["stops"]["coordinates"]]


def inscribed_ratio(quad_segs):
    """Area of the regular 4*quad_segs-gon inscribed in a circle, relative to
    the circle: GEOS's under-count for one isolated disk."""
    n = 4 * quad_segs
    return n / (2 * math.pi) * math.sin(2 * math.pi / n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, help="scenario files (genscenarios -out)")
    ap.add_argument("--go", required=True, help="JSON lines from covertime")
    ap.add_argument("--runs", type=int, default=3, help="GEOS runs per scenario (best reported)")
    ap.add_argument("--quad-segs", type=int, default=8, help="segments per quarter circle (GEOS default 8)")
    ap.add_argument("--budget", type=float, default=180,
                    help="skip a scenario whose single GEOS run is estimated to take longer (seconds)")
    ap.add_argument("--check-quad-segs", type=int, default=64,
                    help="also run once at this resolution on scenarios up to --check-max-stops stops (0: off)")
    ap.add_argument("--check-max-stops", type=int, default=5000)
    args = ap.parse_args()

    go = {}
    with open(args.go) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                go[r["name"]] = r

    rows, checks, phases = [], [], []
    per_stop = None  # seconds per stop of the largest scenario run so far
    for name in ORDER:
        path = os.path.join(args.dir, name + ".json")
        if not os.path.exists(path) or name not in go:
            continue
        g = go[name]
        n = g["stops"]
        est = None
        if per_stop is not None:
            # unary_union is O(n log n) at best; scale by n·log n.
            est = per_stop * n * math.log(n) / math.log(prev_n)
        if est is not None and est > args.budget:
            rows.append((name, n, g["vertices"], g, None, None, est))
            print(f"# {name}: GEOS skipped, estimated {est:.0f} s per run > budget {args.budget:.0f} s",
                  file=sys.stderr)
            continue
        d, area, stops = load(path)
        radius = d["radius_m"]
        best, covered, best_phase, runs = math.inf, None, None, 0
        for i in range(args.runs):
            gc.collect()
            t, covered, ph = geos_cover(area, stops, radius, args.quad_segs)
            runs += 1
            if t < best:
                best, best_phase = t, ph
            # Long runs: one is enough to stay within the budget.
            if t * (args.runs - 1) > args.budget:
                break
        per_stop, prev_n = best / n, n
        rows.append((name, n, g["vertices"], g, best, covered, runs))
        phases.append((name, best_phase))
        print(f"# {name}: GEOS best of {runs}: {best*1e3:.1f} ms, area {covered:.3f}", file=sys.stderr)
        if args.check_quad_segs and n <= args.check_max_stops:
            _, hi, _ = geos_cover(area, stops, radius, args.check_quad_segs)
            checks.append((name, g, hi))

    print(f"GEOS {GEOS_VERSION} via shapely {shapely.__version__}, buffer quad_segs={args.quad_segs} "
          f"(a {4*args.quad_segs}-gon per stop: an isolated disk is under-counted by "
          f"{100*(1-inscribed_ratio(args.quad_segs)):.2f}%); Go {next(iter(go.values()))['go_version']}, "
          f"GOMAXPROCS={next(iter(go.values()))['gomaxprocs']}. Times are best of N wall-clock runs.")
    print()
    print("| scenario | stops | vertices | Go ms (Cover) | Go ms (NewRegion + Cover) | GEOS ms | speed-up (Cover) | speed-up (NewRegion + Cover) | Go area m² (exact) | GEOS area m² | GEOS relative error |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, v, g, best, covered, extra in rows:
        gms = g["cover_ms"]
        gall = g["cover_ms"] + g["newregion_ms"]
        if best is None:
            print(f"| {name} | {n:,} | {v:,} | {gms:.3f} | {gall:.3f} | skipped (estimated {extra:.0f} s per run > {args.budget:.0f} s budget) | – | – | {g['covered_m2']:,.1f} | – | – |")
            continue
        rel = (covered - g["covered_m2"]) / g["covered_m2"]
        print(f"| {name} | {n:,} | {v:,} | {gms:.3f} | {gall:.3f} | {best*1e3:.1f} | {best*1e3/gms:.0f}× | {best*1e3/gall:.0f}× | "
              f"{g['covered_m2']:,.1f} | {covered:,.1f} | {100*rel:+.3f}% |")
    if phases:
        print()
        print("GEOS phases of the best run (ms): buffer (Python loop over stops, one GEOS call each) / unary_union / intersection + area")
        print()
        print("| scenario | buffer | unary_union | intersection + area |")
        print("|---|---:|---:|---:|")
        for name, (b, u, i) in phases:
            print(f"| {name} | {b*1e3:.1f} | {u*1e3:.1f} | {i*1e3:.1f} |")
    if checks:
        q = args.check_quad_segs
        print()
        print(f"Accuracy check: GEOS at quad_segs={q} (a {4*q}-gon; isolated-disk under-count "
              f"{100*(1-inscribed_ratio(q)):.4f}%) against the exact area. Polygonal disks are inscribed, "
              f"so GEOS must come out below the exact area by less than that bound.")
        print()
        print(f"| scenario | Go area m² (exact) | GEOS area m² (quad_segs={q}) | relative difference |")
        print("|---|---:|---:|---:|")
        for name, g, hi in checks:
            rel = (hi - g["covered_m2"]) / g["covered_m2"]
            print(f"| {name} | {g['covered_m2']:,.1f} | {hi:,.1f} | {100*rel:+.4f}% |")


if __name__ == "__main__":
    main()
