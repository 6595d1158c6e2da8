#!/usr/bin/env bash
# bench/ab.sh: two cutover builds on the same machine, same config, in
# interleaved rounds (wrk -t1 -c50, 128-byte responses, keep-alive; cutover
# alone on CPU 0 with one worker, wrk and an nginx origin on CPU 1), to say
# what a change costs when nothing fails. Usage:
#   BEFORE_BIN=/path/to/old/cutover AFTER_BIN=./src/cutover bench/ab.sh
# scripts/bench_ab.sh builds the "before" binary from a git revision.
# Prints a markdown table; also bench/results/ab.md.
set -uo pipefail
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
BEFORE_BIN=${BEFORE_BIN:?set BEFORE_BIN to the old build}
AFTER_BIN=${AFTER_BIN:-./src/cutover}
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
export PATH=$PATH:/usr/sbin:/sbin
for cmd in nginx wrk taskset; do
	command -v $cmd >/dev/null || { echo "ab.sh: $cmd missing (bench/run.sh installs it)" >&2; exit 1; }
done
for b in "$BEFORE_BIN" "$AFTER_BIN"; do
	[ -x "$b" ] || { echo "ab.sh: no cutover binary at $b" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$work/www" "$BENCH_DIR/results"
head -c 128 /dev/zero | tr '\0' 'x' >"$work/www/small"
oport=$(port)
cat >"$work/origin.conf" <<CONF
worker_processes 1; daemon off; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$oport; root $work/www; } }
CONF
taskset -c 1 nginx -c "$work/origin.conf" -p "$work" & pids+=($!)

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
	taskset -c 0 "$bin" -c "$work/cutover-$1.yaml" 2>"$work/cutover-$1.err" &
	cpid=$!
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$cport/small" && return 0; sleep 0.1; done
	echo "cutover did not start ($1)" >&2; exit 1
}

# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

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
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
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
