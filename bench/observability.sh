#!/usr/bin/env bash
# bench/observability.sh: what the access log costs. The same cutover build
# runs with `access_log: off` and with the log written to a file, in
# interleaved rounds (wrk -t1 -c50, 128-byte responses, keep-alive; cutover
# alone on CPU 0 with one worker, wrk and an nginx origin on CPU 1).
# Metrics are always counted (they have no off switch), so both columns
# include them. Prints a markdown table; also bench/results/observability.md.
set -uo pipefail
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CUTOVER_BIN=${CUTOVER_BIN:-./src/cutover}
[ -x "$CUTOVER_BIN" ] || { echo "observability.sh: no cutover binary at $CUTOVER_BIN" >&2; exit 1; }
. "$(dirname "$0")/common.sh" observability.sh

start_cutover() { # MODE (off|file) -> sets cport, cpid
	cport=$(port)
	local log="path: off"
	[ "$1" = file ] && log="path: $work/access.log"
	cat >"$work/cutover-$1.yaml" <<CONF
listeners: [ { address: "127.0.0.1:$cport" } ]
workers: 1
access_log: { $log }
upstreams: { origin: { servers: [ "127.0.0.1:$oport" ] } }
routes: [ { name: all, match: { path_prefix: / }, upstream: origin } ]
CONF
	taskset -c 0 "$CUTOVER_BIN" -c "$work/cutover-$1.yaml" 2>"$work/cutover-$1.err" &
	cpid=$!
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$cport/small" && return 0; sleep 0.1; done
	echo "cutover did not start ($1)" >&2; exit 1
}

declare -A rps
for r in $(seq "$ROUNDS"); do
	order="off file"; [ $((r % 2)) -eq 0 ] && order="file off"
	for mode in $order; do
		start_cutover "$mode"
		taskset -c 1 wrk -t1 -c50 -d1s "http://127.0.0.1:$cport/small" >/dev/null 2>&1
		v=$(taskset -c 1 wrk -t1 -c50 -d"${DURATION}s" "http://127.0.0.1:$cport/small" 2>/dev/null |
			awk '/Requests\/sec/ {print $2}')
		kill "$cpid"; wait "$cpid" 2>/dev/null
		rps[$mode]="${rps[$mode]:-} $v"
		echo "round $r: access_log $mode: $v req/s" >&2
	done
done
off=$(echo "${rps[off]}" | median)
file=$(echo "${rps[file]}" | median)
lines=$(wc -l <"$work/access.log" 2>/dev/null || echo 0)
{
	echo "# Access log cost ($(date -u +%Y-%m-%dT%H:%MZ), $ROUNDS rounds x ${DURATION}s, medians)"
	echo
	echo "| access_log | req/s | ratio |"
	echo "|---|--:|--:|"
	echo "| off | $off | 1.00 |"
	echo "| file | $file | $(awk -v a="$file" -v b="$off" 'BEGIN {printf "%.3f", a / b}') |"
	echo
	echo "Lines written in the last file run: $lines. Metrics are counted in both."
} | tee "$BENCH_DIR/results/observability.md"
