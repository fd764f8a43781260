package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A CPU-starved receiver: its process runs in a cgroup (v1 cpu controller)
// limited to starvedQuota of one core, as an old or busy lab PC would be.
const (
	starvedCgroup = "/sys/fs/cgroup/cpu/herald-bench-starved"
	starvedPeriod = 100_000 // µs
	starvedQuota  = 20_000  // µs per period: 20 % of a core
)

// starve moves pid and its descendants into the starved cgroup, creating
// it on first use. The tool runs under GNU time (pid), which forks it
// right away: wait up to a second for that child to appear.
func starve(pid int) error {
	if err := os.MkdirAll(starvedCgroup, 0o755); err != nil {
		return fmt.Errorf("cpu cgroup: %w (needs root and the cgroup v1 cpu controller)", err)
	}
	for name, v := range map[string]int{"cpu.cfs_period_us": starvedPeriod, "cpu.cfs_quota_us": starvedQuota} {
		if err := os.WriteFile(filepath.Join(starvedCgroup, name), []byte(strconv.Itoa(v)), 0o644); err != nil {
			return fmt.Errorf("cpu cgroup %s: %w", name, err)
		}
	}
	pids := []int{pid}
	deadline := time.Now().Add(time.Second)
	for len(pids) == 1 && time.Now().Before(deadline) {
		pids = append(pids, children(pid)...)
		if len(pids) == 1 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, p := range pids {
		if err := os.WriteFile(filepath.Join(starvedCgroup, "cgroup.procs"), []byte(strconv.Itoa(p)), 0o644); err != nil {
			return fmt.Errorf("moving %d into the starved cgroup: %w", p, err)
		}
	}
	return nil
}

// children lists pid's child processes (Linux 3.5+ /proc children file).
func children(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}
