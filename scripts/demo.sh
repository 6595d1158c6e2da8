#!/bin/sh
# Quick start: install what is missing, build, and run cutover on
# conf/demo.yaml in front of two demo upstreams (a "legacy monolith" on
# :9001 and an extracted "orders" service on :9002). Ctrl-C stops all three.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
scripts/build.sh
python3 scripts/demo_upstreams.py &
up=$!
# Wait (bounded) for the demo upstreams, so the first request does not 502.
i=0
until curl -s -o /dev/null http://127.0.0.1:9001/ || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
trap 'kill $up 2>/dev/null; kill $px 2>/dev/null; wait 2>/dev/null; exit 0' INT TERM EXIT
src/cutover -c conf/demo.yaml &
px=$!
# Wait (bounded) until the listener answers.
i=0
until curl -s -o /dev/null http://127.0.0.1:8080/ || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
cat <<'TXT'

cutover is running on http://127.0.0.1:8080 (config: conf/demo.yaml).
Try:
  curl -s http://127.0.0.1:8080/api/orders/42     # -> the extracted "orders" service, path rewritten to /orders/42
  curl -s http://127.0.0.1:8080/catalog/7         # -> the "legacy" monolith (catch-all route)
  curl -si http://127.0.0.1:8080/retired          # -> 410 answered by cutover itself
  src/cutover explain -c conf/demo.yaml GET /api/orders/42
  curl -s http://127.0.0.1:9901/metrics | grep cutover_requests_total   # admin API
  curl -s -d '{"state":"open"}' http://127.0.0.1:9901/upstreams/orders/breaker   # force the breaker open...
  curl -s http://127.0.0.1:8080/api/orders/42     # ...and the route falls back to "legacy"
  curl -s -d '{"state":"auto"}' http://127.0.0.1:9901/upstreams/orders/breaker   # hand it back
The access log (one JSON line a request) goes to this terminal.
Ctrl-C stops cutover and the demo upstreams.
TXT
wait $px
