#!/usr/bin/env bash
# Load test of coverage-server, built from the working tree and driven over
# loopback. gRPC and REST load both come from grpcload (bench/load/cmd/grpcload:
# open loop at a fixed rate or closed loop, responses counted, not decoded;
# -http for REST), with ghz and vegeta (pinned in tools/go.mod) run beside it
# as cross-checks; the batch stream from the coverage CLI.
#
#   bash bench/load/run.sh                           # scenarios (a)–(d), 30 s each (about 8 minutes)
#   DURATION=60s bash bench/load/run.sh              # longer runs
#   SOAK=10m bash bench/load/run.sh                  # (a)–(d), then the soak (e)
#   SCENARIOS= SOAK=10m bash bench/load/run.sh       # the soak alone, at half the peak of the last run
#   SCENARIOS= SOAK=10m SOAK_STALL=3m:1m bash bench/load/run.sh  # the soak, every CPU kept busy from 3 to 4 min
#
# Scenarios (SCENARIOS, space-separated; default all four):
#   grpc-audit         (a) unary Audit, no geometry: a ramp of fixed rates (RAMP_RATES, RAMP_STEP
#                          each) and a closed-loop run to find the peak, then TARGET_RATE/s for
#                          DURATION, TARGET_RUNS times; then, for reference, the same request with
#                          RESULT_VIEW_BASIC (BASIC=0 skips it); then grpcload -client std (grpc-go)
#                          closed loop and at TARGET_RATE/s (STD=0 skips them) and ghz closed loop
#                          (GHZ=0 skips it), for RAMP_STEP each, as cross-checks
#   grpc-coverage-mid  (b) unary CheckBusStopCoverage, the "mid" city of bench/scenarios
#                          (1,200 stops, 120 km²), closed loop (MID_CONCURRENCY calls in flight)
#                          for DURATION; then ghz the same way for RAMP_STEP
#   rest-audit         (c) POST /v1/audit with the settlement of (a): closed loop, then open loop
#                          at a third of the gRPC peak; then grpcload -client std (net/http) and
#                          vegeta closed loop as cross-checks (STD=0, VEGETA=0 skip them); then
#                          closed loop with RESULT_VIEW_BASIC
#   stream-audit       (d) AuditStream through `coverage audit` on STREAM_N towns, pass after pass
# and, when SOAK is set, (e) the soak: (a) at SOAK_RATE (default half the gRPC peak) for SOAK on a
# fresh server, its RSS, threads, goroutines and heap sampled every SOAK_EVERY; with SOAK_STALL=AT:FOR,
# loadkit hog keeps every CPU busy from AT into the soak for FOR, a slow phase of the machine on purpose.
#
# Raw outputs: bench/results/load-*.json and load-*.txt; the Markdown summary is printed and
# written to bench/results/load-summary.md (load-soak-summary.md for the soak).
set -euo pipefail

cd "$(dirname "$0")/../.."

