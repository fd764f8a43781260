package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
)

// Issue 13's bad input, through the real CLI: each is refused with exit 2
// and a message that says what is wrong; nothing is trusted or joined.
func TestTrustAndJoinBadInput(t *testing.T) {
	teacher, student := t.TempDir(), t.TempDir()
	herald(t, "--home", teacher, "id")
	line := strings.TrimSpace(herald(t, "--home", teacher, "id", "--export").stdout)
	tid := identityOf(t, teacher)
	created := jsonLines[channelJSON](t, herald(t, "--home", teacher, "channel", "new", "--json", "class").stdout)[0]
	code := created.JoinCode
	if !strings.Contains(code, tid.Fingerprint) {
		t.Fatalf("join code %s does not carry the owner %s", code, tid.Fingerprint)
	}
	groups := strings.Split(code, "-")
	typo := append([]string(nil), groups...)
	typo[8] = strings.Map(func(r rune) rune {
		if r == 'Z' {
			return 'Y'
		}
		return 'Z'
	}, typo[8][:1]) + typo[8][1:]
	fields := strings.SplitN(line, " ", 3)
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"join code one character off", []string{"channel", "join", strings.Join(typo, "-")}, "group 8 (" + typo[8] + ")"},
		{"join code truncated", []string{"channel", "join", code[:len(code)-4]}, "missing"},
		{"identity line renamed", []string{"trust", "--import", fields[0] + " " + fields[1] + " principal"}, "signature"},
		{"identity line cut", []string{"trust", "--import", fields[0] + " " + fields[1][:90] + " " + fields[2]}, "128 bytes"},
		{"fingerprint prefix never heard", []string{"trust", tid.Fingerprint[:9]}, "full fingerprint"},
		{"owner not a fingerprint", []string{"channel", "owners", "add", "class", "teacher"}, "fingerprint"},
		{"receive --from garbage", []string{"receive", "--dir", t.TempDir(), "--from", "nobody@vm"}, "full fingerprint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := cliRun{args: append([]string{"--home", student}, tc.args...)}.exec(t)
			if res.code != exitUsage || !strings.Contains(res.stderr, tc.says) {
				t.Fatalf("exit %d, stderr %q; want %d saying %q", res.code, res.stderr, exitUsage, tc.says)
			}
		})
	}
	if out := herald(t, "--home", student, "peers", "--known").stdout; strings.TrimSpace(out) != "" {
		t.Errorf("bad input left trust behind:\n%s", out)
	}

	// The real thing works: a file of identity lines and fingerprints, and
	// the join code read from a file.
	file := filepath.Join(t.TempDir(), "authorized_senders")
	os.WriteFile(file, []byte("# lab\n"+line+"\nK7QF-2MXA-9D3B-WZ4E-H6TN\n"), 0o644)
	if out := herald(t, "--home", student, "trust", "--import", file).stdout; strings.Count(out, "trusted ") != 2 {
		t.Errorf("import printed %q", out)
	}
	codeFile := filepath.Join(t.TempDir(), "class.code")
	os.WriteFile(codeFile, []byte(code+"\n"), 0o600)
	out := herald(t, "--home", student, "channel", "join", codeFile).stdout
	if !strings.Contains(out, "owner "+tid.Fingerprint) {
		t.Errorf("join printed %q, want the owner", out)
	}
	if out := herald(t, "--home", student, "channel", "owners", "class").stdout; !strings.HasPrefix(out, tid.Fingerprint) || strings.Count(out, "\n") != 1 {
		t.Errorf("owners: %q", out)
	}
	herald(t, "--home", student, "channel", "owners", "remove", "class", tid.Fingerprint)
	if out := herald(t, "--home", student, "channel", "owners", "class").stdout; strings.TrimSpace(out) != "" {
		t.Errorf("owners after remove: %q", out)
	}
	if out := herald(t, "--home", teacher, "channel", "new", "--qr", "lab").stdout; strings.Count(out, "█") < 200 {
		t.Errorf("--qr drew no code:\n%s", out)
	}
}

// An admin edits the authorized senders file while receive runs: the new
// list is used without a restart; a broken edit keeps the last good list.
func TestAuthorizedSendersFileFollowsEdits(t *testing.T) {
	home := t.TempDir()
	herald(t, "--home", home, "id")
	n, err := node.Open(node.Config{Home: home, Network: multicast.NewMemNet(1).Host(multicast.Link{})})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "authorized_senders")
	a, b := "K7QF-2MXA-9D3B-WZ4E-H6TN", "AS3N-N9TM-CD3M-R0M5-VXEV"
	write := func(content string, age time.Duration) {
		os.WriteFile(file, []byte(content), 0o644)
		when := time.Now().Add(-age)
		os.Chtimes(file, when, when)
	}
	write(a+"\n", time.Hour)
	var warn strings.Builder
	l, err := newSenderList(n, nil, []string{file}, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.fingerprints(); len(got) != 1 || got[0] != a {
		t.Fatalf("first read: %v", got)
	}
	write(b+"\n", time.Minute)
	l.checked = time.Time{} // as if reloadSenders passed
	if got := l.fingerprints(); len(got) != 1 || got[0] != b {
		t.Fatalf("after an edit: %v", got)
	}
	write("garbage\n", 0)
	l.checked = time.Time{}
	if got := l.fingerprints(); len(got) != 1 || got[0] != b || !strings.Contains(warn.String(), "keeping the previous") {
		t.Fatalf("after a broken edit: %v, warning %q", got, warn.String())
	}
}
