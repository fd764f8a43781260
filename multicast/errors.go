package multicast

import "errors"

// Sentinel errors. Every error returned by this package that matches one of
// them wraps it with %w and adds the concrete cause. The texts say what
// went wrong, not what to type: the program using the package knows its
// own flags and adds that advice (herald does in cmd/herald/hints.go).
var (
	// ErrNoMulticastInterface: no usable interface to join the group on.
	ErrNoMulticastInterface = errors.New("no up, multicast-capable interface")
	// ErrInterfaceNotFound: the interface named in Config.Iface does not exist.
	ErrInterfaceNotFound = errors.New("network interface not found")
	// ErrPortInUse: another socket holds the port without SO_REUSEADDR.
	ErrPortInUse = errors.New("UDP port in use by a program that does not share it")
	// ErrPermission: the OS refused the socket, bind or option.
	ErrPermission = errors.New("permission denied")
	// ErrNotMulticastGroup: Listen or WriteBatch got an address that is not
	// a multicast group with a port.
	ErrNotMulticastGroup = errors.New("not a multicast group with a non-zero port")
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("invalid multicast configuration")
)
