#!/bin/sh
# Build cutover in place: src/cutover. Extra arguments go to ./configure.
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || autoreconf -fi >/dev/null
if [ ! -f Makefile ] || [ "$#" -gt 0 ]; then
	./configure --enable-werror "$@" >/dev/null
fi
make -j"$(nproc)" >/dev/null
