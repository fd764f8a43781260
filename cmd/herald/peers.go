package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
)

func peersCommand() *cli.Command {
	return &cli.Command{
		Name:  "peers",
		Usage: "list the herald nodes on the LAN",
		Description: "Beacons on the control group for --wait and lists every node heard:\n" +
			"name, fingerprint, address, trust and when it was last heard. Nodes that\n" +
			"left during the wait are listed too. Names are labels: several keys may use\n" +
			"one (cloned machines are all root@vm), and are then shown with the first group\n" +
			"of their fingerprint (root@vm·K7QF). A key claiming the name of a peer you\n" +
			"trust is shown as \"changed\" and never as that peer.\n" +
			"With --known it lists the trusted keys instead, without using the network.\n" +
			"With --channel it lists only the peers that hold that channel: each member proves\n" +
			"it to the other members, and only to them, so you must hold the channel too.\n\n" +
			"Examples:\n" +
			"   herald peers\n" +
			"   herald peers --wait 10s --json\n" +
			"   herald peers --channel class\n" +
			"   herald --iface eth0 peers\n" +
			"   herald peers --known",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "wait", EnvVars: []string{"HERALD_WAIT"}, Value: 4 * time.Second,
				Usage: "how long to listen for beacons"},
			&cli.BoolFlag{Name: "known", EnvVars: []string{"HERALD_KNOWN"},
				Usage: "list the peers in the trust store (no network)"},
			&cli.StringFlag{Name: "channel", EnvVars: []string{"HERALD_PEERS_CHANNEL"},
				Usage: "only peers that hold this channel (one you joined)"},
			jsonFlag(),
		},
		Action: runPeers,
	}
}

// peerRow is one line of `herald peers`, and its JSON form.
type peerRow struct {
	Name        string    `json:"name"`
	Label       string    `json:"label"`
	Fingerprint string    `json:"fingerprint"`
	KeyID       string    `json:"key_id"`
	Address     string    `json:"address,omitempty"`
	Trust       string    `json:"trust"`
	LastSeen    time.Time `json:"last_seen"`
	Offers      []string  `json:"offers"`
	Left        bool      `json:"left,omitempty"`
	// Via is "multicast", or "unicast" for a peer heard only by unicast
	// (a --peer, or a host whose multicast does not reach us).
	Via string `json:"via,omitempty"`
	// Channels are the channels we hold that the peer proved it holds
	// (SPEC.md §5.4).
	Channels []string `json:"channels,omitempty"`
}

// peersOptions are the flags of `herald peers`.
type peersOptions struct {
	Wait    time.Duration
	Known   bool
	Channel string // "" for every peer
	JSON    bool
}

func peersOptionsFrom(c *cli.Context) (peersOptions, error) {
	o := peersOptions{Wait: c.Duration("wait"), Known: c.Bool("known"), Channel: c.String("channel"), JSON: jsonOutput(c)}
	if err := needArgs(c, 0, "no arguments"); err != nil {
		return o, err
	}
	if o.Known && o.Channel != "" {
		return o, usageErrorf("--known lists the trust store, which records no channels: drop --channel or --known")
	}
	if !o.Known && o.Wait <= 0 {
		return o, usageErrorf("--wait must be positive, e.g. --wait 4s")
	}
	return o, nil
}

func rowFromPeer(p presence.PeerInfo) peerRow {
	return peerRow{
		Name: p.Name, Label: p.Label, Fingerprint: p.Fingerprint, KeyID: identity.KeyIDOf(p.SignPub).String(),
		Address: p.Addr.String(), Trust: p.Trust.String(), LastSeen: p.LastSeen, Offers: offerNames(p.Offers),
		Via: viaName(p.UnicastOnly), Channels: p.Channels,
	}
}

// holds reports whether the row's peer proved it holds channel.
func (r peerRow) holds(channel identity.Channel) bool {
	return channel.IsOpen() || slices.Contains(r.Channels, channel.Name)
}

func viaName(unicastOnly bool) string {
	if unicastOnly {
		return "unicast"
	}
	return "multicast"
}

