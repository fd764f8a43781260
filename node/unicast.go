package node

import (
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/herald-lan/herald/protocol"
)

// Unicast paths (SPEC.md §5.2). Limits and timers.
const (
	// MaxStaticPeers bounds Config.Peers.
	MaxStaticPeers = 64
	// MaxUnicastRoutes bounds the addresses remembered for having sent us
	// a unicast beacon; the one heard longest ago goes first.
	MaxUnicastRoutes = 256
	// maxMulticastHeard bounds the senders remembered for having been
	// heard on the group (presence's MaxPeers).
	maxMulticastHeard = 1024
	// MaxDeafPeers bounds the unicast copies of one control packet: a
	// signed beacon from a forged source can make us copy our control
	// traffic to an address that never asked, so at most this many, the
	// most recent requests first.
	MaxDeafPeers = 32
	// UnicastExpire is how long a unicast route, a "cannot hear you"
	// request or a multicast hearing stays valid without being renewed:
	// presence's expiry (three missed beacons plus slack).
	UnicastExpire = 10 * time.Second
	// DeafAfter is how long a peer that beaconed us by unicast must go
	// unheard on the group before our copies to it ask for unicast. On a
	// lossy link the multicast beacon sent beside that unicast copy is
	// sometimes lost: at 20 % loss, asking at once moved about one push
	// in eight to unicast for its whole run. Four announce intervals of a
	// push (§6.2), so a receiver of a push hears it by then.
	DeafAfter = time.Second
)

// route is an address that sent us a beacon by unicast.
type route struct {
	key   [protocol.SenderLen]byte
	since time.Time // its first unicast beacon (since the route was made)
	last  time.Time // its latest unicast beacon
	// wants is the time of its latest unicast beacon flagged
	// BeaconUnicastWanted: it does not hear our multicast. Zero once an
	// unflagged unicast beacon from it says it does again.
	wants time.Time
	// flagged: our latest unicast beacon to it carried
	// BeaconUnicastWanted, so one unflagged beacon must follow when we
	// start hearing it on the group.
	flagged bool
}

// unicastPaths is what the Node knows about reaching peers without the
// group: static peers, addresses that beaconed us by unicast, and who is
// heard on the group. Safe for concurrent use.
type unicastPaths struct {
	mu     sync.Mutex
	static []netip.AddrPort
	routes map[netip.AddrPort]*route
	// heard is when each sender key was last heard on the group.
	heard map[[protocol.SenderLen]byte]*hearing
	// newcomers are senders first heard on the group since the last
	// beacon, with their source: each gets one unicast copy of our next
	// beacon, so a host that cannot hear the group still learns of us.
	newcomers map[[protocol.SenderLen]byte]netip.AddrPort

	// Deaf-peer memory (unicast_memory.go): records loaded from the
	// home, addresses that said they hear us again, and whether a save
	// is due.
	remembered []deafRecord
	cleared    map[netip.AddrPort]time.Time
	deafDirty  bool
	lastSave   time.Time
}

func newUnicastPaths(static []netip.AddrPort) *unicastPaths {
	return &unicastPaths{
		static:    slices.Clone(static),
		routes:    make(map[netip.AddrPort]*route),
		heard:     make(map[[protocol.SenderLen]byte]*hearing),
		newcomers: make(map[[protocol.SenderLen]byte]netip.AddrPort),
		cleared:   make(map[netip.AddrPort]time.Time),
	}
}

// hearing is when a sender was last heard on the group: any accepted
// packet (we hear it), and its latest beacon with that process's epoch
// (newcomers are told of us once, by beacon).
type hearing struct {
	any, beacon time.Time
	epoch       uint64
}

// observeGroup records an accepted packet other than a beacon that came
// by the group: its sender is heard there. Called by the reader.
func (u *unicastPaths) observeGroup(sender [protocol.SenderLen]byte, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.hearLocked(sender, now)
}

// hearLocked records that sender was heard on the group at now and
// returns its record.
func (u *unicastPaths) hearLocked(sender [protocol.SenderLen]byte, now time.Time) *hearing {
	h, known := u.heard[sender]
	if !known && len(u.heard) >= maxMulticastHeard {
		evictOldest(u.heard, func(h *hearing) time.Time { return h.any })
	}
	if !known {
		h = &hearing{}
		u.heard[sender] = h
	}
	h.any = now
	return h
}

