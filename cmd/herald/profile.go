package main

import (
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile to $HERALD_CPUPROFILE when set: a
// developer aid for the benchmarks, not a user feature.
func startProfile() func() {
	path := os.Getenv("HERALD_CPUPROFILE")
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
