package node

import (
	"net/netip"
	"time"

	"github.com/herald-lan/herald/protocol"
)

// maxProbeTallies bounds the probe bursts counted at once (SPEC.md §5.3);
// the oldest is forgotten first.
const maxProbeTallies = 8

// probeTally counts one burst on one path.
type probeTally struct {
	session     [8]byte
	path        byte
	count       uint32
	bytes       uint32
	first, last time.Time
}

// answerProbe counts probes addressed to this node and answers a
// ProbeDone with the report of its path. Runs under handleMu.
func (n *Node) answerProbe(s protocol.Signed, src netip.AddrPort, size int) {
	p, err := protocol.ParseProbe(s.Body)
	if err != nil || p.Target != n.self {
		return
	}
	now := n.now()
	var t *probeTally
	for i := range n.probes {
		if n.probes[i].session == p.Session && n.probes[i].path == p.Path {
			t = &n.probes[i]
		}
	}
	switch p.Kind {
	case protocol.ProbeData:
		if t == nil {
			if len(n.probes) >= maxProbeTallies {
				n.probes = n.probes[1:]
			}
			n.probes = append(n.probes, probeTally{session: p.Session, path: p.Path, first: now})
			t = &n.probes[len(n.probes)-1]
		}
		t.count++
		t.bytes += uint32(size)
		t.last = now
	case protocol.ProbeDone:
		report := protocol.Probe{Kind: protocol.ProbeReport, Path: p.Path, Session: p.Session, Target: s.Sender}
		if t != nil {
			report.Count, report.Bytes = t.count, t.bytes
			report.SpanMicros = uint32(min(t.last.Sub(t.first).Microseconds(), 1<<32-1))
		}
		pkt, _ := n.Signer.Append(nil, report)
		if err := n.SendTo(pkt, src); err != nil {
			_ = n.sendGroup(pkt)
		}
	}
}

// SendMulticast sends one complete packet to the control group only,
// without the unicast copies Send makes (a probe of the multicast path).
func (n *Node) SendMulticast(pkt []byte) error { return n.sendGroup(pkt) }