DURATION=${DURATION:-30s}
SCENARIOS=${SCENARIOS-grpc-audit grpc-coverage-mid rest-audit stream-audit}
SOAK=${SOAK:-}
SOAK_RATE=${SOAK_RATE:-}
SOAK_EVERY=${SOAK_EVERY:-5s}
SOAK_STALL=${SOAK_STALL:-}                # AT:FOR, e.g. 3m:1m: every CPU busy from AT into the soak, for FOR
RAMP_RATES=${RAMP_RATES:-2000 3000 4000 5000 6000 8000 10000 15000 20000}
RAMP_STEP=${RAMP_STEP:-10s}
TARGET_RATE=${TARGET_RATE:-10000}
TARGET_RUNS=${TARGET_RUNS:-3}             # the target run, TARGET_RATE/s for DURATION, this many times
P99_TARGET_MS=${P99_TARGET_MS:-20}
SETTLEMENT=${SETTLEMENT:-examples/town-health-facilities.json}
GRPC_CONNECTIONS=${GRPC_CONNECTIONS:-2}   # gRPC connections of grpcload and ghz
MAX_CONCURRENCY=${MAX_CONCURRENCY:-32}    # calls in flight in the closed-loop peak runs
WARMUP=${WARMUP:-2s}                      # grpcload: same load before each measured run, not counted
CLIENT=${CLIENT:-lean}                    # grpcload -client: lean (its own HTTP/2 and HTTP/1.1 clients) or std (grpc-go, net/http)
STD=${STD:-1}                             # 0: no cross-checks with grpcload -client std
GHZ=${GHZ:-1}                             # 0: no ghz cross-checks
VEGETA=${VEGETA:-1}                       # 0: no vegeta cross-check
BASIC=${BASIC:-1}                         # 0: no runs with RESULT_VIEW_BASIC
SERVER_ENV=${SERVER_ENV:-}                # VAR=VALUE ... for the server alone, e.g. SERVER_ENV=GOGC=200
SERVER_ARGS=${SERVER_ARGS:-}              # more coverage-server flags, e.g. SERVER_ARGS='--max-concurrent-streams 100'
MID_CONCURRENCY=${MID_CONCURRENCY:-4}     # calls in flight for (b)
MID_RATE=${MID_RATE:-}                    # grpcload open loop at this rate for (b) instead
REST_WORKERS=${REST_WORKERS:-64}          # connections/calls in flight in the closed-loop REST runs
REST_OPEN_WORKERS=${REST_OPEN_WORKERS:-512} # most connections open at once in the open-loop REST run
STREAM_N=${STREAM_N:-10000}
STREAM_STREAMS=${STREAM_STREAMS:-4}       # --streams of the CLI
QUIET_MAX=${QUIET_MAX:-120s}              # wait up to this long for other work on the machine to stop
OUT=${OUT:-bench/results}

mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/coverage-load.XXXXXX")
SERVER_PID=
SAMPLER_PID=
HOG_PID=
cleanup() {
	if [[ -n $HOG_PID ]]; then kill "$HOG_PID" 2>/dev/null || true; fi
	if [[ -n $SAMPLER_PID ]]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
	if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '\n== %s\n' "$*" >&2; }
# fsub A B: A - B, for the CPU seconds that loadkit cpu prints.
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

log "building coverage-server, the coverage CLI, loadkit, grpcload, ghz and vegeta"
go build -o "$WORK/coverage-server" ./server/cmd/coverage-server
go build -o "$WORK/coverage" ./clients/cmd/coverage
go build -o "$WORK/loadkit" ./bench/load/cmd/loadkit
go build -o "$WORK/grpcload" ./bench/load/cmd/grpcload
go build -modfile=tools/go.mod -o "$WORK/ghz" github.com/bojand/ghz/cmd/ghz
go build -modfile=tools/go.mod -o "$WORK/vegeta" github.com/tsenart/vegeta/v12
LK=$WORK/loadkit

"$LK" payloads -out "$WORK/payloads" -settlement "$SETTLEMENT" -stream "$STREAM_N"

# The machine and the tree, for the record.
{
	echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit:    $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- server clients proto coverage 2>/dev/null || echo ' + uncommitted changes in server/, clients/, proto/ or coverage/')"
	echo "go:        $(go version)"
	echo "cpus:      $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'))"
	echo "memory:    $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "loadavg:   $(cat /proc/loadavg)"
	echo "ghz:       $(awk '$1 == "github.com/bojand/ghz" && NF > 1 {print $2}' tools/go.mod)"
	echo "vegeta:    $(awk '$1 == "github.com/tsenart/vegeta/v12" && NF > 1 {print $2}' tools/go.mod)"
	echo "settings:  DURATION=$DURATION WARMUP=$WARMUP RAMP_RATES='$RAMP_RATES' RAMP_STEP=$RAMP_STEP TARGET_RATE=$TARGET_RATE TARGET_RUNS=$TARGET_RUNS CLIENT=$CLIENT STD=$STD SERVER_ENV='$SERVER_ENV' SERVER_ARGS='$SERVER_ARGS' GRPC_CONNECTIONS=$GRPC_CONNECTIONS MAX_CONCURRENCY=$MAX_CONCURRENCY MID_CONCURRENCY=$MID_CONCURRENCY REST_WORKERS=$REST_WORKERS REST_OPEN_WORKERS=$REST_OPEN_WORKERS STREAM_N=$STREAM_N STREAM_STREAMS=$STREAM_STREAMS GHZ=$GHZ VEGETA=$VEGETA BASIC=$BASIC SOAK=$SOAK SOAK_EVERY=$SOAK_EVERY SOAK_STALL=$SOAK_STALL"
	echo "settlement: $SETTLEMENT"
} >"$WORK/env.txt"

