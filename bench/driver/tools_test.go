package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/node"
)

// TestHeraldArgsAsREADME: the bench runs herald as README's walkthrough
// does: no --accept-any, no --name, no --home on the timed commands, and
// the push goes to the sender's default channel; only herald-fixed adds
// --rate.
func TestHeraldArgsAsREADME(t *testing.T) {
	env := runEnv{toolPaths: toolPaths{herald: "herald"}, sc: scenario{Receivers: 5, RateMbit: 1000}, src: "/src/file"}
	tools := map[string]toolSpec{}
	for _, tool := range allTools("") {
		tools[tool.name] = tool
	}
	tests := []struct {
		tool         string
		wantReceiver []string
		wantSender   []string
	}{
		{"herald", []string{"herald", "receive", "--once", "--dir", "/r1/dest"},
			[]string{"herald", "push", "--min-receivers", "5", "/src/file"}},
		{"herald-fixed", []string{"herald", "receive", "--once", "--dir", "/r1/dest"},
			[]string{"herald", "push", "--rate", "950M", "--min-receivers", "5", "/src/file"}},
	}
	for _, tt := range tests {
		tool, ok := tools[tt.tool]
		if !ok {
			t.Fatalf("no tool %s", tt.tool)
		}
		if tool.prepareSender == nil || tool.prepareReceiver == nil {
			t.Errorf("%s: the sender's home must make the channel and the receivers' join it", tt.tool)
		}
		if got := tool.receiver(env, 0, "/r1/dest", "/r1/scratch"); !slices.Equal(got, tt.wantReceiver) {
			t.Errorf("%s receiver: %q, want %q", tt.tool, got, tt.wantReceiver)
		}
		if got := tool.sender(env); !slices.Equal(got, tt.wantSender) {
			t.Errorf("%s sender: %q, want %q", tt.tool, got, tt.wantSender)
		}
	}
}

func TestJoinCodeIn(t *testing.T) {
	tests := []struct {
		out, want string
		ok        bool
	}{
		{"created channel bench (default), owned by you (K7QF-2MXA)\njoin code: bench-K7QF-2MXA-9D3B\n", "bench-K7QF-2MXA-9D3B", true},
		{"join code:   bench-AAAA  \r\n", "bench-AAAA", true},
		{"created channel bench\n", "", false},
		{"join code:\n", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got, ok := joinCodeIn(tt.out); got != tt.want || ok != tt.ok {
			t.Errorf("joinCodeIn(%q) = %q, %v; want %q, %v", tt.out, got, ok, tt.want, tt.ok)
		}
	}
}

// TestHeraldRoomAsREADME runs the driver's preparation with a real herald:
// the sender's home owns "bench" as its default channel, each receiver's
// home has the sender as the channel's owner (so receive accepts its pushes
// without --accept-any), and every host has the same default name.
func TestHeraldRoomAsREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ./cmd/herald; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	herald := filepath.Join(t.TempDir(), "herald")
	build := exec.CommandContext(ctx, "go", "build", "-o", herald, "./cmd/herald")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/herald: %v\n%s", err, out)
	}
	tool := heraldTool("herald", "", func(scenario) []string { return nil })
	env := runEnv{toolPaths: toolPaths{herald: herald}}
	senderHome := t.TempDir()
	code, err := tool.prepareSender(env, senderHome)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(code, benchChannelName+"-") {
		t.Fatalf("join code %q", code)
	}
	receiverHomes := []string{t.TempDir(), t.TempDir()}
	for _, home := range receiverHomes {
		if err := tool.prepareReceiver(env, home, code); err != nil {
			t.Fatal(err)
		}
	}
	run := func(home string, args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, herald, append([]string{"--home", heraldHome(home)}, args...)...).Output()
		if err != nil {
			t.Fatalf("herald %s: %v", strings.Join(args, " "), err)
		}
		return string(out)
	}
	type identity struct {
		Name        string `json:"name"`
		Fingerprint string `json:"fingerprint"`
	}
	idOf := func(home string) identity {
		var id identity
		if err := json.Unmarshal([]byte(run(home, "--json", "id")), &id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	sender := idOf(senderHome)
	if want := node.DefaultName(); sender.Name != want {
		t.Errorf("sender's name %q, want the default %q", sender.Name, want)
	}
	var channel struct {
		Name    string `json:"name"`
		Default bool   `json:"default"`
	}
	if err := json.Unmarshal([]byte(firstLine(run(senderHome, "--json", "channel", "list"))), &channel); err != nil {
		t.Fatal(err)
	}
	if channel.Name != benchChannelName || !channel.Default {
		t.Errorf("sender's first channel %+v, want %s as its default", channel, benchChannelName)
	}
	for _, home := range receiverHomes {
		if id := idOf(home); id.Name != sender.Name || id.Fingerprint == sender.Fingerprint {
			t.Errorf("receiver %+v, sender %+v: want the same name, another key", id, sender)
		}
		if owners := strings.Fields(run(home, "channel", "owners", benchChannelName)); !slices.Equal(owners, []string{sender.Fingerprint}) {
			t.Errorf("receiver's owners of %s: %q, want the sender %s", benchChannelName, owners, sender.Fingerprint)
		}
	}
}
