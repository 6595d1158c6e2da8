#!/usr/bin/env bash
# bench/run.sh: cutover vs nginx vs HAProxy as reverse proxies, in one run.
#
# Origin (nginx, static files) and wrk share CPU 1; each proxy runs alone on
# CPU 0 with one worker. Rounds are interleaved with the order rotated, and
# the report (markdown) goes to stdout and bench/results/latest.md
# (latest-tls.md with --tls).
# See bench/README.md. Loopback only; every process started here is stopped
# on exit.
set -uo pipefail

usage() {
	cat <<'EOF'
usage: bench/run.sh [--quick] [--tls] [--rounds N] [--duration SECS] [--idle N]

  --quick          smoke test: 1 round, 3 s runs, 1,000 idle connections
  --tls            clients speak HTTPS to the proxies (TLS 1.3, keep-alive);
                   the proxies still speak HTTP to the origin
  --rounds N       interleaved rounds (default 3)
  --duration SECS  length of each wrk run (default 10)
  --idle N         idle keep-alive connections for the memory test (default 10000)

environment:
  CUTOVER_BIN  the cutover binary (default ./src/cutover, else ./build/src/cutover);
               build it first:  autoreconf -fi && ./configure && make
  KEEP_WORK=1  keep the temporary directory (configs, logs, wrk output)
EOF
}

MODE=full
SCHEME=http
ROUNDS=3
DURATION=10
IDLE=10000
WARMUP=2
CONNS=50
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) MODE=quick; ROUNDS=1; DURATION=3; IDLE=1000; WARMUP=1 ;;
	--tls) SCHEME=https ;;
	--rounds) ROUNDS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--idle) IDLE=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
TOOL=(python3 "$BENCH_DIR/benchtool.py")
RESULTS_DIR=$BENCH_DIR/results

say() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- tools ----------------------------------------------------------------

# install_missing CMD PACKAGE [ALTERNATIVE_PACKAGE]: apt-get only if CMD is
# missing; `apt-get update` only if the package is not found at first.
install_missing() {
	local cmd=$1; shift
	command -v "$cmd" >/dev/null 2>&1 && return 0
	[ "$(id -u)" -eq 0 ] || die "$cmd is missing; install: apt-get install $1"
	say "installing $* for $cmd"
	local pkg
	for pkg in "$@"; do
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null 2>&1 && break
		apt-get update -q >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null 2>&1 && break
	done
	command -v "$cmd" >/dev/null 2>&1 || die "could not install $cmd"
}

export PATH=$PATH:/usr/sbin:/sbin
install_missing python3 python3
install_missing taskset util-linux
install_missing nginx nginx-light nginx
install_missing haproxy haproxy
install_missing wrk wrk
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (proxy on CPU 0, origin and wrk on CPU 1)"

if [ -z "${CUTOVER_BIN:-}" ]; then
	CUTOVER_BIN=./src/cutover
	[ -x "$CUTOVER_BIN" ] || [ ! -x ./build/src/cutover ] || CUTOVER_BIN=./build/src/cutover
fi

# --- processes and cleanup ------------------------------------------------

WORK=$(mktemp -d /tmp/cutover-bench.XXXXXX) || die "mktemp failed"
chmod 755 "$WORK" # nginx workers run as nobody and must reach www/
STARTED=() # daemons still running
FG_PID=     # the foreground job of run_fg, while it runs

