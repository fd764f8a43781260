package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run four herald nodes in this process on a simulated lossy LAN",
		Description: "Starts four nodes, alice, bob, carol and dave, each with its own temporary home,\n" +
			"on an in-memory multicast network that loses --loss of all packets, and walks through\n" +
			"what herald does: alice and bob find each other (fingerprints), alice pushes a file\n" +
			"to bob, carol and dave, announces, and bob sends her a private message.\n" +
			"Touches no real network and leaves nothing behind.\n\n" +
			"Examples:\n" +
			"   herald demo\n" +
			"   herald demo --loss 0.2 --seed 7",
		Flags: []cli.Flag{
			&cli.Float64Flag{Name: "loss", EnvVars: []string{"HERALD_DEMO_LOSS"}, Value: 0.05,
				Usage: "fraction of packets the simulated LAN drops, 0 to 0.5"},
			&cli.Int64Flag{Name: "seed", EnvVars: []string{"HERALD_DEMO_SEED"}, Value: 1,
				Usage: "seed of the simulated network's randomness"},
			&cli.DurationFlag{Name: "timeout", EnvVars: []string{"HERALD_DEMO_TIMEOUT"}, Value: 30 * time.Second,
				Usage: "give up when the whole demo takes longer"},
		},
		Action: runDemo,
	}
}

// demoStep is one stage of the demo. Steps run in order on a shared
// demoEnv; a step fails the demo by returning an error.
type demoStep struct {
	Name string
	Run  func(ctx context.Context, env *demoEnv) error
}

// demoSteps is the demo's script. Push and messaging add their steps
// here, after presence (which makes sure both nodes know each other).
func demoSteps() []demoStep {
	return []demoStep{
		{Name: "presence", Run: demoPresence},
		{Name: "push", Run: demoPush},
		{Name: "announce", Run: demoAnnounce},
	}
}

// demoPeer is one simulated machine: its node runs, with presence, for
// the whole demo.
type demoPeer struct {
	Name     string
	Home     string
	Node     *node.Node
	Presence *presence.Presence
}

// demoEnv is what steps share.
type demoEnv struct {
	Out        io.Writer
	Net        *multicast.MemNet
	Link       multicast.Link // every host's link; add hosts with Net.Host(Link)
	Alice, Bob *demoPeer
	start      time.Time
}

// Logf prints one demo line, stamped with the time since the start.
func (e *demoEnv) Logf(format string, args ...any) {
	fmt.Fprintf(e.Out, "[%6.2fs] %s\n", time.Since(e.start).Seconds(), fmt.Sprintf(format, args...))
}

func runDemo(c *cli.Context) error {
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	loss := c.Float64("loss")
	if loss < 0 || loss > 0.5 {
		return usageErrorf("--loss %v: want a fraction between 0 and 0.5", loss)
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
	defer cancel()
	env := &demoEnv{
		Out:   c.App.Writer,
		Net:   multicast.NewMemNet(c.Int64("seed")),
		Link:  multicast.Link{Loss: loss},
		start: time.Now(),
	}
	fmt.Fprintf(env.Out, "herald demo: four nodes on a simulated LAN that drops %.0f%% of packets\n", loss*100)
	return runDemoSteps(ctx, env, demoSteps())
}

// runDemoSteps starts alice and bob, runs steps, and always stops both
// nodes and removes their homes.
func runDemoSteps(ctx context.Context, env *demoEnv, steps []demoStep) (err error) {
	nodesCtx, stopNodes := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var runErrs [2]error
	defer func() {
		stopNodes()
		wg.Wait()
		err = errors.Join(err, runErrs[0], runErrs[1])
	}()
	for i, name := range []string{"alice", "bob"} {
		peer, err := newDemoPeer(env, name)
		if err != nil {
			return err
		}
		defer os.RemoveAll(peer.Home)
		if i == 0 {
			env.Alice = peer
		} else {
			env.Bob = peer
		}
		wg.Go(func() { runErrs[i] = peer.Node.RunWith(nodesCtx, peer.Presence.Run) })
		env.Logf("%-5s started, fingerprint %s", name, peer.Node.ID.Fingerprint())
	}
	for _, step := range steps {
		if err := step.Run(ctx, env); err != nil {
			return fmt.Errorf("demo step %s: %w", step.Name, err)
		}
	}
	env.Logf("demo complete")
	return nil
}

// newDemoPeer makes a node with a fresh home on its own simulated host.
func newDemoPeer(env *demoEnv, name string) (*demoPeer, error) {
	home, err := os.MkdirTemp("", "herald-demo-"+name+"-")
	if err != nil {
		return nil, err
	}
	n, err := node.Open(node.Config{Home: home, Name: name, Network: env.Net.Host(env.Link)})
	if err != nil {
		os.RemoveAll(home)
		return nil, err
	}
	return &demoPeer{Name: name, Home: home, Node: n, Presence: presence.New(n, 0)}, nil
}

// demoPresence waits until each node lists the other.
func demoPresence(ctx context.Context, env *demoEnv) error {
	for _, pair := range [][2]*demoPeer{{env.Alice, env.Bob}, {env.Bob, env.Alice}} {
		seer, seen := pair[0], pair[1]
		info, err := waitForPeer(ctx, seer.Presence, seen)
		if err != nil {
			return fmt.Errorf("%s never saw %s: %w", seer.Name, seen.Name, err)
		}
		env.Logf("%-5s sees %s, fingerprint %s (%s)", seer.Name, info.Label, info.Fingerprint, info.Trust)
	}
	return nil
}

// waitForPeer polls p until it lists peer.
func waitForPeer(ctx context.Context, p *presence.Presence, peer *demoPeer) (presence.PeerInfo, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if info, ok := p.Lookup(peer.Node.ID.SignPub); ok {
			return info, nil
		}
		select {
		case <-ctx.Done():
			return presence.PeerInfo{}, ctx.Err()
		case <-tick.C:
		}
	}
}