# start_server LOGFILE [ENV=VALUE...]: a fresh server on two free loopback
# ports, JSON logs at level warn (so logging stays out of the measurement).
start_server() {
	local logfile=$1
	shift
	read -r GRPC_PORT HTTP_PORT < <("$LK" ports)
	GRPC_ADDR=127.0.0.1:$GRPC_PORT
	HTTP_ADDR=127.0.0.1:$HTTP_PORT
	# shellcheck disable=SC2086 # SERVER_ENV and SERVER_ARGS are lists of words
	env $SERVER_ENV "$@" "$WORK/coverage-server" --grpc-addr "$GRPC_ADDR" --http-addr "$HTTP_ADDR" \
		--log-format json --log-level warn $SERVER_ARGS 2>"$logfile" &
	SERVER_PID=$!
	"$LK" wait -grpc "$GRPC_ADDR" -http "$HTTP_ADDR" -pid "$SERVER_PID" -timeout 60s
	echo "server pid $SERVER_PID: gRPC $GRPC_ADDR, HTTP $HTTP_ADDR, log $logfile" >&2
}

stop_server() {
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" || true
	SERVER_PID=
}

# measure ROWS NAME KIND LABEL OFFERED RATE -- COMMAND...: run one load
# generator with the machine's, the server's and the generator's CPU time
# taken around it, then record the normalised row. KIND is grpcload, ghz or
# vegeta; the command writes its report to $WORK/NAME.KIND.json (grpcload,
# ghz) or its results to $WORK/NAME.bin (vegeta).
measure() {
	local rows=$1 name=$2 kind=$3 label=$4 offered=$5 rate=$6
	shift 7
	if [[ -z ${SKIP_QUIET:-} ]]; then "$LK" quiet -max "$QUIET_MAX"; fi
	local s0 a0 s1 a1
	s0=$("$LK" cpu "$SERVER_PID")
	a0=$("$LK" cpu all)
	"$LK" exec -rusage "$WORK/$name.rusage" -- "$@" >"$WORK/$name.stdout"
	s1=$("$LK" cpu "$SERVER_PID")
	a1=$("$LK" cpu all)
	local report=$OUT/load-$name.json
	case $kind in
	grpcload)
		cp "$WORK/$name.grpcload.json" "$report"
		cp "$WORK/$name.stdout" "$OUT/load-$name.txt"
		;;
	ghz) "$LK" trim-ghz "$WORK/$name.ghz.json" "$report" ;;
	vegeta)
		"$WORK/vegeta" report -type=json "$WORK/$name.bin" >"$report"
		{
			"$WORK/vegeta" report -type=text "$WORK/$name.bin"
			echo
			"$WORK/vegeta" report -type='hist[0,1ms,2ms,5ms,10ms,20ms,50ms,100ms,200ms,500ms,1s]' "$WORK/$name.bin"
		} >"$OUT/load-$name.txt"
		rm -f "$WORK/$name.bin"
		;;
	esac
	"$LK" record -rows "$rows" -scenario "$name" -label "$label" -offered "$offered" -rate "$rate" \
		-"$kind" "$report" -server-cpu "$(fsub "$s1" "$s0")" -gen-rusage "$WORK/$name.rusage" \
		-system-cpu "$(fsub "$a1" "$a0")" -raw "$report"
}

AUDIT_LABEL="Audit, $(basename "$SETTLEMENT")"
BASIC_LABEL="Audit, $(basename "$SETTLEMENT"), view BASIC"
MID_LABEL="CheckBusStopCoverage, mid (1,200 stops, 120 km²)"

