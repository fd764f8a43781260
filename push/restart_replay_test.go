package push

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// TestReplayToRestartedReceiver is issue 18 item 6 on the engine: a
// whole push captured on the LAN and replayed, inside the skew window,
// to a receiver restarted on the same home must not be taken again (no
// offer, no "lesson (1)", no --exec).
func TestReplayToRestartedReceiver(t *testing.T) {
	l := newMemLab(t, 1, multicast.Link{})
	home := l.receivers[0].Home
	first := &eventLog{}
	ctx1, stop1 := context.WithCancel(l.ctx)
	done1 := make(chan struct{})
	go func() {
		defer close(done1)
		Receive(ctx1, ReceiveConfig{Node: l.receivers[0], Dir: l.dirs[0], AcceptAny: true, OnEvent: first.add})
	}()
	rg := newRogue(t, l)
	ctlIn := make(chan []byte, 1<<16)
	go capture(rg.listen(rg.ctl), ctlIn)
	p := startPush(t, l, 256<<10, nil)
	a, firstAnnounce := sniffAnnounce(t, ctlIn, [32]byte(l.sender.ID.SignPub))
	data, fb := rg.groups(a.Session)
	dataIn := make(chan []byte, 1<<16)
	go capture(rg.listen(data), dataIn)
	p.check(t, l, []*eventLog{first}, 0)
	time.Sleep(300 * time.Millisecond)
	stop1()
	<-done1
	l.receivers[0].Close() // the receiver process ends; Run saves its replay state on the way out
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(home, "replay.state")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stopped node saved no replay state")
		}
	}

	restarted, err := node.Open(node.Config{Home: home, Name: "student00", Network: l.hosts[0]})
	if err != nil {
		t.Fatal(err)
	}
	go restarted.Run(l.ctx)
	second := &eventLog{}
	go Receive(l.ctx, ReceiveConfig{Node: restarted, Dir: l.dirs[0], AcceptAny: true, OnEvent: second.add})
	time.Sleep(100 * time.Millisecond)
	before := listDir(t, l.dirs[0])

	tape := [][]byte{firstAnnounce}
	for _, in := range []chan []byte{ctlIn, dataIn} {
		for len(in) > 0 {
			tape = append(tape, <-in)
		}
	}
	out := rg.listen(rg.ctl)
	for i, b := range tape {
		h, _ := protocol.ParseHeader(b)
		to := rg.ctl
		switch h.Type {
		case protocol.TypeManifest, protocol.TypeData:
			to = data
		case protocol.TypeStatus:
			to = fb
		}
		out.WriteBatch([][]byte{b}, to)
		if i%64 == 63 {
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(time.Second)
	st := restarted.Stats()
	t.Logf("replayed %d datagrams; restarted node: received %d, replayed %d, stale %d", len(tape), st.Received, st.Replayed, st.Stale)
	for _, e := range second.all() {
		if e.Kind != EventProgress {
			t.Errorf("the replay caused a %v event after the restart: %+v", e.Kind, e)
		}
	}
	if got := listDir(t, l.dirs[0]); got != before {
		t.Errorf("the replay changed the folder after the restart:\n%s\nwas\n%s", got, before)
	}
	if restarted.Stats().Replayed == 0 {
		t.Error("the restarted node refused nothing as a replay")
	}
}
