package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

var unitDir = filepath.Join("..", "..", "contrib", "systemd")

// unitSettings reads the key=value lines of a unit file (last one wins).
func unitSettings(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if key, value, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			settings[strings.TrimSpace(key)] = strings.TrimSpace(value)
		}
	}
	return settings
}

// The shipped units start herald with a command line this herald
// accepts, restart only what a restart can fix, and (system units) run
// sandboxed as the herald user.
func TestSystemdUnits(t *testing.T) {
	units, _ := filepath.Glob(filepath.Join(unitDir, "*.service"))
	user, _ := filepath.Glob(filepath.Join(unitDir, "user", "*.service"))
	if len(units) < 2 || len(user) < 2 {
		t.Fatalf("want system and user units for receive and listen, found %v and %v", units, user)
	}
	for _, path := range append(units, user...) {
		system := !strings.Contains(path, string(filepath.Separator)+"user"+string(filepath.Separator))
		t.Run(strings.TrimPrefix(path, unitDir+string(filepath.Separator)), func(t *testing.T) {
			s := unitSettings(t, path)
			want := map[string]string{"Restart": "on-failure", "RestartPreventExitStatus": "2 4", "NoNewPrivileges": "yes", "Type": "exec"}
			if system {
				want["User"] = "herald"
				want["ProtectSystem"] = "strict"
				want["Environment"] = "HERALD_HOME=/var/lib/herald"
				want["StateDirectory"] = "herald"
			}
			for k, v := range want {
				if s[k] != v {
					t.Errorf("%s=%q, want %q", k, s[k], v)
				}
			}
			words := strings.Fields(s["ExecStart"])
			if len(words) < 2 || words[0] != "/usr/local/bin/herald" {
				t.Fatalf("ExecStart=%q does not run /usr/local/bin/herald", s["ExecStart"])
			}
			checkParses(t, words[1:])
			if dir := flagValue(words, "--dir"); system && dir != "" && !strings.Contains(s["ReadWritePaths"], dir) {
				t.Errorf("--dir %s is not in ReadWritePaths=%q: ProtectSystem=strict would make it read-only", dir, s["ReadWritePaths"])
			}
		})
	}
	t.Run("systemd-analyze verify", func(t *testing.T) {
		if _, err := exec.LookPath("systemd-analyze"); err != nil {
			t.Skip("systemd-analyze is not installed")
		}
		for _, path := range units {
			// verify insists ExecStart exists; check a copy that runs /bin/true.
			data, _ := os.ReadFile(path)
			copyPath := filepath.Join(t.TempDir(), filepath.Base(path))
			writeFile(t, copyPath, strings.ReplaceAll(string(data), "/usr/local/bin/herald", "/bin/true"))
			out, err := exec.Command("systemd-analyze", "verify", "--man=no", copyPath).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("%s: %v\n%s", filepath.Base(path), err, out)
			}
		}
	})
}

func flagValue(words []string, flag string) string {
	for i, w := range words[:len(words)-1] {
		if w == flag {
			return words[i+1]
		}
	}
	return ""
}

// checkParses runs args through the real CLI with the command's action
// replaced, so only parsing (flags, their order, their values) is tested.
func checkParses(t *testing.T, args []string) {
	t.Helper()
	t.Setenv("HERALD_HOME", t.TempDir())
	var stderr strings.Builder
	app := newApp(io.Discard, &stderr)
	ran := false
	for _, cmd := range app.Commands {
		cmd.Action = func(*cli.Context) error { ran = true; return nil }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if code := runApp(ctx, app, append([]string{"herald"}, args...)); code != exitOK || !ran {
		t.Errorf("herald %s: exit %d, ran %v: %s", strings.Join(args, " "), code, ran, stderr.String())
	}
}
