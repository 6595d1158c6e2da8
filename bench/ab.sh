#!/usr/bin/env bash
# bench/ab.sh: two cutover builds on the same machine, same config, in
# interleaved rounds (wrk -t1 -c50, 128-byte responses, keep-alive; cutover
# alone on CPU 0 with one worker, wrk and an nginx origin on CPU 1), to say
# what a change costs when nothing fails. Usage:
#   BEFORE_BIN=/path/to/old/cutover AFTER_BIN=./src/cutover bench/ab.sh
# Build the "before" binary from a git revision in a worktree (git worktree
# add /tmp/before REV; autoreconf -fi; configure; make src/cutover).
# AFTER_SHADOW=1 gives the "after" run's route a shadow of every request to
# a second origin port, compared: what shadow traffic costs.
# Prints a markdown table; also bench/results/ab.md.
set -uo pipefail
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
BEFORE_BIN=${BEFORE_BIN:?set BEFORE_BIN to the old build}
AFTER_BIN=${AFTER_BIN:-./src/cutover}
for b in "$BEFORE_BIN" "$AFTER_BIN"; do
	[ -x "$b" ] || { echo "ab.sh: no cutover binary at $b" >&2; exit 1; }
done
. "$(dirname "$0")/common.sh" ab.sh

start_cutover() { # WHICH (before|after) -> sets cport, cpid
	cport=$(port)
	local bin=$BEFORE_BIN
	[ "$1" = after ] && bin=$AFTER_BIN
	cat >"$work/cutover-$1.yaml" <<CONF
listeners: [ { address: "127.0.0.1:$cport" } ]
workers: 1
access_log: { path: off }
upstreams: { origin: { servers: [ "127.0.0.1:$oport" ] } }
routes: [ { name: all, match: { path_prefix: / }, upstream: origin } ]
CONF
	if [ "$1" = after ] && [ "${AFTER_SHADOW:-0}" = 1 ]; then
		cat >"$work/cutover-$1.yaml" <<CONF
listeners: [ { address: "127.0.0.1:$cport" } ]
workers: 1
access_log: { path: off }
upstreams:
  origin: { servers: [ "127.0.0.1:$oport" ] }
  shadow: { servers: [ "127.0.0.1:$oport" ], max_connections: 4096 }
routes:
  - name: all
    match: { path_prefix: / }
    upstream: origin
    shadow: { upstream: shadow, max_inflight: 4096, compare: { ignore_headers: [Date] } }
CONF
	fi
	taskset -c 0 "$bin" -c "$work/cutover-$1.yaml" 2>"$work/cutover-$1.err" &
	cpid=$!
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$cport/small" && return 0; sleep 0.1; done
	echo "cutover did not start ($1)" >&2; exit 1
}

declare -A rps cpu
for r in $(seq "$ROUNDS"); do
	order="before after"; [ $((r % 2)) -eq 0 ] && order="after before"
	for mode in $order; do
		start_cutover "$mode"
		taskset -c 1 wrk -t1 -c50 -d1s "http://127.0.0.1:$cport/small" >/dev/null 2>&1
		t0=$(cpu_ticks "$cpid")
		out=$(taskset -c 1 wrk -t1 -c50 -d"${DURATION}s" "http://127.0.0.1:$cport/small" 2>/dev/null)
		t1=$(cpu_ticks "$cpid")
		v=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
		n=$(echo "$out" | awk '/requests in/ {print $1}')
		kill "$cpid"; wait "$cpid" 2>/dev/null
		# CPU per request is steadier than req/s on a shared machine.
		us=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v hz="$(getconf CLK_TCK)" \
			'BEGIN {printf "%.2f", (b - a) / hz * 1e6 / n}')
		rps[$mode]="${rps[$mode]:-} $v"
		cpu[$mode]="${cpu[$mode]:-} $us"
		echo "round $r: $mode: $v req/s, $us us CPU/req" >&2
	done
done
before=$(echo "${rps[before]}" | median)
after=$(echo "${rps[after]}" | median)
cbefore=$(echo "${cpu[before]}" | median)
cafter=$(echo "${cpu[after]}" | median)
{
	echo "# Before/after ($(date -u +%Y-%m-%dT%H:%MZ), $ROUNDS rounds x ${DURATION}s, medians)"
	echo
	echo "| build | req/s | ratio | CPU us/req | ratio |"
	echo "|---|--:|--:|--:|--:|"
	echo "| before ($BEFORE_BIN) | $before | 1.00 | $cbefore | 1.00 |"
	echo "| after ($AFTER_BIN) | $after | $(awk -v a="$after" -v b="$before" 'BEGIN {printf "%.3f", a / b}') | $cafter | $(awk -v a="$cafter" -v b="$cbefore" 'BEGIN {printf "%.3f", a / b}') |"
	echo
	echo "Rounds, req/s: before:${rps[before]}; after:${rps[after]}."
	echo "Rounds, CPU us/req: before:${cpu[before]}; after:${cpu[after]}."
} | tee "$BENCH_DIR/results/ab.md"
