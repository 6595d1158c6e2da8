#!/bin/sh
# docs_check: every key of the configuration schema (the conf_schema[]
# table in src/conf_load.c) must be documented in man/cutover.yaml.5 and
# shown in conf/cutover.yaml (STYLE point 15).
#
# Run by `make check` with CUTOVER_SRCDIR set; exit 0 ok, 1 on a gap.
set -u

srcdir=${CUTOVER_SRCDIR:-$(dirname "$0")/..}
table=$srcdir/src/conf_load.c
man=$srcdir/man/cutover.yaml.5
example=$srcdir/conf/cutover.yaml

for f in "$table" "$man" "$example"; do
	if [ ! -r "$f" ]; then
		echo "docs_check: cannot read $f" >&2
		exit 1
	fi
done

# Table lines look like:	{ SEC_UPSTREAM, "servers", CONF_T_CUSTOM, ...
keys=$(grep -E '^[[:space:]]*\{ SEC_[A-Z_]+, "[a-z_]+", CONF_T_[A-Z_]+' "$table" |
	sed -E 's/^[^"]*"([a-z_]+)".*/\1/' | sort -u)

if [ -z "$keys" ]; then
	echo "docs_check: no keys found in $table (did the table format change?)" >&2
	exit 1
fi

# The example without comments, so a key only mentioned in a comment does
# not count as shown.
stripped=$(sed 's/#.*//' "$example")

status=0
n=0
for k in $keys; do
	n=$((n + 1))
	# In the man page a key is set in bold: ".B key" or "\fBkey\fR".
	if ! grep -Eq "^\.B[IR]? \"?$k\"?( |\$)|\\\\fB$k\\\\f" "$man"; then
		echo "docs_check: key \"$k\" is not documented in man/cutover.yaml.5" >&2
		status=1
	fi
	if ! printf '%s\n' "$stripped" | grep -Eq "(^|[[:space:]{,])$k:"; then
		echo "docs_check: key \"$k\" is missing from conf/cutover.yaml" >&2
		status=1
	fi
done

[ "$status" -eq 0 ] && echo "docs_check: $n keys documented"
exit "$status"