cleanup() {
	local pid i
	trap - EXIT INT TERM
	[ -n "$FG_PID" ] && kill -TERM "$FG_PID" 2>/dev/null
	for pid in "${STARTED[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for i in $(seq 30); do
		local left=0
		for pid in "${STARTED[@]}"; do
			kill -0 "$pid" 2>/dev/null && left=1
		done
		[ $left -eq 0 ] && break
		sleep 0.1
	done
	for pid in "${STARTED[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "${KEEP_WORK:-0}" = 1 ]; then
		say "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# File descriptors: 10,000 idle clients need as many in the proxy (and in
# the client script, which raises its own soft limit too).
ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$IDLE" -gt $((NOFILE - 200)) ]; then
	say "open-file limit is $NOFILE: idle test lowered to $((NOFILE - 200)) connections"
	IDLE=$((NOFILE - 200))
fi
MAXCONN=$((IDLE + 1000))

NOTES=$WORK/notes
: >"$NOTES"
note() { say "$*"; printf '%s\n' "$*" >>"$NOTES"; }

# start NAME CPU CMD...: run CMD pinned to CPU in the background; sets PID.
start() {
	local name=$1 cpu=$2; shift 2
	taskset -c "$cpu" "$@" >"$WORK/$name.log" 2>&1 &
	PID=$!
	STARTED+=("$PID")
}

# stop PID: stop one process that start() started.
stop() {
	local i p keep=()
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 30); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	for p in "${STARTED[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	STARTED=("${keep[@]}")
}

# run_fg CMD...: run CMD and wait for it. In the background, because bash
# runs a trap only once a foreground child has finished: this way Ctrl-C
# stops the bench at once, and cleanup() stops CMD too.
run_fg() {
	local rc
	"$@" &
	FG_PID=$!
	wait "$FG_PID"
	rc=$?
	FG_PID=
	return $rc
}

render() { # render TEMPLATE OUT PORT [TLS_PORT]
	sed -e "s|@DIR@|$WORK|g" -e "s|@PORT@|$3|g" -e "s|@TLS_PORT@|${4:-0}|g" \
	    -e "s|@ORIGIN_PORT@|$ORIGIN_PORT|g" -e "s|@MAXCONN@|$MAXCONN|g" \
	    "$BENCH_DIR/conf/$1" >"$2"
}

mapfile -t P < <("${TOOL[@]}" freeports 7)
ORIGIN_PORT=${P[0]}
declare -A PORT=([nginx]=${P[1]} [haproxy]=${P[2]} [cutover]=${P[3]} [direct]=${P[0]})
# Every proxy also listens with TLS (one P-256 certificate, made here); wrk
# uses these with --tls. The origin has none: direct is always HTTP.
declare -A TLS_PORT=([nginx]=${P[4]} [haproxy]=${P[5]} [cutover]=${P[6]} [direct]=${P[0]})
declare -A TPID=()
command -v openssl >/dev/null || die "openssl is missing (apt-get install openssl)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -keyout "$WORK/bench.key" -out "$WORK/bench.crt" >/dev/null 2>&1 ||
	die "openssl could not make the bench certificate"
cat "$WORK/bench.crt" "$WORK/bench.key" >"$WORK/bench.pem" # HAProxy's form
# target_url TARGET SIZE: what wrk asks (direct stays on HTTP).
target_url() {
	if [ "$SCHEME" = https ] && [ "$1" != direct ]; then
		echo "https://127.0.0.1:${TLS_PORT[$1]}/$2"
	else
		echo "http://127.0.0.1:${PORT[$1]}/$2"
	fi
}

mkdir -p "$WORK/www" "$WORK/tmp"
head -c 127 /dev/zero | tr '\0' 's' >"$WORK/www/small"; echo >>"$WORK/www/small"
head -c 16383 /dev/zero | tr '\0' 'L' >"$WORK/www/large"; echo >>"$WORK/www/large"
chmod 755 "$WORK/www"; chmod 644 "$WORK/www/"*

# --- origin and proxies ---------------------------------------------------

render origin.nginx.conf "$WORK/origin.conf" "$ORIGIN_PORT"
start origin 1 nginx -p "$WORK" -c "$WORK/origin.conf"
TPID[direct]=$PID
"${TOOL[@]}" probe "$ORIGIN_PORT" /small 10 "$PID" ||
	die "origin nginx did not start: $(tail -3 "$WORK/origin.log" "$WORK/origin.error.log" 2>/dev/null)"
say "origin nginx on 127.0.0.1:$ORIGIN_PORT (pid $PID, CPU 1)"

