#!/usr/bin/env bash
# Runs the Go benchmarks of the coverage engine the way docs/benchmarks.md
# reports them: one test binary, pinned to one CPU with GOMAXPROCS=1 (the
# speed targets are per core), -count 6 (benchstat needs 6 samples for a confidence interval), then a benchstat summary when
# benchstat is installed (go install golang.org/x/perf/cmd/benchstat@latest).
#
#   bash bench/run_benchmarks.sh                 # synthetic scenarios + NewRegion + real data
#   BENCH='BenchmarkCover/mid$' bash bench/run_benchmarks.sh
#
# Environment: BENCH (regexp, default all), COUNT (6), CPU (0; CPU= to not pin),
# OUT (directory for bench.txt; default a temp dir, printed), BENCHTIME (1s).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH=${BENCH:-'BenchmarkCover|BenchmarkNewRegion'}
COUNT=${COUNT:-6}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
PIN=()
CPU=${CPU-0}
if [ -n "$CPU" ] && command -v taskset >/dev/null; then
	PIN=(taskset -c "$CPU")
fi

go test -c -o "$OUT/geometry.test" ./coverage/geometry/
{
	echo "# $(date -u +%FT%TZ) $(go version) GOMAXPROCS=1 ${PIN[*]:-unpinned}"
	echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
	echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/bench.txt"
# The test binary runs in the package directory, as go test does (the
# real-data benchmark finds ../../../shared/realdata from there).
(cd coverage/geometry && GOMAXPROCS=1 "${PIN[@]}" "$OUT/geometry.test" \
	-test.run '^$' -test.bench "$BENCH" -test.benchmem -test.count "$COUNT" \
	-test.benchtime "${BENCHTIME:-1s}") | tee -a "$OUT/bench.txt"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/bench.txt"

BS=$(command -v benchstat || true)
if [ -z "$BS" ] && [ -x "$(go env GOPATH)/bin/benchstat" ]; then BS=$(go env GOPATH)/bin/benchstat; fi
if [ -n "$BS" ]; then
	"$BS" "$OUT/bench.txt" | tee "$OUT/benchstat.txt"
fi
echo "# raw output: $OUT/bench.txt" >&2
