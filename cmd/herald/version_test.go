package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A binary built from a git checkout names its commit. The build asks
// for VCS stamping explicitly, since GOFLAGS=-buildvcs=false is common
// on build machines.
func TestVersionNamesGitCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary; skipped with -short")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	head, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout with a commit: %v", err)
	}
	commit := strings.TrimSpace(string(head))
	bin := buildHerald(ctx, t, "-buildvcs=true")
	out, err := exec.CommandContext(ctx, bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	v := jsonLines[versionJSON](t, string(out))
	if len(v) != 1 || v[0].Commit != commit || v[0].Time == "" || !strings.HasPrefix(v[0].Go, "go1.") {
		t.Errorf("version --json = %+v, want commit %s with its time", v, commit)
	}
	text, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil || !strings.Contains(string(text), "commit   "+commit) {
		t.Errorf("version text lacks the commit %s (%v):\n%s", commit, err, text)
	}
}