render proxy.nginx.conf "$WORK/nginx.conf" "${PORT[nginx]}" "${TLS_PORT[nginx]}"
start nginx 0 nginx -p "$WORK" -c "$WORK/nginx.conf"
if "${TOOL[@]}" probe "${PORT[nginx]}" /small 10 "$PID"; then
	TPID[nginx]=$PID
	say "nginx proxy on 127.0.0.1:${PORT[nginx]} (pid $PID, CPU 0)"
else
	note "nginx did not start: $(tail -1 "$WORK/nginx.log" "$WORK/nginx.error.log" 2>/dev/null | tr '\n' ' ')"
	stop "$PID"
fi

render haproxy.cfg "$WORK/haproxy.cfg" "${PORT[haproxy]}" "${TLS_PORT[haproxy]}"
start haproxy 0 haproxy -db -f "$WORK/haproxy.cfg"
if "${TOOL[@]}" probe "${PORT[haproxy]}" /small 10 "$PID"; then
	TPID[haproxy]=$PID
	say "HAProxy on 127.0.0.1:${PORT[haproxy]} (pid $PID, CPU 0)"
else
	note "HAProxy did not start: $(tail -2 "$WORK/haproxy.log" | tr '\n' ' ')"
	stop "$PID"
fi

CUTOVER_VERSION="cutover (version unknown)"
if [ ! -x "$CUTOVER_BIN" ]; then
	note "cutover: no binary at $CUTOVER_BIN (build: autoreconf -fi && ./configure && make, or set CUTOVER_BIN)"
else
	v=$(timeout 5 "$CUTOVER_BIN" -V 2>&1 | head -1)
	[ -n "$v" ] && CUTOVER_VERSION=$v
	# The full config, less the top-level keys this binary refuses (it
	# may not know every optional key yet); else the minimal one.
	for cfg in cutover.yaml cutover-minimal.yaml; do
		render "$cfg" "$WORK/$cfg" "${PORT[cutover]}" "${TLS_PORT[cutover]}"
		if [ "$cfg" = cutover.yaml ]; then
			dropped=$("${TOOL[@]}" fitconf "$CUTOVER_BIN" "$WORK/$cfg") || continue
			[ -z "$dropped" ] ||
				note "cutover -t refused these keys of bench/conf/cutover.yaml, left out: $dropped"
		fi
		start cutover 0 "$CUTOVER_BIN" -c "$WORK/$cfg"
		if "${TOOL[@]}" probe "${PORT[cutover]}" /small 5 "$PID"; then
			TPID[cutover]=$PID
			say "cutover on 127.0.0.1:${PORT[cutover]} (pid $PID, CPU 0, $cfg)"
			[ "$cfg" = cutover.yaml ] ||
				note "cutover refused bench/conf/cutover.yaml; ran with cutover-minimal.yaml"
			break
		fi
		why=$(tail -2 "$WORK/cutover.log" | tr '\n' ' ')
		stop "$PID"
	done
	[ -n "${TPID[cutover]:-}" ] ||
		note "cutover ($CUTOVER_BIN) did not start or answer GET /small: ${why:-no output}"
fi

# --- throughput and latency -----------------------------------------------

TARGETS=()
for t in nginx haproxy cutover direct; do
	[ -n "${TPID[$t]:-}" ] && TARGETS+=("$t")
done
SIZES=(small large)
RUNS=$WORK/runs.tsv
printf 'round\ttarget\tsize\trequests\trps\tp50_ms\tp99_ms\tcpu_us\terrors\tnon2xx\tother0\tother1\tstatus\n' >"$RUNS"
HZ=$(getconf CLK_TCK)

# run_wrk TARGET SIZE SECS OUT
run_wrk() {
	run_fg timeout $(($3 + 20)) taskset -c 1 wrk -t1 -c"$CONNS" -d"$3"s --latency \
	    "$(target_url "$1" "$2")" >"$4" 2>&1
}

