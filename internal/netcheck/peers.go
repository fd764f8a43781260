package netcheck

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/presence"
	"github.com/herald-lan/herald/protocol"
	"github.com/herald-lan/herald/replay"
)

// peerView is everything the window learned about one peer.
type peerView struct {
	key        [protocol.SenderLen]byte
	name       string
	fp         string
	addr       netip.AddrPort
	multicast  bool // a beacon of it reached us on the group
	unicast    bool // a unicast beacon of it was accepted
	deaf       bool // it asked for unicast: it does not hear our multicast
	offset     time.Duration
	haveOffset bool
}

// clockWatch reads the control group on its own socket and notes each
// signed beacon's clock against ours, including beacons the node refuses
// as stale, which presence never sees. Safe for concurrent use.
type clockWatch struct {
	self [protocol.SenderLen]byte
	now  func() time.Time
	mu   sync.Mutex
	seen map[[protocol.SenderLen]byte]*peerView
}

// maxWatched bounds the peers the watch remembers.
const maxWatched = 1024

func (w *clockWatch) handle(b []byte, src netip.AddrPort) {
	s, err := protocol.ParseSigned(b)
	if err != nil || s.Type != protocol.TypeBeacon || s.Sender == w.self || !s.Verify() {
		return
	}
	beacon, err := protocol.ParseBeacon(s.Body)
	if err != nil || beacon.Flags&protocol.BeaconLeaving != 0 {
		return
	}
	offset := time.UnixMilli(int64(s.Time)).Sub(w.now())
	w.mu.Lock()
	defer w.mu.Unlock()
	v := w.seen[s.Sender]
	if v == nil {
		if len(w.seen) >= maxWatched {
			return
		}
		v = &peerView{key: s.Sender, fp: identity.Fingerprint(ed25519.PublicKey(s.Sender[:]))}
		w.seen[s.Sender] = v
	}
	v.name, v.addr, v.multicast = beacon.Name, src, true
	v.offset, v.haveOffset = offset, true
}

// watchPeers runs presence (so peers answer us), the clock watch and the
// querier listener for window, and returns what was heard; with a peer
// named by with, it then probes it while the node still runs.
func watchPeers(ctx context.Context, n *node.Node, window time.Duration, q *querierListener, with string) (views []*peerView, granted int, unicast netip.AddrPort, withResult Result, err error) {
	watch := &clockWatch{self: [protocol.SenderLen]byte(n.ID.SignPub), now: n.Now, seen: make(map[[protocol.SenderLen]byte]*peerView)}
	raw, err := n.Listen(n.Control)
	if err != nil {
		return nil, 0, netip.AddrPort{}, Result{}, err
	}
	if uc, ok := raw.(*multicast.UDPConn); ok {
		granted = uc.Buffers().Recv
	}
	p := presence.New(n, 0)
	go func() {
		for range p.Events() {
		}
	}()
	err = n.RunWith(ctx, func(ctx context.Context) error {
		windowCtx, cancel := context.WithTimeout(ctx, window)
		defer cancel()
		var wg sync.WaitGroup
		wg.Go(func() { _ = multicast.ReadLoop(windowCtx, raw, 8, protocol.MaxDatagram, watch.handle) })
		wg.Go(func() { q.run(windowCtx) })
		err := p.Run(windowCtx)
		wg.Wait()
		if err != nil {
			return err
		}
		views, unicast = collectViews(n, watch, p), n.UnicastAddr()
		if with != "" {
			withResult = probeWith(ctx, n, views, with)
		}
		return nil
	})
	raw.Close()
	return views, granted, unicast, withResult, err
}

// judgeUnicast reports the unicast socket static peers and the fallback
// use (SPEC §5.2).
func judgeUnicast(addr, control netip.AddrPort) Result {
	const check = "unicast"
	switch {
	case !addr.IsValid():
		return warn(check, "see --log-level debug for why the socket could not be opened",
			"no unicast socket: static peers (--peer) and the unicast fallback are off")
	case addr.Port() != control.Port():
		return warn(check, fmt.Sprintf("peers that name this host with --peer reach the herald holding port %d here; give it --peer too", control.Port()),
			"unicast on %s: another herald process of this host holds port %d", addr, control.Port())
	}
	return pass(check, "unicast on %s (static peers and fallback)", addr)
}

