package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-lan/herald/internal/netlab"
)

// walkthroughStep is one command line of README's walkthrough and who
// runs it.
type walkthroughStep struct {
	role string // "teacher" or "each student"
	line string
}

// readWalkthrough extracts the five-minute walkthrough from README.md:
// the first sh block after its heading, "# role" lines switching who runs
// what, trailing comments (two spaces then #) removed.
func readWalkthrough(t *testing.T) []walkthroughStep {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "## Five-minute walkthrough")
	if i < 0 {
		t.Fatal("README.md has no five-minute walkthrough")
	}
	text = text[i:]
	start := strings.Index(text, "```sh\n")
	end := strings.Index(text[start+6:], "```")
	if start < 0 || end < 0 {
		t.Fatal("the walkthrough has no sh block")
	}
	var steps []walkthroughStep
	role := ""
	for _, line := range strings.Split(text[start+6:start+6+end], "\n") {
		line = strings.TrimSpace(line)
		if c := strings.Index(line, "  #"); c >= 0 {
			line = strings.TrimSpace(line[:c])
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "# "):
			role = strings.TrimPrefix(line, "# ")
		default:
			steps = append(steps, walkthroughStep{role, line})
		}
	}
	return steps
}

// A join code as README writes it, abbreviated with "...".
var placeholderCode = regexp.MustCompile(`class-[0-9A-Z-]*\.\.\.`)

