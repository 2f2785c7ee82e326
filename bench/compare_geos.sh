#!/usr/bin/env bash
# Side-by-side timing of the exact Go engine and GEOS (through shapely) on the
# same scenario files. Prints a markdown table (see docs/benchmarks.md).
#
#   bash bench/compare_geos.sh            # all scenarios; stress1m GEOS skipped if over budget
#
# Environment:
#   OUT=DIR            keep the scenario files and results in DIR (default: a temp dir, removed)
#   RUNS=N             timed runs per scenario for Go (default 5; small scenarios repeat for >= 1 s)
#   GEOS_RUNS=N        timed runs per scenario for GEOS (default 3, 1 when a run is long)
#   GEOS_BUDGET=S      skip a GEOS scenario estimated to need more than S seconds per run (default 180)
#   CPU=K              pin both engines to CPU K with taskset when available (default 0; CPU= to not pin)
#
# shapely/GEOS is a benchmark-only dependency: when `python3 -c 'import shapely'`
# fails, Debian's python3-shapely is installed with apt-get (it installs for
# /usr/bin/python3, which is then used).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=python3
if ! "$PY" -c 'import shapely' 2>/dev/null; then
	if ! /usr/bin/python3 -c 'import shapely' 2>/dev/null; then
		echo "# installing python3-shapely (benchmark-only dependency)" >&2
		SUDO=
		if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-shapely >&2 ||
			{ $SUDO apt-get update >&2 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-shapely >&2; }
	fi
	PY=/usr/bin/python3
	"$PY" -c 'import shapely' # fail loudly if still missing
fi

if [ -n "${OUT:-}" ]; then
	DIR=$OUT
	mkdir -p "$DIR"
else
	DIR=$(mktemp -d)
	trap 'rm -rf "$DIR"' EXIT
fi

PIN=()
CPU=${CPU-0}
if [ -n "$CPU" ] && command -v taskset >/dev/null; then
	PIN=(taskset -c "$CPU")
fi

echo "# generating scenarios into $DIR" >&2
go run ./bench/cmd/genscenarios -out "$DIR" >&2
go build -o "$DIR/covertime" ./bench/cmd/covertime

echo "# timing the Go engine (GOMAXPROCS=1 ${PIN[*]:-unpinned})" >&2
GOMAXPROCS=1 "${PIN[@]}" "$DIR/covertime" -dir "$DIR" -runs "${RUNS:-5}" >"$DIR/go.jsonl"

echo "# timing GEOS ($PY, ${PIN[*]:-unpinned})" >&2
"${PIN[@]}" "$PY" bench/compare_geos.py --dir "$DIR" --go "$DIR/go.jsonl" \
	--runs "${GEOS_RUNS:-3}" --budget "${GEOS_BUDGET:-180}" | tee "$DIR/table.md"
