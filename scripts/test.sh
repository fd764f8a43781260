#!/bin/sh
# The whole check, as CI runs it (.ci/run calls exactly this):
#   1. static checks: gofmt, go vet, staticcheck, deadcode (scripts/lint.sh);
#   2. every test; as root with iproute2/nftables/smcroute/chromium also the
#      namespace, routed-multicast and browser tests (they skip otherwise);
#   3. the race detector on every package that runs goroutines;
#   4. two seconds of fuzzing per fuzz target.
# cmd/herald alone takes 10-15 minutes as root on 2 cores, hence the timeout.
set -eu
cd "$(dirname "$0")/.."

sh scripts/lint.sh
go test -timeout 40m ./...
go test -race -timeout 40m \
	./multicast/... ./node/... ./presence/... ./push/... ./message/... \
	./identity/... ./history/... ./webui/... ./bench/cmd/blast/... \
	./internal/group/... ./internal/hook/... ./internal/lockfile/... ./internal/termui/...
sh scripts/fuzz.sh 2s
