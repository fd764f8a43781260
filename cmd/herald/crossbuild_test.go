package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// releaseTargets are the platforms herald is built for. Only Linux runs
// the tests; the others must at least compile, so a Linux-only call
// outside a _linux.go file is caught here and not by a user.
var releaseTargets = []struct{ goos, goarch string }{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles herald for six platforms (minutes with a cold build cache); skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	goroot, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	goTool := filepath.Join(strings.TrimSpace(string(goroot)), "bin", "go")
	for _, target := range releaseTargets {
		t.Run(target.goos+"/"+target.goarch, func(t *testing.T) {
			cmd := exec.CommandContext(ctx, goTool, "build", "-o", os.DevNull, ".")
			cmd.Env = append(cmd.Environ(), "GOOS="+target.goos, "GOARCH="+target.goarch, "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s GOARCH=%s go build ./cmd/herald: %v\n%s", target.goos, target.goarch, err, out)
			}
		})
	}
}
