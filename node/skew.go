package node

import (
	"crypto/ed25519"
	"net/netip"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
	"github.com/herald-lan/herald/replay"
)

// SkewWarnEvery bounds the clock-skew warning to one per this period, so a
// flood of stale packets (or a replay of a capture) costs one log line.
const SkewWarnEvery = 30 * time.Second

// warnClockSkew tells the user, at most once per SkewWarnEvery, that a
// correctly signed packet was refused because its timestamp is outside the
// replay window (SPEC §4.3): nearly always a clock that is off on one of
// the two hosts, which otherwise looks like a peer that is silent. Runs on
// the reader goroutine only.
func (n *Node) warnClockSkew(sender [protocol.SenderLen]byte, src netip.AddrPort, sentMillis uint64) {
	now := n.now()
	if last := n.skewWarned; !last.IsZero() && now.Sub(last) < SkewWarnEvery {
		return
	}
	n.skewWarned = now
	offset := time.UnixMilli(int64(sentMillis)).Sub(now).Round(time.Second)
	// The packets may be a replay of another host's capture, so the
	// sender is named as the packet claims it, never as the culprit.
	n.Logger.Warn("node: dropping stale packets claiming to be from a peer: their clock is outside the allowed skew; "+
		"if that peer is real, set both clocks right (NTP) and retry",
		"claimed_sender", identity.Fingerprint(ed25519.PublicKey(sender[:])), "addr", src,
		"their_clock_minus_ours", offset, "allowed", replay.DefaultMaxSkew)
}