// observeBeacon records one accepted beacon. Called by the reader.
func (u *unicastPaths) observeBeacon(sender [protocol.SenderLen]byte, epoch uint64, src netip.AddrPort, unicast bool, flags byte, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	leaving := flags&protocol.BeaconLeaving != 0
	if !unicast {
		switch h := u.heard[sender]; {
		case leaving:
			delete(u.heard, sender)
			delete(u.newcomers, sender)
			return
		case h == nil || now.Sub(h.beacon) > UnicastExpire || h.epoch != epoch:
			// Also a new process of a known key (a short-lived send after
			// a listen): it has not heard us, and if we cannot multicast
			// to it only this copy tells it of us.
			if len(u.newcomers) < maxMulticastHeard {
				u.newcomers[sender] = src
			}
		}
		h := u.hearLocked(sender, now)
		h.beacon, h.epoch = now, epoch
		return
	}
	if leaving {
		delete(u.routes, src)
		return
	}
	r := u.routes[src]
	if r == nil {
		if len(u.routes) >= MaxUnicastRoutes {
			evictOldest(u.routes, func(r *route) time.Time { return r.last })
		}
		r = &route{since: now}
		u.routes[src] = r
	}
	r.key, r.last = sender, now
	if flags&protocol.BeaconUnicastWanted != 0 {
		u.deafDirty = u.deafDirty || r.wants.IsZero() || now.Sub(u.lastSave) > time.Minute
		delete(u.cleared, src)
		r.wants = now
	} else {
		if !r.wants.IsZero() && len(u.cleared) < MaxUnicastRoutes {
			u.cleared[src] = now
			u.deafDirty = true
		}
		r.wants = time.Time{}
	}
}

// evictOldest deletes the entry of m whose time is earliest.
func evictOldest[K comparable, V any](m map[K]V, at func(V) time.Time) {
	var oldest K
	var oldestAt time.Time
	first := true
	for k, v := range m {
		if t := at(v); first || t.Before(oldestAt) {
			oldest, oldestAt, first = k, t, false
		}
	}
	if !first {
		delete(m, oldest)
	}
}

// hearsLocked reports whether sender was heard on the group lately.
func (u *unicastPaths) hearsLocked(sender [protocol.SenderLen]byte, now time.Time) bool {
	h, ok := u.heard[sender]
	return ok && now.Sub(h.any) <= UnicastExpire
}

// asksUnicastLocked reports whether our beacon copy to route r asks for
// unicast: its sender is not heard on the group, and has not been for
// DeafAfter since it first beaconed us by unicast.
func (u *unicastPaths) asksUnicastLocked(r *route, now time.Time) bool {
	return !u.hearsLocked(r.key, now) && now.Sub(r.since) >= DeafAfter
}

// flagDue returns how long until a route not heard on the group reaches
// DeafAfter, the soonest of them; false when none waits. A beacon then
// asks it for unicast without waiting for the next beacon interval.
func (u *unicastPaths) flagDue(now time.Time) (time.Duration, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var soonest time.Duration
	found := false
	for _, r := range u.routes {
		wait := DeafAfter - now.Sub(r.since)
		if wait <= 0 || u.hearsLocked(r.key, now) || now.Sub(r.last) > UnicastExpire {
			continue
		}
		if !found || wait < soonest {
			soonest, found = wait, true
		}
	}
	return soonest, found
}

// beaconTarget is one unicast copy of a beacon: where, and whether it
// carries BeaconUnicastWanted.
type beaconTarget struct {
	dst    netip.AddrPort
	wanted bool
}

// beaconTargets says where the next beacon goes by unicast, and sweeps
// expired state. Static peers always; addresses that beaconed us by
// unicast while we do not hear them on the group, or that asked for
// unicast; newcomers once. Each copy is flagged when we do not hear its
// receiver on the group (a route: for DeafAfter, asksUnicastLocked).
func (u *unicastPaths) beaconTargets(now time.Time) []beaconTarget {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.sweepLocked(now)
	var out []beaconTarget
	seen := make(map[netip.AddrPort]bool)
	add := func(dst netip.AddrPort, wanted bool) {
		if seen[dst] {
			return
		}
		seen[dst] = true
		out = append(out, beaconTarget{dst, wanted})
		if r := u.routes[dst]; r != nil {
			r.flagged = wanted
		}
	}
	for _, dst := range u.static {
		r := u.routes[dst]
		add(dst, r == nil || !u.hearsLocked(r.key, now))
	}
	for _, dst := range slices.SortedFunc(maps.Keys(u.routes), compareAddrPort) {
		r := u.routes[dst]
		if !u.hearsLocked(r.key, now) || !r.wants.IsZero() || r.flagged {
			add(dst, u.asksUnicastLocked(r, now))
		}
	}
	for key, dst := range u.newcomers {
		add(dst, !u.hearsLocked(key, now))
		delete(u.newcomers, key)
	}
	return out
}

