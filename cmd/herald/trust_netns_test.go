package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTrustAheadAndLiveNetns: trust set up before the sender ever ran,
// then changed while receivers run.
//
//   - r1 ran `herald trust FINGERPRINT` and r2 lists the sender's identity
//     line in an authorized senders file (`receive --from-file`), both
//     before the sender's herald ever ran: both accept its first push.
//   - r1's user then runs `herald untrust` while r1's receive keeps
//     running: the next push is refused there (the running process saw
//     the change) and still accepted by r2; trust.json on r1 no longer
//     trusts the sender after receive exits (no stale write-back).
//   - r3 is a stranger to the sender and refuses both pushes.
//   - r1 then joins the sender's new channel while its receive runs: the
//     owner's push to the channel is taken at once; r2 and r3, not
//     members, write nothing.
func TestTrustAheadAndLiveNetns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and network namespaces; skipped with -short")
	}
	l := newPushLab(t, 3)
	s := l.lab.Sender
	r1, r2, r3 := l.lab.Receivers[0], l.lab.Receivers[1], l.lab.Receivers[2]
	senderFP := l.fingerprint(s)
	line := strings.TrimSpace(herald(t, "--home", l.homes[s.Name], "id", "--export").stdout)

	if out, err := l.cmd(r1, "trust", senderFP).CombinedOutput(); err != nil {
		t.Fatalf("trust ahead: %v\n%s", err, out)
	}
	authorized := filepath.Join(t.TempDir(), "authorized_senders")
	if err := os.WriteFile(authorized, []byte("# the lab admin\n"+line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{}
	watch := map[string]*lineWatcher{}
	for _, r := range l.lab.Receivers {
		dirs[r.Name] = t.TempDir()
		args := []string{"receive", "--dir", dirs[r.Name]}
		if r == r2 {
			args = append(args, "--from-file", authorized)
		}
		cmd := l.cmd(r, args...)
		rd, wr, _ := os.Pipe()
		cmd.Stdout, cmd.Stderr = wr, wr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wr.Close()
		watch[r.Name] = watchLines(rd)
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		if !watch[r.Name].waitFor("waiting for pushes", 20*time.Second) {
			t.Fatalf("receive on %s did not start:\n%s", r.Name, watch[r.Name])
		}
	}
	push := func(name string, want int) {
		t.Helper()
		file := randomFile(t, t.TempDir(), name, 50_000)
		out, _ := l.cmd(s, "push", "--no-encrypt", "--min-receivers", "3", "--wait", "4s", file).CombinedOutput()
		for _, r := range []string{r1.Name, r2.Name} {
			watch[r].waitFor(name, 15*time.Second)
		}
		got := 0
		for _, r := range l.lab.Receivers {
			if _, err := os.Stat(filepath.Join(dirs[r.Name], name)); err == nil {
				got++
			}
		}
		if got != want {
			t.Fatalf("%s reached %d receivers, want %d\npush:\n%s\nr1:\n%s\nr2:\n%s", name, got, want, out, watch[r1.Name], watch[r2.Name])
		}
	}
	push("first.bin", 2)
	sameFileIn(t, dirs[r1.Name], dirs[r2.Name], "first.bin")
	if _, err := os.Stat(filepath.Join(dirs[r3.Name], "first.bin")); err == nil {
		t.Fatal("r3 accepted a push from a key it never trusted")
	}

	if out, err := l.cmd(r1, "untrust", senderFP).CombinedOutput(); err != nil {
		t.Fatalf("untrust: %v\n%s", err, out)
	}
	time.Sleep(time.Second) // "within a second"
	push("second.bin", 1)
	if _, err := os.Stat(filepath.Join(dirs[r1.Name], "second.bin")); err == nil {
		t.Fatalf("r1's running receive accepted a push after `herald untrust`:\n%s", watch[r1.Name])
	}
	if !watch[r1.Name].has("not trusted") {
		t.Errorf("r1 did not print the refusal:\n%s", watch[r1.Name])
	}
	data, _ := os.ReadFile(filepath.Join(l.homes[r1.Name], "trust.json"))
	if strings.Contains(string(data), senderFP) {
		t.Errorf("r1's trust.json still trusts the sender after untrust:\n%s", data)
	}

	// A channel joined while receive runs is used at once, and its owner's
	// push is accepted on it (issue 13: "not sealed to us" before).
	out, err := l.cmd(s, "channel", "new", "--file", filepath.Join(t.TempDir(), "code"), "class").Output()
	if err != nil {
		t.Fatal(err)
	}
	code := ""
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "class-") {
			code = f
		}
	}
	if out, err := l.cmd(r1, "channel", "join", code).CombinedOutput(); err != nil {
		t.Fatalf("join: %v\n%s", err, out)
	}
	time.Sleep(time.Second)
	file := randomFile(t, t.TempDir(), "third.bin", 50_000)
	pushOut, _ := l.cmd(s, "push", "--min-receivers", "1", "--wait", "4s", file).CombinedOutput()
	if !watch[r1.Name].waitFor("third.bin", 15*time.Second) {
		t.Fatalf("r1 (joined while receiving) did not take the owner's channel push:\n%s\npush:\n%s", watch[r1.Name], pushOut)
	}
	time.Sleep(time.Second)
	sameFile(t, file, filepath.Join(dirs[r1.Name], "third.bin"))
	for _, r := range []string{r2.Name, r3.Name} {
		if _, err := os.Stat(filepath.Join(dirs[r], "third.bin")); err == nil {
			t.Errorf("%s, not in the channel, wrote its push", r)
		}
	}
}

func sameFileIn(t *testing.T, a, b, name string) {
	t.Helper()
	sameFile(t, filepath.Join(a, name), filepath.Join(b, name))
}
