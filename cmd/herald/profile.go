package main

import (
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
)

// startProfile writes a CPU profile to $HERALD_CPUPROFILE when set: a
// developer aid for the benchmarks, not a user feature. "%p" in the path
// becomes the process id, so a lab's several processes keep one each.
func startProfile() func() {
	path := strings.ReplaceAll(os.Getenv("HERALD_CPUPROFILE"), "%p", strconv.Itoa(os.Getpid()))
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
