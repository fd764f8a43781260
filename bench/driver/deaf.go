package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/herald-lan/herald/internal/netlab"
)

// A receiver deaf to the push data groups (scenario.Deaf). Its input chain
// drops herald's data groups and counts the unicast UDP that arrives, so
// the row reports what serving it by unicast cost on the wire.
const (
	// deafGroups are herald's data groups (protocol.SessionGroups); the
	// control and feedback groups still pass.
	deafGroups = "239.255.73.0/24"
	// deafCounter counts unicast UDP into the deaf receiver.
	deafCounter = "deafunicast"
)

// makeDeaf adds the deaf receiver's rules after setLoss rewrote its input
// chain (which it flushes), and zeroes its counter. Nothing without Deaf.
func makeDeaf(lab *netlab.Lab, sc scenario) error {
	if sc.Deaf <= 0 {
		return nil
	}
	if sc.Deaf > len(lab.Receivers) {
		return fmt.Errorf("deaf receiver %d of %d", sc.Deaf, len(lab.Receivers))
	}
	t := netlab.NftTable
	h := lab.Receivers[sc.Deaf-1]
	// nft cannot reset a counter added in the same transaction.
	if err := nft(context.Background(), h, fmt.Sprintf("add counter inet %s %s\n", t, deafCounter)); err != nil {
		return err
	}
	return nft(context.Background(), h, fmt.Sprintf("reset counter inet %[1]s %[2]s\n"+
		"add rule inet %[1]s input ip daddr %[3]s drop\n"+
		"add rule inet %[1]s input meta l4proto udp ip daddr != 224.0.0.0/4 counter name %[2]s\n", t, deafCounter, deafGroups))
}

var counterBytes = regexp.MustCompile(`bytes (\d+)`)

// deafUnicastBytes reads the deaf receiver's unicast counter.
func deafUnicastBytes(ctx context.Context, lab *netlab.Lab, sc scenario) (uint64, string) {
	h := lab.Receivers[sc.Deaf-1]
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", h.Name, "nft", "list", "counter", "inet", netlab.NftTable, deafCounter).CombinedOutput()
	if err != nil {
		return 0, fmt.Sprintf("%v: %s", err, out)
	}
	m := counterBytes.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Sprintf("no byte count in %q", out)
	}
	n, err := strconv.ParseUint(string(m[1]), 10, 64)
	if err != nil {
		return 0, err.Error()
	}
	return n, ""
}

func nft(ctx context.Context, h netlab.Host, script string) error {
	c := exec.CommandContext(ctx, "ip", "netns", "exec", h.Name, "nft", "-f", "-")
	c.Stdin = strings.NewReader(script)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("nft on %s: %v: %s", h.Name, err, out)
	}
	return nil
}
