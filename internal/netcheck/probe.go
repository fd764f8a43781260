package netcheck

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Probe burst (SPEC.md §5.3): ProbeCount datagrams of about
// protocol.MaxDatagram bytes per path, paced at ProbeRate.
const (
	ProbeCount = 400
	// ProbeRate is the pace of each burst, bits per second: fast enough
	// to show a Wi-Fi basic rate or a policer, slow enough for any LAN.
	ProbeRate   = 100_000_000
	probeReply  = 400 * time.Millisecond // wait for reports per attempt
	probeTries  = 5
	probePacing = time.Millisecond
)

// findPeer picks the peer named by with: name, fingerprint, or address
// (with or without port).
func findPeer(views []*peerView, with string) *peerView {
	for _, v := range views {
		if v.name == with || strings.EqualFold(v.fp, with) || v.addr.String() == with || (v.addr.IsValid() && v.addr.Addr().String() == with) {
			return v
		}
	}
	return nil
}

// pathReport is what the peer said about one path.
type pathReport struct {
	got        bool
	count      uint32
	bytes      uint32
	spanMicros uint32
}

func (r pathReport) String() string {
	if !r.got {
		return "no report"
	}
	s := fmt.Sprintf("%d/%d (%.0f%%)", r.count, ProbeCount, 100*float64(r.count)/ProbeCount)
	if r.spanMicros > 0 {
		s += fmt.Sprintf(" at %.1f Mbit/s", float64(r.bytes)*8/float64(r.spanMicros))
	}
	return s
}

// probeWith sends a burst on each path to the peer named with and reads
// its reports.
func probeWith(ctx context.Context, n *node.Node, views []*peerView, with string) Result {
	const check = "with"
	v := findPeer(views, with)
	if v == nil {
		return fail(check, "name a peer herald doctor lists (name, fingerprint or address), running herald (herald listen)",
			"%q was not heard within the window", with)
	}
	if !v.addr.IsValid() {
		return fail(check, "", "no address known for %s", v.label())
	}
	reports := n.Subscribe(protocol.TypeProbe, 64)
	defer n.Unsubscribe(reports)
	var session [8]byte
	rand.Read(session[:])
	padding := make([]byte, protocol.MaxDatagram-protocol.SignedOverhead-protocol.Probe{}.Len())
	paths := []byte{protocol.ProbePathMulticast, protocol.ProbePathUnicast}
	for _, path := range paths {
		if err := burst(ctx, n, v, session, path, padding); err != nil {
			return fail(check, "see the checks above", "probe to %s not sent: %v", v.label(), err)
		}
	}
	got := map[byte]*pathReport{protocol.ProbePathMulticast: {}, protocol.ProbePathUnicast: {}}
	for try := 0; try < probeTries && !(got[1].got && got[2].got); try++ {
		for _, path := range paths {
			if !got[path].got {
				done := protocol.Probe{Kind: protocol.ProbeDone, Path: path, Session: session, Target: v.key, Count: ProbeCount}
				pkt, _ := n.Signer.Append(nil, done)
				_ = n.SendTo(pkt, v.addr)
			}
		}
		wait := time.NewTimer(probeReply)
	collect:
		for {
			select {
			case pkt, ok := <-reports:
				if !ok {
					break collect
				}
				p, err := protocol.ParseProbe(pkt.Body)
				if err != nil || p.Kind != protocol.ProbeReport || p.Session != session || pkt.Sender != v.key || got[p.Path] == nil {
					continue
				}
				*got[p.Path] = pathReport{got: true, count: p.Count, bytes: p.Bytes, spanMicros: p.SpanMicros}
				if got[1].got && got[2].got {
					break collect
				}
			case <-wait.C:
				break collect
			case <-ctx.Done():
				wait.Stop()
				return fail(check, "", "interrupted")
			}
		}
		wait.Stop()
	}
	mc, uc := *got[protocol.ProbePathMulticast], *got[protocol.ProbePathUnicast]
	detail := fmt.Sprintf("%s at %s, %d probes each sent at %d Mbit/s: multicast %v; unicast %v",
		v.label(), v.addr, ProbeCount, ProbeRate/1_000_000, mc, uc)
	r := judgeProbe(detail, mc, uc)
	r.Peer = v.fp
	return r
}

func judgeProbe(detail string, mc, uc pathReport) Result {
	const check = "with"
	reach := func(p pathReport) float64 { return float64(p.count) / ProbeCount }
	switch {
	case !mc.got && !uc.got:
		return fail(check, "is herald running on that host (herald listen), and is UDP 4772 open in both firewalls?", "%s", detail)
	case reach(mc) < 0.5:
		return fail(check, "multicast does not reach that host: run herald doctor there (firewall, IGMP snooping); on Wi-Fi use a cable or the access point's multicast-to-unicast; meanwhile herald serves it by unicast if it asks (see deaf-peer)", "%s", detail)
	case reach(mc) < 0.95 || (uc.got && reach(uc) < 0.95):
		return warn(check, "a lossy path: Wi-Fi basic rate, a policer or a busy link; push with a lower --rate, FEC repairs the rest", "%s", detail)
	}
	return pass(check, "%s", detail)
}

// burst sends ProbeCount probes on path, paced at ProbeRate in
// probePacing slices.
func burst(ctx context.Context, n *node.Node, v *peerView, session [8]byte, path byte, padding []byte) error {
	start := time.Now()
	sent := 0
	for i := range ProbeCount {
		p := protocol.Probe{Kind: protocol.ProbeData, Path: path, Session: session, Target: v.key, Count: uint32(i), Padding: padding}
		pkt, _ := n.Signer.Append(make([]byte, 0, protocol.MaxDatagram), p)
		var err error
		if path == protocol.ProbePathMulticast {
			err = n.SendMulticast(pkt)
		} else {
			err = n.SendTo(pkt, v.addr)
		}
		if err != nil {
			return err
		}
		sent += len(pkt)
		due := start.Add(time.Duration(float64(sent*8) / ProbeRate * float64(time.Second)))
		if ahead := time.Until(due); ahead > probePacing {
			select {
			case <-time.After(ahead):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}