# A run during which other work took more than NOISY% of CPU 0 or CPU 1
# (other jobs, steal time) is run again, at most twice for one cell and
# RETRIES times in all, so the bench still ends in bounded time.
NOISY=15
RETRIES=$((ROUNDS * 2))

# measure ROUND TARGET SIZE: one wrk run, one row of runs.tsv. Returns 3
# when the run was noisy and should be repeated.
measure() {
	local r=$1 t=$2 sz=$3 pid=${TPID[$2]} out=$WORK/wrk-$1-$2-$3.txt
	local line stat
	if ! kill -0 "$pid" 2>/dev/null; then
		printf '%s\t%s\t%s\t0\tnan\tnan\tnan\tnan\t0\t0\tnan\tnan\tdead\n' "$r" "$t" "$sz" >>"$RUNS"
		return 0
	fi
	run_fg "${TOOL[@]}" run "$pid" "${TPID[direct]}" "$out" $((DURATION + 20)) \
	    taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION"s --latency \
	    "$(target_url "$t" "$sz")" >"$WORK/run.out"
	stat=$(<"$WORK/run.out")
	line=$("${TOOL[@]}" wrk "$out")
	# requests rps p50 p99 errors non2xx + ticks other0 other1 -> the row,
	# with CPU µs/request. A run counts ("ok") with at most 0.1% failed
	# requests and at least one request per connection and second: a proxy
	# that stalls on keep-alive would otherwise pass with one request a
	# connection.
	awk -v r="$r" -v t="$t" -v sz="$sz" -v hz="$HZ" -v min=$((CONNS * DURATION)) \
	    -v line="$line" -v stat="$stat" 'BEGIN {
		split(line, f, "\t"); split(stat, c, "\t")
		cpu = f[1] > 0 ? c[1] * 1e6 / hz / f[1] : "nan"
		st = "ok"
		if (f[1] == 0 || f[5] + f[6] > f[1] / 1000)
			st = "fail"
		else if (f[1] < min)
			st = "stalled"
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		    r, t, sz, f[1], f[2], f[3], f[4], cpu, f[5], f[6], c[2], c[3], st
	}' >>"$RUNS"
	say "$(tail -1 "$RUNS" | awk -F'\t' '{ printf "round %s %-8s %-5s %9.0f req/s p50 %.3f ms p99 %.3f ms %.1f us/req, other load %s%%/%s%% %s", $1, $2, $3, $5, $6, $7, $8, $11, $12, $13 }')"
	# CPU 0 matters only when a proxy runs there (not for direct).
	tail -1 "$RUNS" | awk -F'\t' -v n="$NOISY" '$13 == "ok" &&
	    (($2 != "direct" && $11 > n) || $12 > n) { exit 3 }'
}

say "warm-up: ${WARMUP} s per proxy and size"
for t in "${TARGETS[@]}"; do
	for sz in "${SIZES[@]}"; do
		run_wrk "$t" "$sz" "$WARMUP" "$WORK/warmup-$t-$sz.txt"
	done
done

