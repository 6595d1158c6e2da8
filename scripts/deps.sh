#!/bin/sh
# Install the Debian 12 packages cutover needs to build and test, only the
# ones that are missing. Usage: scripts/deps.sh [build|test|bench]
set -eu
want="autoconf automake libtool pkg-config make gcc libevent-dev libssl-dev libyaml-dev libpcre2-dev libjansson-dev libsystemd-dev libcmocka-dev python3 curl"
case "${1:-build}" in
test) want="$want clang valgrind libclang-rt-14-dev prometheus openssl" ;;
bench) want="$want nginx-light haproxy wrk util-linux" ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
