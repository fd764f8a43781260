package protocol

import "net/netip"

// Default port and groups (SPEC.md §2). All herald traffic uses one UDP
// port; the control group carries beacons, messages and push announces;
// each push uses a data group (shards, manifest) and a feedback group
// (receiver status), picked from the session id so bystanders never see
// bulk traffic.
const DefaultPort = 4772

var (
	ControlGroupV4 = netip.MustParseAddr("239.255.72.1")
	ControlGroupV6 = netip.MustParseAddr("ff12::4852:4c44:1")
)

// SessionGroups returns the data and feedback groups of session s in the
// family of control (the control group in use).
//
//	IPv4: data 239.255.73.X, feedback 239.255.74.X
//	IPv6: data ff12::4852:4c45:X, feedback ff12::4852:4c46:X
//
// with X = 1 + s[7] mod 254.
func SessionGroups(control netip.Addr, s SessionID) (data, feedback netip.Addr) {
	x := 1 + s[7]%254
	if control.Is4() {
		return netip.AddrFrom4([4]byte{239, 255, 73, x}), netip.AddrFrom4([4]byte{239, 255, 74, x})
	}
	d := ControlGroupV6.As16()
	d[13], d[14], d[15] = 0x45, 0, x
	f := d
	f[13] = 0x46
	return netip.AddrFrom16(d), netip.AddrFrom16(f)
}