n=${#TARGETS[@]}
for r in $(seq "$ROUNDS"); do
	for s in 0 1; do
		sz=${SIZES[$(((s + r - 1) % 2))]}
		for i in $(seq 0 $((n - 1))); do
			t=${TARGETS[$(((i + r - 1) % n))]}
			tries=0
			while ! measure "$r" "$t" "$sz" && [ "$RETRIES" -gt 0 ] && [ $tries -lt 2 ]; do
				RETRIES=$((RETRIES - 1))
				tries=$((tries + 1))
				# Keep the noisy row for the record, out of the medians.
				sed -i '$ s/\tok$/\tnoisy/' "$RUNS"
				say "other load above $NOISY%: again in 3 s"
				sleep 3
			done
		done
	done
done

# --- memory per idle connection -------------------------------------------

IDLE_TSV=$WORK/idle.tsv
printf 'target\theld\tlost\trss_before_kib\trss_after_kib\tkib_per_conn\tstatus\n' >"$IDLE_TSV"
for t in nginx haproxy cutover; do
	pid=${TPID[$t]:-}
	if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
		printf '%s\t0\t0\t0\t0\tnan\tn/a\n' "$t" >>"$IDLE_TSV"
		continue
	fi
	say "idle: $IDLE keep-alive $SCHEME connections to $t"
	if [ "$SCHEME" = https ]; then
		idle_args=("${TLS_PORT[$t]}" "$IDLE" "$pid" /small tls)
	else
		idle_args=("${PORT[$t]}" "$IDLE" "$pid" /small)
	fi
	if run_fg timeout 180 "${TOOL[@]}" idle "${idle_args[@]}" >"$WORK/idle-$t.out"; then
		line=$(<"$WORK/idle-$t.out")
		printf '%s\t%s\tok\n' "$t" "$line" >>"$IDLE_TSV"
		lost=$(printf '%s' "$line" | cut -f2)
		[ "$lost" = 0 ] || note "$t: $lost of $IDLE idle connections failed or were closed"
	else
		printf '%s\t0\t0\t0\t0\tnan\tfail\n' "$t" >>"$IDLE_TSV"
		note "$t: idle-connection test failed"
	fi
	say "$(tail -1 "$IDLE_TSV" | awk -F'\t' '{ printf "idle %-8s held %s, RSS %s -> %s KiB, %s KiB/conn", $1, $2, $4, $5, $6 }')"
done

# --- report ---------------------------------------------------------------

mkdir -p "$RESULTS_DIR"
export B_SCHEME=$SCHEME B_MODE=$MODE B_ROUNDS=$ROUNDS B_DURATION=$DURATION B_IDLE=$IDLE B_CONNS=$CONNS
export B_NOISY=$NOISY B_NOTES=$NOTES B_CUTOVER="$CUTOVER_VERSION"
export B_NGINX="$(nginx -v 2>&1 | sed 's/^nginx version: //')"
export B_HAPROXY="$(haproxy -v 2>&1 | head -1 | sed 's/ - https.*//')"
export B_WRK="$(wrk -v 2>&1 | head -1 | sed 's/ \[.*//')"
python3 - "$WORK/meta.json" <<'EOF'
import json, os, platform, sys, time
e = os.environ
cpu = "unknown CPU"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
json.dump({
    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    "mode": e["B_MODE"], "rounds": int(e["B_ROUNDS"]),
    "duration": int(e["B_DURATION"]), "idle": int(e["B_IDLE"]),
    "conns": int(e["B_CONNS"]), "sizes": ["small", "large"],
    "noisy": int(e["B_NOISY"]),
    "cpu": cpu, "ncpu": os.cpu_count(), "kernel": platform.release(),
    "versions": [e["B_NGINX"], e["B_HAPROXY"], e["B_WRK"], e["B_CUTOVER"]],
    "notes": ["small = 128-byte body, large = 16 KiB body; keep-alive on "
              "both sides; forwarding headers and a request ID added by "
              "every proxy"] +
             (["--tls: wrk speaks HTTPS (TLS 1.3, one P-256 certificate, "
               "keep-alive: handshakes are amortised) to each proxy, which speaks "
               "HTTP to the origin; direct is HTTP; the idle test holds HTTPS "
               "connections"] if e["B_SCHEME"] == "https" else []) +
             [l.strip() for l in open(e["B_NOTES"]) if l.strip()],
}, open(sys.argv[1], "w"))
EOF
LATEST=latest
[ "$SCHEME" = https ] && LATEST=latest-tls
cp "$RUNS" "$RESULTS_DIR/$LATEST-runs.tsv"
cp "$IDLE_TSV" "$RESULTS_DIR/$LATEST-idle.tsv"
echo
"${TOOL[@]}" report "$RUNS" "$IDLE_TSV" "$WORK/meta.json" "$RESULTS_DIR/$LATEST.md"
say "report written to ${RESULTS_DIR#$PWD/}/$LATEST.md"
