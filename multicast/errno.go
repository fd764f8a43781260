package multicast

import "fmt"

// classifySocketError wraps err with the sentinel a caller can act on:
// ErrPortInUse or ErrPermission, or returns it wrapped with context only.
func classifySocketError(op string, target fmt.Stringer, err error) error {
	switch {
	case isAddrInUse(err):
		return fmt.Errorf("multicast: %s %v: %w (%v)", op, target, ErrPortInUse, err)
	case isPermission(err):
		return fmt.Errorf("multicast: %s %v: %w (%v)", op, target, ErrPermission, err)
	default:
		return fmt.Errorf("multicast: %s %v: %w", op, target, err)
	}
}