# grpcload_run ROWS NAME LABEL OFFERED RATE DURATION PAYLOAD METHOD [grpcload flags...]
grpcload_run() {
	local rows=$1 name=$2 label=$3 offered=$4 rate=$5 dur=$6 payload=$7 method=$8
	shift 8
	measure "$rows" "$name" grpcload "$label" "$offered" "$rate" -- \
		"$WORK/grpcload" -addr "$GRPC_ADDR" -method "/coverage.v1.CoverageService/$method" \
		-payload "$WORK/payloads/$payload" -conns "$GRPC_CONNECTIONS" -duration "$dur" -warmup "$WARMUP" \
		-rate "$rate" -name "$name" -json "$WORK/$name.grpcload.json" -client "$CLIENT" "$@"
}

# rest_run ROWS NAME LABEL OFFERED RATE PAYLOAD [grpcload flags...]: POST /v1/audit with the JSON
# payload for DURATION, through grpcload -http (HTTP/1.1 keep-alive, bodies read and discarded).
rest_run() {
	local rows=$1 name=$2 label=$3 offered=$4 rate=$5 payload=$6
	shift 6
	measure "$rows" "$name" grpcload "$label" "$offered" "$rate" -- \
		"$WORK/grpcload" -http "http://$HTTP_ADDR/v1/audit" -payload "$WORK/payloads/$payload" -duration "$DURATION" \
		-warmup "$WARMUP" -rate "$rate" -name "$name" -json "$WORK/$name.grpcload.json" -client "$CLIENT" "$@"
}

# ghz_run ROWS NAME LABEL OFFERED DURATION PAYLOAD METHOD [ghz flags...]: a closed-loop cross-check.
ghz_run() {
	local rows=$1 name=$2 label=$3 offered=$4 dur=$5 payload=$6 method=$7
	shift 7
	measure "$rows" "$name" ghz "$label" "$offered" 0 -- \
		"$WORK/ghz" --insecure --proto proto/coverage/v1/coverage_service.proto --import-paths proto \
		--connections "$GRPC_CONNECTIONS" --duration-stop wait --format json \
		--call "coverage.v1.CoverageService.$method" --binary-file "$WORK/payloads/$payload" \
		-z "$dur" --output "$WORK/$name.ghz.json" "$@" "$GRPC_ADDR"
}

ROWS=$WORK/rows.jsonl
SOAK_ROWS=$WORK/soak-rows.jsonl
wants() { [[ " $SCENARIOS " == *" $1 "* ]]; }

