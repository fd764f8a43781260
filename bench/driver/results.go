package main

// Results I/O: the results .jsonl (one header line, then one line per run)
// and what the header records about the machine and the run.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// ceilingTool names the result lines that hold a scenario's ceiling.
const ceilingTool = "ceiling"

// maxResultLine bounds one line of a results file: a result is a few
// hundred bytes; a longer line is not ours.
const maxResultLine = 1 << 20

// writeJSONLine appends v to w as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// runHeader is the first line of a results file: what produced it.
type runHeader struct {
	Time     string            `json:"time"`
	Mode     string            `json:"mode"`
	Command  string            `json:"command,omitempty"`
	Commit   string            `json:"commit,omitempty"`
	Machine  *machine          `json:"machine,omitempty"`
	Versions map[string]string `json:"versions"`
}

// machine is the hardware the figures come from.
type machine struct {
	Cores    int    `json:"cores"`
	CPU      string `json:"cpu"`
	Kernel   string `json:"kernel"`
	MemoryMB int64  `json:"memory_mb,omitempty"`
}

func currentMachine() *machine {
	m := &machine{Cores: runtime.NumCPU(), CPU: "unknown", Kernel: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = procField(string(b), "model name")
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib int64
		if _, err := fmt.Sscanf(procField(string(b), "MemTotal"), "%d kB", &kib); err == nil {
			m.MemoryMB = kib / 1024
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	return m
}

// procField returns the value of the first "key : value" line of a /proc
// file, or "unknown".
func procField(text, key string) string {
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// reproduceCommand is the command line that repeats this run.
func reproduceCommand(args []string) string {
	parts := []string{"go", "run", "./bench/driver"}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:+@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// repoCommit is the checked-out commit, with "+changes" when the tree
// differs from it; empty outside a git checkout.
func repoCommit(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(out))
	if status, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(status) > 0 {
		commit += "+changes"
	}
	return commit
}

// heraldVersion is `herald version` on one line.
func heraldVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// runRecord is one results file: its header and every line after it.
type runRecord struct {
	path    string
	header  runHeader
	results []result // ceilings and tool runs
	latency []latencyResult
}

// readRun reads a results .jsonl.
func readRun(path string) (runRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return runRecord{}, err
	}
	defer f.Close()
	rec := runRecord{path: path}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), maxResultLine)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var kind struct {
			Kind     string          `json:"kind"`
			Versions json.RawMessage `json:"versions"`
		}
		if err := json.Unmarshal(b, &kind); err != nil {
			return rec, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		switch {
		case line == 1 && kind.Versions != nil:
			err = json.Unmarshal(b, &rec.header)
		case line == 1:
			err = errors.New("no header line (time, mode, versions)")
		case kind.Kind == latencyKind:
			var l latencyResult
			err = json.Unmarshal(b, &l)
			rec.latency = append(rec.latency, l)
		default:
			var r result
			err = json.Unmarshal(b, &r)
			rec.results = append(rec.results, r)
		}
		if err != nil {
			return rec, fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	return rec, sc.Err()
}
