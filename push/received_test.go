package push

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
)

// addSlowReceiver adds a receiver host behind a very lossy link, whose
// push keeps the sender announcing long after the others completed.
func addSlowReceiver(t *testing.T, l *memLab, loss float64) {
	t.Helper()
	h := l.net.Host(multicast.Link{Loss: loss})
	nd, err := node.Open(node.Config{Home: t.TempDir(), Name: "slow", Network: h})
	if err != nil {
		t.Fatal(err)
	}
	go nd.Run(l.ctx)
	l.hosts = append(l.hosts, h)
	l.receivers = append(l.receivers, nd)
	l.dirs = append(l.dirs, t.TempDir())
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestFinishedReceiverDoesNotDownloadAgain is issue 18 item 1: while a
// slow receiver keeps the push announced, a receiver that completed it
// (and one restarted meanwhile, item 6) must not take it again.
func TestFinishedReceiverDoesNotDownloadAgain(t *testing.T) {
	l := newMemLab(t, 1, multicast.Link{})
	addSlowReceiver(t, l, 0.85)
	fast := &eventLog{}
	run := func(ctx context.Context) {
		Receive(ctx, ReceiveConfig{Node: l.receivers[0], Dir: l.dirs[0], AcceptAny: true, SenderTimeout: 5 * time.Second, OnEvent: fast.add})
	}
	ctx1, stop1 := context.WithCancel(l.ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); run(ctx1) }()
	slowCtx, stopSlow := context.WithCancel(l.ctx)
	defer stopSlow()
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		Receive(slowCtx, ReceiveConfig{Node: l.receivers[1], Dir: l.dirs[1], AcceptAny: true, SenderTimeout: 30 * time.Second})
	}()
	defer func() { stopSlow(); <-slowDone }() // it writes its staging folder until it stops: before TempDir's cleanup

	pushCtx, stopPush := context.WithTimeout(l.ctx, 15*time.Second)
	defer stopPush()
	src := writeTree(t, 1<<20, 3)
	source, err := NewSource([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var rep *Report
	go func() {
		defer close(done)
		rep, _ = Send(pushCtx, SendConfig{Node: l.sender, Source: source, Recipients: l.recipients(), Wait: 5 * time.Second, Rate: 50e6, K: 32})
	}()
	fast.waitFor(t, "complete", 10*time.Second, kindIs(EventComplete, ""))
	time.Sleep(4 * time.Second) // past the session's completion statuses (completeLinger)
	stop1()
	wg.Wait()
	wg.Add(1)
	go func() { defer wg.Done(); run(l.ctx) }() // restarted on the same home
	<-done
	stopSlow()
	if rep != nil && rep.Bytes > 0 {
		t.Logf("push of %d bytes: wire %.2fx, %d repair shards, %d of %d complete", rep.Bytes, float64(rep.WireBytes)/float64(rep.Bytes), rep.Repair, rep.Completed, rep.Expected)
	}
	if n := fast.count(kindIs(EventComplete, "")); n != 1 {
		t.Errorf("completed %d times, want once", n)
	}
	if n := fast.count(kindIs(EventOffered, "")); n != 1 {
		t.Errorf("offered %d times: a completed push was taken up again", n)
	}
	if names := dirNames(t, l.dirs[0]); fmt.Sprint(names) != "[lesson]" {
		t.Errorf("folder holds %v, want only [lesson]", names)
	}
}

// TestRePushReplacesSameSendersCopy is issue 19 item 6 with issue 18
// item 1: the same content again is not placed twice; new content under
// the same name from the same sender replaces it (old kept as backup);
// another sender's push of the name gets " (1)".
func TestRePushReplacesSameSendersCopy(t *testing.T) {
	l := newMemLab(t, 1, multicast.Link{})
	logs := serve(t, l, nil)
	push := func(n *node.Node, src string) {
		t.Helper()
		source, err := NewSource([]string{src})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Send(l.ctx, SendConfig{Node: n, Source: source, Recipients: l.recipients(), Wait: 5 * time.Second, Rate: 100e6, K: 32})
		if err != nil || !rep.OK() {
			t.Fatalf("push: %v %+v", err, rep)
		}
		logs[0].waitFor(t, "complete", 10*time.Second, kindIs(EventComplete, rep.Session))
	}
	v1 := writeTree(t, 64<<10, 1)
	push(l.sender, v1)
	push(l.sender, v1)
	if names := dirNames(t, l.dirs[0]); fmt.Sprint(names) != "[lesson]" {
		t.Fatalf("same content twice: folder holds %v", names)
	}
	v2 := writeTree(t, 64<<10, 2)
	push(l.sender, v2)
	sameTree(t, v2, filepath.Join(l.dirs[0], "lesson"))
	sameTree(t, v1, filepath.Join(l.dirs[0], "lesson (previous)"))
	v3 := writeTree(t, 64<<10, 3)
	push(l.sender, v3)
	sameTree(t, v3, filepath.Join(l.dirs[0], "lesson"))
	sameTree(t, v2, filepath.Join(l.dirs[0], "lesson (previous)"))

	other, err := node.Open(node.Config{Home: t.TempDir(), Name: "other", Network: l.net.Host(multicast.Link{})})
	if err != nil {
		t.Fatal(err)
	}
	// The second sender's node runs until the test ends and is stopped
	// before its home (a TempDir made before this cleanup) is removed.
	otherCtx, stopOther := context.WithCancel(l.ctx)
	otherDone := make(chan struct{})
	go func() { other.Run(otherCtx); close(otherDone) }()
	t.Cleanup(func() { stopOther(); <-otherDone })
	push(other, v1)
	sameTree(t, v1, filepath.Join(l.dirs[0], "lesson (1)"))
	sameTree(t, v3, filepath.Join(l.dirs[0], "lesson"))
	if names := dirNames(t, l.dirs[0]); len(names) != 3 {
		t.Fatalf("folder holds %v", names)
	}
}

// TestReceivedModesHonourUmask is issue 18 item 7 / issue 19 item 10: a
// 0777 folder from the wire is created as 0777 less the umask.
func TestReceivedModesHonourUmask(t *testing.T) {
	if umask() == 0 {
		t.Skip("umask is 0 here: nothing to take away")
	}
	l := newMemLab(t, 1, multicast.Link{})
	logs := serve(t, l, nil)
	src := filepath.Join(t.TempDir(), "open")
	os.MkdirAll(src, 0o777)
	os.Chmod(src, 0o777)
	os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\n"), 0o777)
	os.Chmod(filepath.Join(src, "run.sh"), 0o777)
	source, err := NewSource([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Send(l.ctx, SendConfig{Node: l.sender, Source: source, Recipients: l.recipients(), Wait: 5 * time.Second, Rate: 100e6})
	if err != nil || !rep.OK() {
		t.Fatalf("push: %v %+v", err, rep)
	}
	logs[0].waitFor(t, "complete", 10*time.Second, kindIs(EventComplete, rep.Session))
	for _, p := range []string{"open", "open/run.sh"} {
		st, err := os.Stat(filepath.Join(l.dirs[0], p))
		if err != nil {
			t.Fatal(err)
		}
		if want := 0o777 &^ umask(); st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (0777 less umask %v)", p, st.Mode().Perm(), want, umask())
		}
	}
}

// TestStagingCleaned is issue 19 item 5: staging folders are listed,
// aged out, and removed on request; nothing else is touched.
func TestStagingCleaned(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, ".herald-0123456789abcdef")
	fresh := filepath.Join(dir, ".herald-fedcba9876543210")
	mine := filepath.Join(dir, ".herald-notes") // not a name we make
	for _, p := range []string{old, fresh, mine} {
		os.MkdirAll(p, 0o700)
		os.WriteFile(filepath.Join(p, stateFile), nil, 0o600)
	}
	ago := time.Now().Add(-8 * 24 * time.Hour)
	os.Chtimes(filepath.Join(old, stateFile), ago, ago)
	removed, err := CleanStaging(dir, StagingMaxAge, time.Now())
	if err != nil || len(removed) != 1 || removed[0] != old {
		t.Fatalf("age-out removed %v, %v", removed, err)
	}
	removed, err = CleanStaging(dir, 0, time.Now())
	if err != nil || len(removed) != 1 || removed[0] != fresh {
		t.Fatalf("clean removed %v, %v", removed, err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Fatal("a folder herald did not make was removed")
	}
}