if [[ -n ${SCENARIOS// /} ]]; then
	start_server "$OUT/load-server-log.txt"

	if wants grpc-audit; then
		log "(a) gRPC Audit: ramp of fixed rates, $RAMP_STEP each"
		for rate in $RAMP_RATES; do
			grpcload_run "$ROWS" "grpc-audit-ramp-$rate" "$AUDIT_LABEL" "$rate/s open loop" "$rate" "$RAMP_STEP" audit.bin Audit
			read -r got errs p99 < <("$LK" table -rows "$ROWS" -get "grpc-audit-ramp-$rate")
			if awk -v g="$got" -v r="$rate" -v p="$p99" 'BEGIN { exit !(g < 0.9 * r || p > 1000) }'; then
				echo "saturated at $rate/s offered ($got/s achieved, p99 $p99 ms, $errs errors): the ramp stops" >&2
				break
			fi
		done
		log "(a) gRPC Audit: closed loop, $MAX_CONCURRENCY calls in flight"
		grpcload_run "$ROWS" grpc-audit-max "$AUDIT_LABEL" "closed loop, $MAX_CONCURRENCY in flight" 0 "$RAMP_STEP" \
			audit.bin Audit -c "$MAX_CONCURRENCY"
		log "(a) gRPC Audit: $TARGET_RATE/s for $DURATION"
		grpcload_run "$ROWS" grpc-audit-fixed "$AUDIT_LABEL" "$TARGET_RATE/s open loop" "$TARGET_RATE" "$DURATION" audit.bin Audit
		# The target run again: its p99 depends on how often the two
		# processes sharing two cores get in each other's way, which one run
		# only samples.
		for ((run = 2; run <= TARGET_RUNS; run++)); do
			log "(a) gRPC Audit: $TARGET_RATE/s for $DURATION, run $run of $TARGET_RUNS"
			grpcload_run "$ROWS" "grpc-audit-fixed-run$run" "$AUDIT_LABEL" "$TARGET_RATE/s open loop, run $run" "$TARGET_RATE" "$DURATION" audit.bin Audit
		done
		if [[ $BASIC == 1 ]]; then
			log "(a) for reference: gRPC Audit with RESULT_VIEW_BASIC, closed loop, then $TARGET_RATE/s for $DURATION"
			grpcload_run "$ROWS" grpc-basic-audit-max "$BASIC_LABEL" "closed loop, $MAX_CONCURRENCY in flight" 0 "$RAMP_STEP" \
				audit-basic.bin Audit -c "$MAX_CONCURRENCY"
			grpcload_run "$ROWS" grpc-basic-audit-fixed "$BASIC_LABEL" "$TARGET_RATE/s open loop" "$TARGET_RATE" "$DURATION" \
				audit-basic.bin Audit
		fi
		if [[ $STD == 1 ]]; then
			log "(a) cross-check: grpcload -client std (grpc-go), Audit, closed loop, then $TARGET_RATE/s for $RAMP_STEP"
			grpcload_run "$ROWS" grpc-audit-max-std "$AUDIT_LABEL (grpc-go client)" "closed loop, $MAX_CONCURRENCY in flight" 0 "$RAMP_STEP" \
				audit.bin Audit -c "$MAX_CONCURRENCY" -client std
			grpcload_run "$ROWS" grpc-audit-fixed-std "$AUDIT_LABEL (grpc-go client)" "$TARGET_RATE/s open loop" "$TARGET_RATE" "$RAMP_STEP" \
				audit.bin Audit -client std
		fi
		if [[ $GHZ == 1 ]]; then
			log "(a) cross-check: ghz, Audit, closed loop, $MAX_CONCURRENCY calls in flight"
			ghz_run "$ROWS" ghz-audit-max "$AUDIT_LABEL (ghz)" "closed loop, $MAX_CONCURRENCY in flight" "$RAMP_STEP" \
				audit.bin Audit -c "$MAX_CONCURRENCY"
		fi
	fi

	if wants grpc-coverage-mid; then
		if [[ -n $MID_RATE ]]; then
			offered="$MID_RATE/s open loop" rate=$MID_RATE flags=()
		else
			offered="closed loop, $MID_CONCURRENCY in flight" rate=0 flags=(-c "$MID_CONCURRENCY")
		fi
		log "(b) gRPC CheckBusStopCoverage, mid city: $offered for $DURATION"
		grpcload_run "$ROWS" grpc-coverage-mid "$MID_LABEL" "$offered" "$rate" "$DURATION" \
			coverage-mid.bin CheckBusStopCoverage "${flags[@]}"
		if [[ $GHZ == 1 ]]; then
			log "(b) cross-check: ghz, CheckBusStopCoverage, closed loop, $MID_CONCURRENCY calls in flight"
			ghz_run "$ROWS" ghz-coverage-mid "$MID_LABEL (ghz)" "closed loop, $MID_CONCURRENCY in flight" "$RAMP_STEP" \
				coverage-mid.bin CheckBusStopCoverage -c "$MID_CONCURRENCY"
		fi
	fi

	if wants rest-audit; then
		log "(c) REST POST /v1/audit: closed loop, $REST_WORKERS in flight, for $DURATION"
		rest_run "$ROWS" rest-audit-max "POST /v1/audit, $(basename "$SETTLEMENT")" "closed loop, $REST_WORKERS in flight" 0 \
			audit.json -c "$REST_WORKERS" -conns "$REST_WORKERS"
		# Open loop at a third of the gRPC peak: what "within 3×" asks the REST path to sustain.
		if grpc_peak=$("$LK" table -rows "$ROWS" -peak grpc-audit 2>/dev/null); then
			rest_rate=$(((grpc_peak + 2) / 3))
		else
			rest_rate=$(((TARGET_RATE + 2) / 3))
		fi
		log "(c) REST POST /v1/audit: $rest_rate/s for $DURATION"
		rest_run "$ROWS" rest-audit-fixed "POST /v1/audit, $(basename "$SETTLEMENT")" "$rest_rate/s open loop" "$rest_rate" \
			audit.json -conns "$REST_OPEN_WORKERS"
		if [[ $STD == 1 ]]; then
			log "(c) cross-check: grpcload -client std (net/http), REST POST /v1/audit, closed loop, $REST_WORKERS in flight, for $DURATION"
			rest_run "$ROWS" rest-audit-max-std "POST /v1/audit, $(basename "$SETTLEMENT") (net/http client)" "closed loop, $REST_WORKERS in flight" 0 \
				audit.json -c "$REST_WORKERS" -conns "$REST_WORKERS" -client std
		fi
		if [[ $VEGETA == 1 ]]; then
			printf 'POST http://%s/v1/audit\nContent-Type: application/json\n@%s\n' "$HTTP_ADDR" "$WORK/payloads/audit.json" >"$WORK/targets.txt"
			log "(c) cross-check: vegeta, REST POST /v1/audit, closed loop, $REST_WORKERS in flight, for $DURATION"
			measure "$ROWS" vegeta-audit-max vegeta "POST /v1/audit, $(basename "$SETTLEMENT") (vegeta)" "closed loop, $REST_WORKERS in flight" 0 -- \
				"$WORK/vegeta" attack -targets "$WORK/targets.txt" -duration "$DURATION" -max-body 0 -timeout 20s \
				-rate 0 -workers "$REST_WORKERS" -max-workers "$REST_WORKERS" -output "$WORK/vegeta-audit-max.bin"
		fi
	fi

	if wants rest-audit && [[ $BASIC == 1 ]]; then
		log "(c) for reference: REST POST /v1/audit with RESULT_VIEW_BASIC, closed loop, $REST_WORKERS in flight, for $DURATION"
		rest_run "$ROWS" rest-basic-audit-max "POST /v1/audit, $(basename "$SETTLEMENT"), view BASIC" "closed loop, $REST_WORKERS in flight" 0 \
			audit-basic.json -c "$REST_WORKERS" -conns "$REST_WORKERS"
	fi

	if wants stream-audit; then
		log "(d) AuditStream through coverage audit: $STREAM_N towns a pass, for $DURATION"
		"$LK" quiet -max "$QUIET_MAX"
		s0=$("$LK" cpu "$SERVER_PID")
		a0=$("$LK" cpu all)
		"$LK" exec -rusage "$WORK/stream.rusage" -- \
			"$LK" stream -cli "$WORK/coverage" -server "$GRPC_ADDR" -in "$WORK/payloads/stream.jsonl" -work "$WORK" \
			-duration "$DURATION" -streams "$STREAM_STREAMS" -report "$OUT/load-stream-audit.json"
		s1=$("$LK" cpu "$SERVER_PID")
		a1=$("$LK" cpu all)
		"$LK" record -rows "$ROWS" -scenario stream-audit -label "AuditStream via coverage audit, $STREAM_N towns" \
			-offered "as fast as it goes, --streams $STREAM_STREAMS" -stream "$OUT/load-stream-audit.json" \
			-server-cpu "$(fsub "$s1" "$s0")" -gen-rusage "$WORK/stream.rusage" -system-cpu "$(fsub "$a1" "$a0")" \
			-raw "$OUT/load-stream-audit.json"
	fi

	stop_server
	cp "$WORK/env.txt" "$OUT/load-env.txt"
	log "summary"
	{
		echo "Load test, $(head -1 "$WORK/env.txt" | cut -c12-): $(nproc) CPUs shared by the load generator and the server; commit $(sed -n 2p "$WORK/env.txt" | cut -c12-)"
		echo
		"$LK" table -rows "$ROWS" -json "$OUT/load-runs.json" -target "$TARGET_RATE" -p99 "$P99_TARGET_MS"
	} | tee "$OUT/load-summary.md"
fi

if [[ -n $SOAK ]]; then
	if [[ -z $SOAK_RATE ]]; then
		if [[ -s $ROWS ]] && peak=$("$LK" table -rows "$ROWS" -peak grpc-audit 2>/dev/null); then :
		elif [[ -s $OUT/load-runs.json ]] && peak=$("$LK" table -rows "$OUT/load-runs.json" -peak grpc-audit 2>/dev/null); then
			echo "peak from the last run's $OUT/load-runs.json" >&2
		else
			echo "SOAK needs the gRPC peak: run the grpc-audit scenario first, or set SOAK_RATE" >&2
			exit 2
		fi
		SOAK_RATE=$(((peak / 2) / 100 * 100))
	fi
	# Goroutines: from the server's /metrics when it serves go_goroutines;
	# otherwise from the runtime's scheduler trace (GODEBUG, no change to the
	# server), which lists every goroutine on stderr every SOAK_EVERY.
	start_server "$WORK/probe.log"
	goroutines_from=metrics
	server_env=()
	if ! "$LK" probe-metrics "http://$HTTP_ADDR/metrics" 2>/dev/null; then
		goroutines_from=schedtrace
		every_ms=$(awk -v d="$SOAK_EVERY" 'BEGIN { n = d + 0; if (d ~ /ms$/) print n; else if (d ~ /m$/) print n * 60000; else print n * 1000 }')
		server_env=(GODEBUG="schedtrace=$every_ms,scheddetail=1")
	fi
	stop_server
	log "(e) soak: gRPC Audit at $SOAK_RATE/s for $SOAK on a fresh server (goroutines from $goroutines_from)"
	"$LK" quiet -max "$QUIET_MAX"
	start_server "$OUT/load-soak-server-log.txt" "${server_env[@]}"
	sampler_args=(-pid "$SERVER_PID" -every "$SOAK_EVERY" -out "$OUT/load-soak-samples.txt" -metrics "http://$HTTP_ADDR/metrics")
	if [[ $goroutines_from == schedtrace ]]; then sampler_args+=(-schedtrace "$OUT/load-soak-server-log.txt"); fi
	"$LK" sample "${sampler_args[@]}" &
	SAMPLER_PID=$!
	offered="$SOAK_RATE/s open loop (half the peak)"
	if [[ -n $SOAK_STALL ]]; then
		# AT counts from the generator's start, its warm-up (WARMUP) included.
		"$LK" hog -after "${SOAK_STALL%%:*}" -for "${SOAK_STALL#*:}" 2>"$OUT/load-soak-hog.txt" &
		HOG_PID=$!
		offered="$offered, every CPU kept busy from ${SOAK_STALL%%:*} for ${SOAK_STALL#*:}"
	fi
	SKIP_QUIET=1 grpcload_run "$SOAK_ROWS" soak "$AUDIT_LABEL" "$offered" "$SOAK_RATE" "$SOAK" audit.bin Audit
	if [[ -n $HOG_PID ]]; then
		kill -TERM "$HOG_PID" 2>/dev/null || true
		wait "$HOG_PID" || true
		HOG_PID=
	fi
	sleep 1
	kill -TERM "$SAMPLER_PID"
	wait "$SAMPLER_PID" || true
	SAMPLER_PID=
	stop_server
	cp "$WORK/env.txt" "$OUT/load-soak-env.txt"
	log "soak summary"
	{
		echo "Soak, $(head -1 "$WORK/env.txt" | cut -c12-): $(nproc) CPUs shared by the load generator and the server; commit $(sed -n 2p "$WORK/env.txt" | cut -c12-); goroutines from $goroutines_from"
		echo
		"$LK" table -rows "$SOAK_ROWS" -json "$OUT/load-soak-runs.json" -soak "$OUT/load-soak-samples.txt" \
			-soak-json "$OUT/load-soak-summary.json"
	} | tee "$OUT/load-soak-summary.md"
fi