func compareAddrPort(a, b netip.AddrPort) int { return a.Compare(b) }

// sweepLocked forgets what was not renewed within UnicastExpire.
func (u *unicastPaths) sweepLocked(now time.Time) {
	for dst, r := range u.routes {
		if now.Sub(r.last) > UnicastExpire {
			delete(u.routes, dst)
		} else if !r.wants.IsZero() && now.Sub(r.wants) > UnicastExpire {
			r.wants = time.Time{}
		}
	}
	for key, h := range u.heard {
		if now.Sub(h.any) > UnicastExpire {
			delete(u.heard, key)
		}
	}
}

// deafPeers returns the addresses that asked, within UnicastExpire, for
// our control packets by unicast (they do not hear our multicast).
func (u *unicastPaths) deafPeers(now time.Time) []netip.AddrPort {
	u.mu.Lock()
	defer u.mu.Unlock()
	type deaf struct {
		dst   netip.AddrPort
		wants time.Time
	}
	var all []deaf
	for dst, r := range u.routes {
		if !r.wants.IsZero() && now.Sub(r.wants) <= UnicastExpire {
			all = append(all, deaf{dst, r.wants})
		}
	}
	slices.SortFunc(all, func(a, b deaf) int { return b.wants.Compare(a.wants) })
	out := make([]netip.AddrPort, 0, min(len(all), MaxDeafPeers))
	for _, d := range all[:min(len(all), MaxDeafPeers)] {
		out = append(out, d.dst)
	}
	slices.SortFunc(out, compareAddrPort)
	return out
}

// Reach is what the Node knows about one peer's paths, for `herald
// doctor`. Times are zero when never.
type Reach struct {
	Sender [protocol.SenderLen]byte
	// Addr is the source of its unicast beacons (zero if it never sent
	// one).
	Addr netip.AddrPort
	// Multicast is its latest packet heard on the group; Unicast its
	// latest unicast beacon.
	Multicast, Unicast time.Time
	// Deaf: it said, within UnicastExpire, that it does not hear our
	// multicast.
	Deaf bool
}

// UnicastFlagDue returns how long until a peer that beaconed us by
// unicast, and is not heard on the group, has gone unheard for DeafAfter;
// false when none waits. The beacon sent then asks it for unicast
// (presence beacons at that time rather than at its next interval).
func (n *Node) UnicastFlagDue() (time.Duration, bool) { return n.uni.flagDue(n.now()) }

// Reach returns every peer heard within UnicastExpire on either path.
func (n *Node) Reach() []Reach {
	u := n.uni
	now := n.now()
	u.mu.Lock()
	defer u.mu.Unlock()
	byKey := make(map[[protocol.SenderLen]byte]*Reach)
	get := func(k [protocol.SenderLen]byte) *Reach {
		if r := byKey[k]; r != nil {
			return r
		}
		r := &Reach{Sender: k}
		byKey[k] = r
		return r
	}
	for k, h := range u.heard {
		if now.Sub(h.any) <= UnicastExpire {
			get(k).Multicast = h.any
		}
	}
	for dst, rt := range u.routes {
		if now.Sub(rt.last) > UnicastExpire {
			continue
		}
		r := get(rt.key)
		if rt.last.After(r.Unicast) {
			r.Unicast, r.Addr = rt.last, dst
		}
		r.Deaf = r.Deaf || (!rt.wants.IsZero() && now.Sub(rt.wants) <= UnicastExpire)
	}
	out := make([]Reach, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Reach) int { return slices.Compare(a.Sender[:], b.Sender[:]) })
	return out
}

// StaticPeers returns Config.Peers as resolved at Open.
func (n *Node) StaticPeers() []netip.AddrPort { return slices.Clone(n.uni.static) }

// UnicastRouteOf returns the address that most recently sent us a unicast
// beacon signed by sender, within UnicastExpire: that peer's unicast
// socket, exactly (a multicast source may be another process's).
func (n *Node) UnicastRouteOf(sender [protocol.SenderLen]byte) (netip.AddrPort, bool) {
	u := n.uni
	now := n.now()
	u.mu.Lock()
	defer u.mu.Unlock()
	var best netip.AddrPort
	var at time.Time
	for dst, r := range u.routes {
		if r.key == sender && now.Sub(r.last) <= UnicastExpire && r.last.After(at) {
			best, at = dst, r.last
		}
	}
	return best, best.IsValid()
}
