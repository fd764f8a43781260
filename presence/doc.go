// Package presence tells herald nodes on a LAN about each other.
//
// A Presence beacons on the node's control group (protocol.Beacon signed
// by the node's Signer): once at start, again after QuickRepeat so that
// a peer which missed the first one (or started at the same moment) sees
// it quickly, then every Interval ± Jitter, and a last beacon flagged
// protocol.BeaconLeaving when it stops.
//
// It keeps a table of the peers it hears, at most MaxPeers (the one seen
// longest ago is forgotten first). A peer that sends nothing for
// ExpireAfter (three missed beacons) or says it is leaving is removed.
// Every beacon is passed to the node's trust store, which knows keys by
// fingerprint: names are labels any number of keys may share (PeerInfo
// Label disambiguates them). An untrusted key claiming a trusted key's
// name is marked Changed, logged at Warn level and never shown as that
// peer.
//
// After each regular beacon a node that holds channels sends a
// protocol.Membership (SPEC.md §5.4): one tag per channel, an HMAC under
// the channel's presence key over the packet's envelope, padded with
// random tags. Only members of a channel can make or recognise its tag,
// so PeerInfo.Channels lists, for each peer, the channels we hold that
// it proved within ExpireAfter, and non-members learn none of them.
//
// The beacon's box key needs no separate binding signature: the whole
// beacon, box key included, is signed by the sender's Ed25519 key and
// verified by the node before it gets here.
package presence
