#!/bin/sh
# Integration tests: the real binary against fake upstreams on 127.0.0.1.
# make check sets CUTOVER_BIN and CUTOVER_SRCDIR; by hand:
#   tests/integration/run.sh [-jN] [FILTER...]
# Extra runner options can also come from $INTEGRATION_ARGS (default -j2).
here=$(cd "$(dirname "$0")" && pwd)
: "${CUTOVER_SRCDIR:=$(cd "$here/../.." && pwd)}"
if [ -z "$CUTOVER_BIN" ]; then
	if [ -x "$CUTOVER_SRCDIR/src/cutover" ]; then
		CUTOVER_BIN=$CUTOVER_SRCDIR/src/cutover
	else
		CUTOVER_BIN=./src/cutover
	fi
fi
case $CUTOVER_BIN in
/*) ;;
*) CUTOVER_BIN=$(pwd)/$CUTOVER_BIN ;;
esac
export CUTOVER_BIN CUTOVER_SRCDIR
# make distcheck in scripts/test.sh sets this: the suite already ran twice
# on the same sources (release and sanitizer builds).
if [ "${CUTOVER_SKIP_INTEGRATION:-0}" = 1 ]; then
	echo "integration: skipped (CUTOVER_SKIP_INTEGRATION=1)"
	exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "integration: python3 not found, skipping"
	exit 77
fi
exec python3 "$here/run.py" ${INTEGRATION_ARGS--j2} "$@"
