package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"time"
)

// ErrCommand wraps every failure of an external tool (ip, tc, nft).
var ErrCommand = errors.New("netlab: command failed")

// commandTimeout bounds each ip/tc/nft invocation, so a wedged tool cannot
// hang a test even under a context without deadline.
const commandTimeout = 20 * time.Second

// maxCommandOutput bounds what is kept of a tool's output.
const maxCommandOutput = 1 << 20

// run executes name with args, feeding stdin if not nil, and returns stdout.
// A failure carries the command line and its stderr.
func run(ctx context.Context, log *slog.Logger, stdin io.Reader, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	var stdout, stderr limitedBuffer
	stdout.limit, stderr.limit = maxCommandOutput, maxCommandOutput
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	log.Debug("netlab run", "cmd", name+" "+strings.Join(args, " "), "err", err)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %v: %s", ErrCommand, name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// limitedBuffer keeps at most limit bytes and silently drops the rest, so a
// chatty tool cannot grow memory without bound.
type limitedBuffer struct {
	bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); room < len(p) {
		b.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
