#!/bin/sh
# Runs every Go fuzz target in the module for DURATION each (default 3s):
#   sh scripts/fuzz.sh 3s      # CI smoke
#   sh scripts/fuzz.sh 10m     # a long run; findings land in testdata/fuzz
set -eu
cd "$(dirname "$0")/.."
d="${1:-3s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "fuzz $pkg $target $d"
		# Say why a run failed. A crash found is saved under testdata/fuzz
		# and replayed as a seed by the second run, so it fails again; a
		# fault of the fuzzing engine itself (a worker lost on a loaded
		# machine) does not, and gets one more try.
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$d" "$pkg" >"$log" 2>&1; then
			cat "$log" >&2
			echo "fuzz $pkg $target: failed; running it once more" >&2
			if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$d" "$pkg" >"$log" 2>&1; then
				cat "$log" >&2
				exit 1
			fi
		fi
	done
done
