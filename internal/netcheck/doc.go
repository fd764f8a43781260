// Package netcheck finds what stops herald's multicast on this host and
// between it and its peers, for `herald doctor`.
//
// Each check yields a Result: PASS, WARN or FAIL, what was seen, and for
// anything but PASS one line saying how to fix it. Host checks read the
// kernel's state (interface flags and MTU, the route the kernel picks for
// the control group, rp_filter, the firewall ruleset, socket buffer
// limits); network checks run a node and presence for a window and report
// the IGMP/MLD querier, each peer's clock offset and whether it is heard by
// multicast, by unicast only, or not at all; a probe round trip with one
// named peer measures reach and rate on both paths.
//
// Nothing here changes the host. The firewall is read, never written.
package netcheck
