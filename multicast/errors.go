package multicast

import "errors"

// Sentinel errors. Every error returned by this package that matches one of
// them wraps it with %w and adds the concrete cause and what to do next.
var (
	// ErrNoMulticastInterface: no usable interface to join the group on.
	ErrNoMulticastInterface = errors.New("no up, multicast-capable interface: bring one up or pass --iface")
	// ErrInterfaceNotFound: the interface named in Config.Iface does not exist.
	ErrInterfaceNotFound = errors.New("network interface not found: list interfaces with `ip link` and pass an existing one with --iface")
	// ErrPortInUse: another socket holds the port without SO_REUSEADDR.
	ErrPortInUse = errors.New("UDP port in use by a program that does not share it: stop that program or choose another --port")
	// ErrPermission: the OS refused the socket, bind or option.
	ErrPermission = errors.New("permission denied: run with the needed privileges or choose a port above 1023")
	// ErrNotMulticastGroup: Listen or WriteBatch got an address that is not
	// a multicast group with a port.
	ErrNotMulticastGroup = errors.New("not a multicast group: use an address in 239.0.0.0/8 or ff00::/8 with a non-zero port")
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("invalid multicast configuration")
)
