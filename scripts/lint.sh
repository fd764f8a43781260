#!/bin/sh
# Static checks that CI fails on: formatting, go vet, staticcheck and
# deadcode at pinned versions (fetched through the Go module proxy by
# `go run pkg@version`, so nothing is installed and go.mod is untouched).
set -eu
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "lint: gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

go vet ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# deadcode exits 0 whatever it finds, so its output is the verdict.
# internal/syncbuf and protocol/internal/vectorgen serve tests only (the
# vector generator runs under `go generate`, through a test), by design.
dead=$(go run golang.org/x/tools/cmd/deadcode@v0.52.0 ./... | grep -v -e '^internal/syncbuf/' -e '^protocol/internal/vectorgen/' || true)
if [ -n "$dead" ]; then
	echo "lint: functions no program reaches (deadcode):" >&2
	echo "$dead" >&2
	exit 1
fi
echo "lint: ok"
