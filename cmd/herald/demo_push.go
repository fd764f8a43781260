package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/internal/termui"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/push"
)

// demoPushSize is the generated file the demo pushes.
const demoPushSize = 16 << 20

// demoPush has alice push a generated file, encrypted to bob and two more
// in-process receivers, over the lossy simulated LAN, with the real
// progress bar and report, and checks every copy byte for byte.
func demoPush(ctx context.Context, env *demoEnv) error {
	work, err := os.MkdirTemp("", "herald-demo-push-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "lesson.bin")
	data := make([]byte, demoPushSize)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(src, data, 0o644); err != nil {
		return err
	}
	receivers := []*node.Node{env.Bob.Node}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	for _, name := range []string{"carol", "dave"} {
		peer, err := newDemoPeer(env, name)
		if err != nil {
			return err
		}
		defer os.RemoveAll(peer.Home)
		go peer.Node.Run(ctx)
		receivers = append(receivers, peer.Node)
	}
	var recipients []identity.Peer
	results := make(chan error, len(receivers))
	dirs := make([]string, len(receivers))
	for i, r := range receivers {
		dirs[i] = filepath.Join(work, r.ID.Name)
		if err := os.Mkdir(dirs[i], 0o700); err != nil {
			return err
		}
		recipients = append(recipients, identity.Peer{Name: r.ID.Name, SignPub: r.ID.SignPub, BoxPub: r.ID.BoxPub, Fingerprint: r.ID.Fingerprint()})
		cfg := push.ReceiveConfig{Node: r, Dir: dirs[i], From: nil, AcceptAny: true, Once: true, SenderTimeout: 10 * time.Second}
		go func() { results <- push.Receive(ctx, cfg) }()
	}
	env.Logf("alice pushes %s, sealed to bob, carol and dave (%.0f%% loss each)", termui.HumanBytes(demoPushSize), env.Link.Loss*100)
	events := newEventPrinter(env.Out, false, true)
	src2, err := push.NewSource([]string{src})
	if err != nil {
		return err
	}
	rep, err := push.Send(ctx, push.SendConfig{Node: env.Alice.Node, Source: src2, Recipients: recipients,
		Wait: 5 * time.Second, Rate: 200e6, OnEvent: events.event})
	events.done()
	if err != nil {
		return err
	}
	printReport(events.out, summarise(rep, nil, false))
	for range receivers {
		if err := <-results; err != nil {
			return err
		}
	}
	for i, d := range dirs {
		got, err := os.ReadFile(filepath.Join(d, "lesson.bin"))
		if err != nil || string(got) != string(data) {
			return fmt.Errorf("%s's copy differs from the original", receivers[i].ID.Name)
		}
	}
	env.Logf("all %d copies verified byte for byte", len(dirs))
	return nil
}
