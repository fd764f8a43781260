// Package netlab builds throw-away Linux network labs for herald's tests and
// benchmarks: one sender and N receivers, each in its own network namespace,
// joined by a Linux bridge that lives in a namespace of its own, so nothing
// touches the host's network.
//
// Topology of a lab with id "hl3f2a" and two receivers:
//
//	ns hl3f2a-s   eth0 198.18.0.1/24 ─┐
//	ns hl3f2a-r1  eth0 198.18.0.2/24 ─┼─ ns hl3f2a-br: br0 (mcast_snooping 0,
//	ns hl3f2a-r2  eth0 198.18.0.3/24 ─┘               mcast_querier 0, no STP)
//
// Every host namespace has lo up, IPv6 disabled, a route 239.0.0.0/8 dev
// eth0, no default route, and an nftables table "netlab" whose output chain
// drops (and counts) any packet addressed outside 198.18.0.0/15 and
// 239.0.0.0/8: a guard, so a tool with a surprising default address cannot
// send anywhere else. Its input chain carries the loss rule set by SetLoss.
// When Config.RateMbit > 0 every host's eth0 gets a tbf qdisc at that rate,
// which models a NIC of that speed (the kernel has no netem).
//
// Commands started with Lab.Command also get a UTS namespace whose hostname
// is the host's namespace name, so each host looks like its own machine.
//
// Labs must be closed; Sweep removes labs left behind by crashed processes.
// Every lab holds an flock on a lock file for its lifetime, which is how
// Sweep tells a live lab from a stale one.
package netlab
