#!/bin/sh
# Runs every Go fuzz target in the module for DURATION each (default 3s):
#   sh scripts/fuzz.sh 3s      # CI smoke
#   sh scripts/fuzz.sh 10m     # a long run; findings land in testdata/fuzz
set -eu
cd "$(dirname "$0")/.."
d="${1:-3s}"
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "fuzz $pkg $target $d"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$d" "$pkg" >/dev/null
	done
done