// collectViews merges the clock watch, the node's reach and presence's
// table into one view per peer, sorted by name.
func collectViews(n *node.Node, watch *clockWatch, p *presence.Presence) []*peerView {
	watch.mu.Lock()
	defer watch.mu.Unlock()
	views := watch.seen
	get := func(key [protocol.SenderLen]byte) *peerView {
		if v := views[key]; v != nil {
			return v
		}
		v := &peerView{key: key, fp: identity.Fingerprint(ed25519.PublicKey(key[:]))}
		views[key] = v
		return v
	}
	for _, r := range n.Reach() {
		v := get(r.Sender)
		v.multicast = v.multicast || !r.Multicast.IsZero()
		v.unicast, v.deaf = !r.Unicast.IsZero(), r.Deaf
		if r.Addr.IsValid() {
			v.addr = r.Addr
		}
	}
	for _, info := range p.Peers() {
		v := get([protocol.SenderLen]byte(info.SignPub))
		v.name = info.Name
		if !v.addr.IsValid() {
			v.addr = info.Addr
		}
	}
	out := make([]*peerView, 0, len(views))
	for _, v := range views {
		if v.key != watch.self {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b *peerView) int { return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.fp, b.fp)) })
	return out
}

func (v *peerView) label() string {
	if v.name == "" {
		return v.fp
	}
	return fmt.Sprintf("%q (%s)", v.name, v.fp)
}

// judgePeers turns the window's views into results: reach per peer, the
// clocks, deaf peers and static peers that never answered.
func judgePeers(views []*peerView, static []netip.AddrPort, window time.Duration) []Result {
	var out []Result
	if len(views) == 0 {
		out = append(out, warn("peers", "start herald on another host of this LAN (herald listen), or name one with --peer ADDR",
			"no peer heard within %v", window))
	}
	var viaMulticast []string
	for _, v := range views {
		switch {
		case v.multicast:
			viaMulticast = append(viaMulticast, v.name)
		case v.unicast:
			r := warn("peers", "multicast does not pass between the two hosts: check firewalls, Wi-Fi client isolation, IGMP snooping, or whether they share a subnet (see README: When peers can't see each other)",
				"%s at %s is heard by unicast only", v.label(), v.addr)
			r.Peer = v.fp
			out = append(out, r)
		}
		if v.deaf {
			r := warn("deaf-peer", "on that host: herald doctor; look for a firewall dropping incoming multicast or a switch pruning the group",
				"%s at %s does not hear our multicast (it asked for unicast copies; herald sends them)", v.label(), v.addr)
			r.Peer = v.fp
			out = append(out, r)
		}
		if v.haveOffset {
			out = append(out, judgeClock(v))
		}
	}
	if len(viaMulticast) > 0 {
		out = append(out, pass("peers", "%d heard by multicast: %v", len(viaMulticast), viaMulticast))
	}
	for _, s := range static {
		answered := false
		for _, v := range views {
			answered = answered || (v.unicast && v.addr.Addr() == s.Addr())
		}
		if answered {
			out = append(out, pass("static-peer", "%s answered by unicast", s))
			continue
		}
		out = append(out, fail("static-peer", fmt.Sprintf("is herald running on %s (herald listen), and is UDP %d open there and here?", s.Addr(), s.Port()),
			"static peer %s did not answer within %v", s, window))
	}
	return out
}

// judgeClock compares a peer's clock with the replay window (SPEC §4.3).
func judgeClock(v *peerView) Result {
	off := v.offset.Round(time.Second)
	abs := max(off, -off)
	fix := "set both clocks right: timedatectl set-ntp true (or chronyc makestep) here and on " + cmp.Or(v.name, v.fp)
	signed := off.String()
	if off >= 0 {
		signed = "+" + signed
	}
	var r Result
	switch {
	case abs > replay.DefaultMaxSkew:
		r = fail("clock", fix, "%s is %s off our clock, beyond the ±%v replay window: all its packets are refused", v.label(), signed, replay.DefaultMaxSkew)
	case abs > replay.DefaultMaxSkew/2:
		r = warn("clock", fix, "%s is %s off our clock, near the ±%v replay window", v.label(), signed, replay.DefaultMaxSkew)
	default:
		r = pass("clock", "%s is %s off our clock (allowed ±%v)", v.label(), signed, replay.DefaultMaxSkew)
	}
	r.Peer = v.fp
	return r
}
