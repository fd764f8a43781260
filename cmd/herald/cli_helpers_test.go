package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/syncbuf"
	"github.com/herald-lan/herald/multicast"
)

// result is what one command line produced.
type result struct {
	stdout, stderr string
	code           int
}

// cliRun describes one invocation of the real CLI.
type cliRun struct {
	args    []string          // after "herald"
	stdin   string            // the app's input
	network multicast.Network // nil: real UDP
}

// exec runs r through newApp the way main does, with a 60 s safety net.
func (r cliRun) exec(t *testing.T) result {
	t.Helper()
	var stdout, stderr syncbuf.Buffer
	app := newApp(&stdout, &stderr)
	app.Reader = strings.NewReader(r.stdin)
	ctx, cancel := context.WithTimeout(withNetwork(context.Background(), r.network), 60*time.Second)
	defer cancel()
	code := runApp(ctx, app, append([]string{"herald"}, r.args...))
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// herald runs args and fails the test unless it exits 0.
func herald(t *testing.T, args ...string) result {
	t.Helper()
	res := cliRun{args: args}.exec(t)
	if res.code != 0 {
		t.Fatalf("herald %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res
}

// jsonLines decodes one JSON object per line into T.
func jsonLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var items []T
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		items = append(items, v)
	}
	return items
}

// identityOf returns `herald --home home id --json`.
func identityOf(t *testing.T, home string) idJSON {
	t.Helper()
	ids := jsonLines[idJSON](t, herald(t, "--home", home, "id", "--json").stdout)
	if len(ids) != 1 {
		t.Fatalf("id --json printed %d objects", len(ids))
	}
	return ids[0]
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// withNetwork returns ctx for a run of the CLI on network (a MemNet host)
// instead of real UDP.
func withNetwork(ctx context.Context, network multicast.Network) context.Context {
	return context.WithValue(ctx, runEnvKey{}, &runEnv{network: network})
}
