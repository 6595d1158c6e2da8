#!/bin/sh
# Install what is missing, build, and run every test: the unit and
# integration suites in a -Werror build, then again under AddressSanitizer
# and UndefinedBehaviorSanitizer. Ends with one line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
scripts/deps.sh test || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }

status=0
# check DIR: make check in DIR, print the per-test lines, show failing logs.
check() {
	dir=$1
	( cd "$dir" && make -j2 check >check.out 2>&1 ); rc=$?
	grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' "$dir/check.out"
	if [ $rc -ne 0 ]; then
		tail -30 "$dir/check.out"
		for f in $(find "$dir/tests" -name '*.trs'); do
			grep -qE '^:test-result: (FAIL|ERROR)' "$f" && { echo "--- ${f%.trs}.log"; tail -80 "${f%.trs}.log"; }
		done
	fi
	return $rc
}

# 1. The canonical in-tree build (binary at src/cutover), warnings as errors.
echo "== release build (-Werror)"
{ ./configure --enable-werror >configure.out 2>&1 || { cat configure.out; false; }; } &&
	{ make -j"$(nproc)" >make.out 2>&1 || { tail -50 make.out; false; }; } || { echo "0 passed, 1 failed"; exit 1; }
echo "== release build: make check"
check . || status=1

# 2. The same suite under ASan + UBSan, built from the distribution tree
#    (which also proves the tarball has every file it needs).
if [ "${CUTOVER_SKIP_SANITIZERS:-0}" != 1 ]; then
	echo "== sanitizer build (ASan + UBSan)"
	rm -rf build-sanitizers && mkdir -p build-sanitizers
	make distdir distdir=build-sanitizers/src >/dev/null 2>&1 || { echo "make distdir failed"; status=1; }
	( cd build-sanitizers/src && ./configure --enable-werror --enable-sanitizers CFLAGS="-O1 -g" >configure.out 2>&1 &&
		make -j"$(nproc)" >make.out 2>&1 ) || { tail -50 build-sanitizers/src/make.out 2>/dev/null; status=1; }
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	[ $status -eq 0 ] && { check build-sanitizers/src || status=1; }
fi

python3 scripts/count_results.py . build-sanitizers/src || status=1
exit $status
