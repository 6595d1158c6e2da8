# bench/common.sh: what bench/ab.sh and bench/observability.sh share,
# sourced by both: tools, a work directory cleaned up on exit, free ports,
# the nginx origin on CPU 1 (serving /small, 128 bytes), medians, and a
# process's CPU time. Sets BENCH_DIR, work, pids and oport.
# Usage: . bench/common.sh NAME   (NAME prefixes error messages)
bench_name=${1:-bench}
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
export PATH=$PATH:/usr/sbin:/sbin
for cmd in nginx wrk taskset; do
	command -v $cmd >/dev/null || { echo "$bench_name: $cmd missing (bench/run.sh installs it)" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

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
