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
			grep -qE '^:test-result: (FAIL|ERROR)' "$f" && { echo "--- ${f%.trs}.log"; tail -80 "${f%.trs}.log"; grep -E '^FAILED ' "${f%.trs}.log"; }
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

# 3. A slice of the integration suite with the binary under valgrind:
#    any definite leak or memory error makes cutover exit 99, which fails
#    the test that stopped it.
mkdir -p build-extra
if command -v valgrind >/dev/null 2>&1 && [ "${CUTOVER_SKIP_VALGRIND:-0}" != 1 ]; then
	echo "== valgrind: integration slice"
	CUTOVER_WRAPPER="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99" \
		CUTOVER_BIN="$(pwd)/src/cutover" CUTOVER_SRCDIR="$(pwd)" \
		python3 tests/integration/run.py -j2 keepalive bodies routing headers upgrade fallback test_shadow.test_copy_ test_shadow.test_comparison test_shadow.test_copies_without test_shadow.test_the_primary_answer test_migration.test_candidates_collapse test_reload.test_post_reload test_reload.test_kept_upstream test_reload.test_websocket test_reload.test_request_in_flight test_tls.test_https_request test_tls.test_tls_upstream_connections test_tls.test_health_checks test_tls.test_unverifiable test_tls.test_reload_serves test_tls.test_websocket >build-extra/valgrind.log 2>&1 || status=1
	grep -E '^(FAIL|integration:)' build-extra/valgrind.log
fi

# 4. The libFuzzer targets build with clang and survive a short run over
#    their seed corpora.
if command -v clang >/dev/null 2>&1 && [ "${CUTOVER_SKIP_FUZZ:-0}" != 1 ]; then
	echo "== fuzz targets (clang, libFuzzer)"
	rm -rf build-fuzz && mkdir -p build-fuzz
	make distdir distdir=build-fuzz/src >/dev/null 2>&1
	if ( cd build-fuzz/src && ./configure CC=clang --enable-fuzzing >configure.out 2>&1 &&
		make -j"$(nproc)" fuzz/fuzz_http_parse fuzz/fuzz_http_body fuzz/fuzz_config fuzz/fuzz_path fuzz/fuzz_shadow_compare >make.out 2>&1 ); then
		fp=0; ff=0
		for t in http_parse http_body config path shadow_compare; do
			corpus=build-fuzz/corpus-$t
			mkdir -p "$corpus" && cp fuzz/corpus/$t/* "$corpus"/ 2>/dev/null
			dict=""; [ -f fuzz/$t.dict ] && dict="-dict=fuzz/$t.dict"
			if build-fuzz/src/fuzz/fuzz_$t -max_total_time="${CUTOVER_FUZZ_SECONDS:-15}" -artifact_prefix=build-fuzz/$t- $dict "$corpus" >build-fuzz/$t.log 2>&1; then
				echo "PASS: fuzz_$t"; fp=$((fp + 1))
			else
				echo "FAIL: fuzz_$t"; tail -30 build-fuzz/$t.log; ff=$((ff + 1)); status=1
			fi
		done
		echo "fuzz: $fp passed, $ff failed" >build-extra/fuzz.log
	else
		tail -30 build-fuzz/src/make.out 2>/dev/null
		echo "fuzz: 0 passed, 1 failed" >build-extra/fuzz.log
		status=1
	fi
fi

# 5. make distcheck: the tarball builds, checks and cleans up on its own
#    (its integration run is skipped: the suite ran twice above on the
#    same sources, and it is the slowest part).
if [ "${CUTOVER_SKIP_DISTCHECK:-0}" != 1 ]; then
	echo "== make distcheck"
	if CUTOVER_SKIP_INTEGRATION=1 make distcheck >build-extra/distcheck.out 2>&1; then
		echo "PASS: distcheck"; echo "distcheck: 1 passed, 0 failed" >build-extra/distcheck.log
	else
		echo "FAIL: distcheck"; tail -40 build-extra/distcheck.out
		echo "distcheck: 0 passed, 1 failed" >build-extra/distcheck.log; status=1
	fi
fi

python3 scripts/count_results.py . build-sanitizers/src build-extra/*.log || status=1
exit $status