func runPeers(c *cli.Context) error {
	o, err := peersOptionsFrom(c)
	if err != nil {
		return err
	}
	n, err := openNode(c)
	if err != nil {
		return err
	}
	if o.Known {
		return printPeers(c, o, knownRows(n.Trust.List()), "no peers in the trust store yet; run 'herald peers' to meet some")
	}
	var channel identity.Channel
	if o.Channel != "" {
		if channel, err = pickChannel(n, o.Channel); err != nil {
			return err
		}
	}
	rows, err := listenForPeers(c.Context, n, o.Wait)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return withExit(exitTimeout, fmt.Errorf("no peers answered within %v; is herald running elsewhere on this LAN? (check --iface)", o.Wait))
	}
	if o.Channel != "" {
		heard := len(rows)
		rows = slices.DeleteFunc(rows, func(r peerRow) bool { return !r.holds(channel) })
		if len(rows) == 0 {
			return withExit(exitTimeout, fmt.Errorf("none of the %d peers heard within %v holds channel %s; members show up once they run herald (receive, listen, chat, ui) with the channel joined", heard, o.Wait, channel.Name))
		}
	}
	err = printPeers(c, o, rows, "")
	warnChanged(c, rows)
	return err
}

// listenForPeers runs presence for wait and returns every peer heard,
// including those that left before the end.
func listenForPeers(ctx context.Context, n *node.Node, wait time.Duration) ([]peerRow, error) {
	p := presence.New(n, 0)
	heard := make(map[string]peerRow)
	var wg sync.WaitGroup
	wg.Go(func() {
		for ev := range p.Events() {
			row := rowFromPeer(ev.Peer)
			row.Left = ev.Kind == presence.Left
			heard[row.Fingerprint] = row
		}
	})
	err := n.RunWith(ctx, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		return p.Run(ctx)
	})
	wg.Wait() // Events is closed when p.Run returns
	if err != nil {
		return nil, err
	}
	for _, info := range p.Peers() {
		heard[info.Fingerprint] = rowFromPeer(info)
	}
	rows := make([]peerRow, 0, len(heard))
	for _, r := range heard {
		rows = append(rows, r)
	}
	return rows, nil
}

func knownRows(peers []identity.Peer) []peerRow {
	rows := make([]peerRow, 0, len(peers))
	for _, p := range peers {
		rows = append(rows, peerRow{
			Name: p.Name, Label: identity.Label(p.Name, p.Fingerprint, false), Fingerprint: p.Fingerprint, KeyID: keyID(p),
			Trust: p.State().String(), LastSeen: p.LastSeen, Offers: []string{},
		})
	}
	return rows
}

// printPeers prints rows as a table or JSON lines; none is said on stderr.
func printPeers(c *cli.Context, o peersOptions, rows []peerRow, none string) error {
	slices.SortFunc(rows, func(a, b peerRow) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
	if len(rows) == 0 {
		fmt.Fprintln(c.App.ErrWriter, none)
	}
	if o.JSON {
		for _, r := range rows {
			if err := writeJSON(c.App.Writer, r); err != nil {
				return err
			}
		}
		return nil
	}
	if len(rows) == 0 {
		return nil
	}
	now := time.Now()
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tFINGERPRINT\tADDRESS\tVIA\tTRUST\tLAST SEEN\tOFFERS")
	for _, r := range rows {
		seen := ago(now, r.LastSeen)
		if r.Left {
			seen += " (left)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safeName(r.Label), r.Fingerprint, cmp.Or(r.Address, "-"), cmp.Or(r.Via, "-"), r.Trust, seen, cmp.Or(strings.Join(r.Offers, ","), "-"))
	}
	return w.Flush()
}

// warnChanged explains, on stderr, what a changed key means and what to do.
func warnChanged(c *cli.Context, rows []peerRow) {
	for _, r := range rows {
		if r.Trust != presence.TrustChanged.String() {
			continue
		}
		fmt.Fprintf(c.App.ErrWriter, "WARNING: key %s claims the name %q of a peer you trust, and is not that peer.\n"+
			"  It may be an impostor. If it really is the same person with a new key, ask them for\n"+
			"  the fingerprint their 'herald id' shows, then 'herald trust <that fingerprint>'.\n",
			r.Fingerprint, safeName(r.Name))
	}
}

// keyID is the key id of a known peer, empty for a pinned fingerprint.
func keyID(p identity.Peer) string {
	if p.Pending() {
		return ""
	}
	return identity.KeyIDOf(p.SignPub).String()
}
