package hook

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Bounds of the side effects: each command runs at most Timeout, one at
// a time, and at most QueueLen wait; more are dropped with a warning so
// a slow hook cannot hold up reception.
const (
	Timeout  = 30 * time.Second
	QueueLen = 64
)

// Command is one process to start: Args[0] is the program (looked up in
// PATH), never a shell. Env is added to the environment herald runs in.
type Command struct {
	What string // names it in warnings, e.g. "--exec"
	Args []string
	Env  []string
	Dir  string
}

// Runner runs commands one at a time off the receive path, from a
// bounded queue; when the queue is full a command is skipped with a
// warning. Safe for concurrent use; Close waits for the queue to drain.
type Runner struct {
	errw    io.Writer
	timeout time.Duration
	queue   chan Command
	done    chan struct{}
	once    sync.Once
}

// NewRunner starts a runner that writes the commands' output and its
// warnings to errw.
func NewRunner(errw io.Writer) *Runner {
	return newRunner(errw, QueueLen, Timeout)
}

func newRunner(errw io.Writer, queue int, timeout time.Duration) *Runner {
	r := &Runner{errw: errw, timeout: timeout, queue: make(chan Command, queue), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for cmd := range r.queue {
			r.exec(cmd)
		}
	}()
	return r
}

// Run queues cmd; it never blocks. It reports whether cmd was queued.
func (r *Runner) Run(cmd Command) bool {
	if len(cmd.Args) == 0 {
		return false
	}
	select {
	case r.queue <- cmd:
		return true
	default:
		fmt.Fprintf(r.errw, "%s: %d commands already waiting, skipped one\n", cmd.What, cap(r.queue))
		return false
	}
}

func (r *Runner) exec(c Command) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdout, cmd.Stderr = r.errw, r.errw
	cmd.WaitDelay = time.Second // a child holding the output open cannot keep us
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("killed after %v", r.timeout)
		}
		fmt.Fprintf(r.errw, "%s %s: %v\n", c.What, c.Args[0], err)
	}
}

// Close stops taking commands and waits for the queued ones to finish.
func (r *Runner) Close() {
	r.once.Do(func() { close(r.queue) })
	<-r.done
}

// EnvSafe drops NUL, which an environment variable cannot hold.
func EnvSafe(s string) string { return strings.ReplaceAll(s, "\x00", "") }
