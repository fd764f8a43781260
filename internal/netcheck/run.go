package netcheck

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
)

// DefaultWindow is how long peers and queries are listened for.
const DefaultWindow = 5 * time.Second

// Config says what to check.
type Config struct {
	// Node is opened and not yet running; Run runs it for the window.
	Node *node.Node
	// Iface is the interface herald was told to use ("" as herald
	// chooses).
	Iface string
	// Window is how long peers and queries are listened for
	// (DefaultWindow when 0).
	Window time.Duration
	// With names one peer (name, fingerprint or address) for the probe
	// round trip on both paths; empty skips it.
	With string
}

// Run performs every check and returns the results in a fixed order:
// host checks, then the window's (querier, peers, clocks, static peers),
// then the probe round trip with Config.With. The error is only for a node that could not run at
// all; everything else is a result.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	n := cfg.Node
	if n == nil {
		return nil, errors.New("netcheck: Config.Node is required")
	}
	window := cfg.Window
	if window <= 0 {
		window = DefaultWindow
	}
	is6 := n.Control.Addr().Is6()
	ifi, ifErr := chooseInterface(cfg.Iface, is6)
	var out []Result
	out = append(out, checkInterface(ifi, ifErr, is6), checkRoute(ifi, n.Control), checkRPFilter(ifi, is6))
	var local = n.Control.Addr()
	name := ""
	if ifi != nil {
		local, name = addrOf(ifi, is6), ifi.Name
	}
	out = append(out, checkFirewall(ctx, n.Control, local, name))

	q := listenQuerier(is6)
	views, granted, unicast, withResult, err := watchPeers(ctx, n, window, q, cfg.With)
	if err != nil {
		if errors.Is(err, node.ErrNetwork) {
			out = append(out, fail("multicast", "see the interface and route checks above; name an interface with --iface",
				"cannot join the control group %s: %v", n.Control, err))
			return out, nil
		}
		return out, err
	}
	root := os.Geteuid() == 0
	out = append(out, checkRecvBuffer(multicast.DefaultRecvBuffer, granted, root))
	out = append(out, q.result(window, is6), judgeUnicast(unicast, n.Control))
	out = append(out, judgePeers(views, n.StaticPeers(), window)...)
	if cfg.With != "" {
		out = append(out, withResult)
	}
	return out, nil
}