// TestREADMEWalkthroughNetns runs README's walkthrough as written, line by
// line through sh, on a namespace LAN of a teacher and three students
// that all share one hostname (so every default name is the same, like a
// lab of cloned machines) and use their default home (~/.config/herald).
// Only the join code (which the teacher's output gives) and the class
// size are filled in. It checks what issue 13 asks: each listener shows
// the teacher's announcement exactly once, with the teacher's fingerprint
// and as trusted, and each receiver that only ran `channel join` and
// `receive` accepted the teacher's push.
func TestREADMEWalkthroughNetns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and network namespaces; skipped with -short")
	}
	if err := netlab.Available(); err != nil {
		t.Skipf("namespace tests need root, ip and nft: %v", err)
	}
	steps := readWalkthrough(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	binDir := t.TempDir()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(binDir, "herald"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	lab, err := netlab.New(ctx, netlab.Config{Receivers: 3, Prefix: "hwalk"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })

	type person struct {
		host  netlab.Host
		home  string // $HOME
		procs []*exec.Cmd
		outs  []*lineWatcher
	}
	teacher := &person{host: lab.Sender, home: t.TempDir()}
	var students []*person
	for _, h := range lab.Receivers {
		students = append(students, &person{host: h, home: t.TempDir()})
	}
	lesson := filepath.Join(teacher.home, "lesson")
	if err := os.Mkdir(lesson, 0o755); err != nil {
		t.Fatal(err)
	}
	intro := randomFile(t, lesson, "intro.pdf", 300_000)
	// Not lab.Command: that gives each host its own hostname, and this
	// test wants them all the same, as cloned machines are.
	shell := func(p *person, line string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "ip", "netns", "exec", p.host.Name, "sh", "-c", line)
		cmd.Dir = p.home
		cmd.Env = append(os.Environ(), "HOME="+p.home, "PATH="+binDir+":"+os.Getenv("PATH"))
		cmd.Env = slicesWithout(cmd.Env, "HERALD_")
		return cmd
	}
	t.Cleanup(func() {
		for _, p := range append(students, teacher) {
			for _, c := range p.procs {
				c.Process.Kill()
				c.Wait()
			}
		}
	})
	code := ""
	run := func(p *person, line string) {
		t.Helper()
		line = placeholderCode.ReplaceAllString(line, code)
		line = strings.ReplaceAll(line, "--min-receivers 30", "--min-receivers 3")
		fields := strings.Fields(line)
		if len(fields) > 1 && fields[0] == "herald" && (fields[1] == "receive" || fields[1] == "listen") {
			cmd := shell(p, line)
			r, w, _ := os.Pipe()
			cmd.Stdout, cmd.Stderr = w, w
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			out := watchLines(r)
			p.procs, p.outs = append(p.procs, cmd), append(p.outs, out)
			ready := map[string]string{"receive": "waiting for pushes", "listen": "listening on"}[fields[1]]
			if !out.waitFor(ready, 20*time.Second) {
				t.Fatalf("%s on %s never said %q:\n%s", line, p.host.Name, ready, out)
			}
			return
		}
		out, err := shell(p, line).CombinedOutput()
		if err != nil {
			t.Fatalf("%q on %s: %v\n%s", line, p.host.Name, err, out)
		}
		if code == "" {
			for _, f := range strings.Fields(string(out)) {
				if strings.HasPrefix(f, "class-") && len(f) > 40 {
					code = f
				}
			}
		}
	}
	for _, s := range steps {
		switch s.role {
		case "teacher":
			run(teacher, s.line)
		case "each student":
			if code == "" {
				t.Fatalf("a student step (%q) before the teacher printed a join code", s.line)
			}
			for _, p := range students {
				run(p, s.line)
			}
		default:
			t.Fatalf("README walkthrough: unknown role %q", s.role)
		}
	}

	idOf := func(p *person) idJSON {
		out, err := shell(p, "herald id --json").Output()
		if err != nil {
			t.Fatal(err)
		}
		return jsonLines[idJSON](t, string(out))[0]
	}
	tid := idOf(teacher)
	for _, p := range students {
		if sid := idOf(p); sid.Name != tid.Name {
			t.Fatalf("names differ (%q, %q): this test is about identical default names", sid.Name, tid.Name)
		}
		sameFile(t, intro, filepath.Join(p.home, "lessons", "lesson", "intro.pdf"))
	}
	for _, p := range students {
		var listen *lineWatcher
		for i, c := range p.procs {
			if strings.Contains(strings.Join(c.Args, " "), "herald listen") {
				listen = p.outs[i]
			}
		}
		if listen == nil {
			t.Fatal("the walkthrough starts no herald listen")
		}
		if !listen.waitFor("open lesson/intro.pdf", 10*time.Second) {
			t.Fatalf("listen on %s never showed the announcement:\n%s", p.host.Name, listen)
		}
		time.Sleep(time.Second) // the repeats of the announcement arrive
		var shown []string
		for _, l := range strings.Split(listen.String(), "\n") {
			if strings.Contains(l, "open lesson/intro.pdf") {
				shown = append(shown, l)
			}
		}
		t.Logf("%s listen: %q", p.host.Name, shown)
		if len(shown) != 1 || !strings.Contains(shown[0], tid.Fingerprint+", trusted") {
			t.Errorf("listen on %s showed %q; want the announcement once, from %s, trusted", p.host.Name, shown, tid.Fingerprint)
		}
	}
	// The teacher sees the room: every student holds class (they proved
	// it by Membership), with identical default names.
	roomOut, err := shell(teacher, "herald peers --channel class --json").Output()
	if err != nil {
		t.Fatalf("peers --channel class: %v\n%s", err, roomOut)
	}
	room := map[string]bool{}
	for _, r := range jsonLines[peerRow](t, string(roomOut)) {
		if slices.Contains(r.Channels, "class") {
			room[r.Fingerprint] = true
		}
	}
	for _, p := range students {
		if !room[idOf(p).Fingerprint] {
			t.Errorf("peers --channel class on the teacher lacks %s:\n%s", p.host.Name, roomOut)
		}
	}
	// Members are not owners: a student's push to the channel is not
	// accepted by the other students (nor by the teacher, who runs no
	// receive).
	randomFile(t, students[0].home, "cheat.txt", 10_000)
	out, _ := shell(students[0], "herald push --wait 3s cheat.txt").CombinedOutput()
	for _, p := range students[1:] {
		if _, err := os.Stat(filepath.Join(p.home, "lessons", "cheat.txt")); err == nil {
			t.Errorf("%s accepted a member's push to the channel:\n%s", p.host.Name, out)
		}
		if !p.outs[0].waitFor("not trusted", 5*time.Second) {
			t.Errorf("receive on %s did not print the refusal of a member's push:\n%s\npush:\n%s", p.host.Name, p.outs[0], out)
		}
	}
	for _, p := range append(students, teacher) {
		for _, c := range p.procs {
			c.Process.Signal(syscall.SIGINT)
		}
	}
}

// slicesWithout drops the environment variables starting with prefix, so
// the test's own HERALD_* settings do not leak into a user's shell.
func slicesWithout(env []string, prefix string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}
