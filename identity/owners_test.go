package identity

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func openChannels(t *testing.T, home string) *ChannelStore {
	t.Helper()
	s, err := OpenChannelStore(home)
	if err != nil {
		t.Fatal(err)
	}
	s.file.every = 0
	return s
}

// A join seen by a running process, owners added and removed, and a
// member that is not an owner.
func TestChannelOwnersAndLiveJoin(t *testing.T) {
	home := t.TempDir()
	running := openChannels(t, home) // receive, started before the join
	code := func() string {
		c, err := NewChannel("class", fpOf(1))
		if err != nil {
			t.Fatal(err)
		}
		return c.JoinCode()
	}()
	ch, err := ParseJoinCode(code)
	if err != nil {
		t.Fatal(err)
	}
	if err := openChannels(t, home).Add(ch); err != nil { // `herald channel join CODE`
		t.Fatal(err)
	}
	if !running.OwnerOf(ch.ID(), mustPub(1)) {
		t.Fatal("the running process does not see the joined channel's owner")
	}
	if running.OwnerOf(ch.ID(), mustPub(2)) {
		t.Fatal("a member (key 2) counts as an owner")
	}
	if err := openChannels(t, home).AddOwner("CLASS", fpOf(2)); err != nil {
		t.Fatal(err)
	}
	if !running.OwnerOf(ch.ID(), mustPub(2)) {
		t.Fatal("second owner not seen")
	}
	if err := openChannels(t, home).RemoveOwner("class", fpOf(1)); err != nil {
		t.Fatal(err)
	}
	if running.OwnerOf(ch.ID(), mustPub(1)) {
		t.Fatal("removed owner still accepted")
	}
	if err := running.RemoveOwner("class", fpOf(1)); !errors.Is(err, ErrUnknownPeer) {
		t.Errorf("removing a non-owner: %v", err)
	}
	if err := openChannels(t, home).Remove("class"); err != nil {
		t.Fatal(err)
	}
	if _, ok := running.ByID(ch.ID()); ok {
		t.Fatal("the running process still uses a channel that was left")
	}
}

func TestChannelsVersion1Migrates(t *testing.T) {
	home := t.TempDir()
	v := `{"version":1,"channels":[{"name":"lab","secret":"` + b64(make([]byte, 31)) + `AQ=="}]}`
	v = strings.Replace(v, b64(make([]byte, 31))+"AQ==", b64(append(make([]byte, 31), 1)), 1)
	if err := os.WriteFile(filepath.Join(home, channelsFile), []byte(v), 0o600); err != nil {
		t.Fatal(err)
	}
	s := openChannels(t, home)
	if got := s.List(); len(got) != 1 || got[0].Name != "lab" || got[0].HasSeed() || len(got[0].Owners) != 0 {
		t.Fatalf("v1 channels: %+v", got)
	}
	if err := s.AddOwner("lab", fpOf(3)); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(home, channelsFile))
	if !strings.Contains(string(data), `"version": 2`) || !strings.Contains(string(data), fpOf(3)) {
		t.Fatalf("not rewritten as version 2 with the owner:\n%s", data)
	}
}

func TestMakeDefault(t *testing.T) {
	s := openChannels(t, t.TempDir())
	a, _ := NewChannel("a", "")
	b, _ := NewChannel("b", "")
	for _, c := range []Channel{a, b} {
		if err := s.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MakeDefault("B"); err != nil {
		t.Fatal(err)
	}
	if d := s.Default(); d.Name != "b" || len(s.List()) != 2 {
		t.Fatalf("default %q, %d channels", d.Name, len(s.List()))
	}
	if err := s.MakeDefault("zz"); !errors.Is(err, ErrUnknownChannel) {
		t.Fatal(err)
	}
}
