package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

// stopGrace is how long a process has between SIGTERM and SIGKILL.
const stopGrace = 2 * time.Second

// proc is one tool process in a lab namespace. Its fields other than cmd
// are written once by the waiter goroutine before done is closed.
type proc struct {
	role    string
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
	exitAt  time.Time
	outPath string
	errPath string
	rssPath string // written by GNU time: the tool's max RSS in KiB
}

// timeBin is GNU time (Debian package "time").
const timeBin = "/usr/bin/time"

// signalTool signals the tool, i.e. the children of the GNU time process
// pid, so that time survives to reap it and write the RSS; the process
// itself if it has no children (yet).
func signalTool(pid int, sig syscall.Signal) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	children := strings.Fields(string(b))
	if err != nil || len(children) == 0 {
		return syscall.Kill(pid, sig)
	}
	for _, c := range children {
		if n, err := strconv.Atoi(c); err == nil {
			_ = syscall.Kill(n, sig) // may have exited meanwhile
		}
	}
	return nil
}

// startProc runs argv in h's namespace with stdout and stderr in files
// under logDir. Cancelling ctx or calling stop sends SIGTERM, then SIGKILL.
//
// home becomes the process's HOME and XDG base directories, so tools that
// keep identities or state there (herald) get one per host, as on separate
// machines.
func startProc(ctx context.Context, lab *netlab.Lab, h netlab.Host, role, logDir, home string, argv []string) (*proc, error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &proc{role: role, cancel: cancel, done: make(chan struct{}),
		outPath: logDir + "/" + role + ".out", errPath: logDir + "/" + role + ".err", rssPath: logDir + "/" + role + ".rss"}
	stdout, err := os.Create(p.outPath)
	if err != nil {
		cancel()
		return nil, err
	}
	stderr, err := os.Create(p.errPath)
	if err != nil {
		stdout.Close()
		cancel()
		return nil, err
	}
	// GNU time forks (a real fork of a small process) and reports the tool's
	// max RSS; wait4 on a process Go started would report at least the
	// driver's own RSS, which the vforked child carries until exec.
	wrapped := append([]string{timeBin, "-f", "%M", "-o", p.rssPath}, argv...)
	p.cmd = lab.Command(ctx, h, wrapped[0], wrapped[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = stdout, stderr
	p.cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home+"/.config",
		"XDG_DATA_HOME="+home+"/.local/share", "XDG_STATE_HOME="+home+"/.local/state", "XDG_CACHE_HOME="+home+"/.cache")
	// SIGTERM the tool; if it is still there after stopGrace, SIGKILL the
	// tool and then time (WaitDelay alone would kill only time and orphan
	// the tool).
	p.cmd.Cancel = func() error {
		pid := p.cmd.Process.Pid
		go func() {
			select {
			case <-p.done:
			case <-time.After(stopGrace):
				_ = signalTool(pid, syscall.SIGKILL)
				_ = p.cmd.Process.Kill()
			}
		}()
		return signalTool(pid, syscall.SIGTERM)
	}
	p.cmd.WaitDelay = 2 * stopGrace
	if err := p.cmd.Start(); err != nil {
		stdout.Close()
		stderr.Close()
		cancel()
		return nil, err
	}
	go func() {
		p.err = p.cmd.Wait()
		p.exitAt = time.Now()
		stdout.Close()
		stderr.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop terminates the process and waits until it is reaped.
func (p *proc) stop() {
	p.cancel()
	<-p.done
}

// usage returns CPU seconds (user+system) and max RSS in KiB of an exited
// tool. `ip netns exec` execs GNU time, whose rusage includes the tool it
// reaped; time's own CPU is negligible. RSS is 0 if time could not write it
// (killed by SIGKILL).
func (p *proc) usage() (cpuSeconds float64, maxRSSKiB int64) {
	if p.cmd.ProcessState == nil {
		return 0, 0
	}
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
		cpuSeconds = tv(ru.Utime) + tv(ru.Stime)
	}
	if b, err := os.ReadFile(p.rssPath); err == nil {
		lines := strings.Fields(string(b))
		if len(lines) > 0 {
			maxRSSKiB, _ = strconv.ParseInt(lines[len(lines)-1], 10, 64)
		}
	}
	return cpuSeconds, maxRSSKiB
}
