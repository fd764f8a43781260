// Command blast measures the raw multicast ceiling of a network: the sender
// multicasts N bytes in fixed-size datagrams as fast as the link accepts
// them (or paced), receivers count what arrives until an end marker, and
// both print one JSON object. It has no reliability at all, which is the
// point: no file transfer tool can beat it on the same link.
//
//	blast send -group 239.255.77.9:7709 -iface eth0 -bytes 52428800 [-rate-mbit 0]
//	blast recv -group 239.255.77.9:7709 -iface eth0 [-timeout 2m] [-idle 3s]
//
// The latency floor: ping sends count datagrams, interval apart, each with
// its send time; listen prints one JSON line per datagram with the one-way
// latency (hosts of one machine share the clock) and exits after count:
//
//	blast ping -group 239.255.77.10:7710 -iface eth0 -count 150 -interval 80ms
//	blast listen -group 239.255.77.10:7710 -iface eth0 -count 150 [-timeout 1m]
//
// The receivers (recv, listen) print "ready" on stderr once they have
// joined the group.
// Only groups in 239.0.0.0/8 are accepted.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
)

// adminScoped is the only range blast sends to or joins.
var adminScoped = netip.MustParsePrefix("239.0.0.0/8")

var errUsage = errors.New("usage: blast send|recv|ping|listen -group 239.x.y.z:port -iface NAME [flags]")

func main() {
	if err := dispatch(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "blast:", err)
		os.Exit(2)
	}
}

func dispatch(args []string) error {
	if len(args) < 1 {
		return errUsage
	}
	switch args[0] {
	case "send":
		return runSend(args[1:])
	case "recv":
		return runRecv(args[1:])
	case "ping":
		return runPing(args[1:])
	case "listen":
		return runListen(args[1:])
	}
	return errUsage
}

// parseGroup resolves group:port and refuses anything outside 239/8.
func parseGroup(s string) (*net.UDPAddr, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", s, err)
	}
	if !adminScoped.Contains(ap.Addr()) {
		return nil, fmt.Errorf("group %s is outside %s", ap.Addr(), adminScoped)
	}
	return net.UDPAddrFromAddrPort(ap), nil
}

func printJSON(v any) error {
	return json.NewEncoder(os.Stdout).Encode(v)
}
