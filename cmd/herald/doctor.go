package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/internal/netcheck"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check what stops multicast on this host and with the peers it hears",
		Description: "Checks the interface (MULTICAST flag, MTU), the route for the control group, rp_filter,\n" +
			"the firewall (nftables), the receive buffer limit, then listens for --wait: IGMP/MLD\n" +
			"querier, each peer heard by multicast or only by unicast, peers that do not hear our\n" +
			"multicast, clock offsets against the ±2 min replay window, and static peers (--peer).\n" +
			"With --with PEER it then sends a short burst of probes to that peer by multicast and by\n" +
			"unicast (any running herald answers) and reports reach and rate on each path.\n" +
			"Each check says PASS, WARN or FAIL, and how to fix it. Exit code 0 when nothing failed.\n" +
			"Run it as root to read the firewall and hear IGMP queries.\n\n" +
			"Examples:\n" +
			"   sudo herald doctor\n" +
			"   herald --iface eth0 --peer 198.18.0.7 doctor --wait 10s --json\n" +
			"   herald doctor --with alice@lab3",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "wait", EnvVars: []string{"HERALD_WAIT"}, Value: netcheck.DefaultWindow,
				Usage: "how long to listen for peers and IGMP queries"},
			&cli.StringFlag{Name: "with", EnvVars: []string{"HERALD_WITH"},
				Usage: "after listening, probe this PEER (name, fingerprint or address) on both paths: multicast and unicast reach and rate"},
			jsonFlag(),
		},
		Action: runDoctor,
	}
}

// doctorOptions are the flags of `herald doctor`.
type doctorOptions struct {
	Wait  time.Duration
	With  string // PEER to probe; "" for none
	Iface string // the global --iface
	JSON  bool
}

func doctorOptionsFrom(c *cli.Context) (doctorOptions, error) {
	o := doctorOptions{Wait: c.Duration("wait"), With: c.String("with"), Iface: c.String("iface"), JSON: jsonOutput(c)}
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return o, err
	}
	if o.Wait <= 0 {
		return o, usageErrorf("--wait must be positive, e.g. --wait 5s")
	}
	return o, nil
}

func runDoctor(c *cli.Context) error {
	o, err := doctorOptionsFrom(c)
	if err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	results, err := netcheck.Run(c.Context, netcheck.Config{Node: n, Iface: o.Iface, Window: o.Wait, With: o.With})
	if err != nil {
		return err
	}
	if err := printDoctor(c, o, results); err != nil {
		return err
	}
	if netcheck.Failed(results) {
		return withExit(exitError, fmt.Errorf("doctor: %d check(s) failed; each FAIL above says how to fix it", countFailed(results)))
	}
	return nil
}

func countFailed(rs []netcheck.Result) int {
	n := 0
	for _, r := range rs {
		if r.Status == netcheck.Fail {
			n++
		}
	}
	return n
}

// printDoctor prints one line per check and its fix below it, or JSON
// lines.
func printDoctor(c *cli.Context, o doctorOptions, results []netcheck.Result) error {
	w := c.App.Writer
	if o.JSON {
		for _, r := range results {
			if err := writeJSON(w, r); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range results {
		fmt.Fprintf(w, "%-4s  %-11s %s\n", r.Status, r.Check, r.Detail)
		if r.Fix != "" {
			fmt.Fprintf(w, "      %-11s fix: %s\n", "", r.Fix)
		}
	}
	return nil
}
