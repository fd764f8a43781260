//go:build !linux

package netcheck

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"time"
)

func checkRPFilter(*net.Interface, bool) Result {
	return pass("rp_filter", "no reverse-path filter sysctl on "+runtime.GOOS)
}

func checkRecvBuffer(asked, granted int, _ bool) Result {
	if granted > 0 && granted < asked {
		return warn("rmem", "raise the OS socket buffer limit (macOS: sysctl -w kern.ipc.maxsockbuf=16777216)",
			"the receive buffer got %d of the %d bytes herald asks", granted, asked)
	}
	return pass("rmem", "receive buffer %d bytes", granted)
}

func checkFirewall(_ context.Context, group netip.AddrPort, _ netip.Addr, _ string) Result {
	fix := "allow herald through the firewall for UDP " + group.String()
	switch runtime.GOOS {
	case "windows":
		fix = "netsh advfirewall firewall add rule name=herald dir=in action=allow program=\"C:\\path\\to\\herald.exe\" protocol=UDP (and mark the network Private)"
	case "darwin":
		fix = "System Settings > Network > Firewall > Options: allow herald (or /usr/libexec/ApplicationFirewall/socketfilterfw --add $(which herald))"
	}
	return warn("firewall", fix, "the firewall is not read on %s", runtime.GOOS)
}

type querierListener struct{}

func listenQuerier(bool) *querierListener    { return &querierListener{} }
func (*querierListener) run(context.Context) {}
func (*querierListener) result(time.Duration, bool) Result {
	return warn("querier", "ask the network admin whether the VLAN has an IGMP/MLD querier",
		"not checked on %s", runtime.GOOS)
}
