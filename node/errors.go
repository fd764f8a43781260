package node

import "errors"

// Sentinel errors; returned errors wrap them, test with errors.Is.
var (
	// ErrNetwork: the multicast transport could not be set up (no such
	// interface, no multicast route, group join refused, ...).
	ErrNetwork = errors.New("node: network setup failed")
	// ErrClosed: the Node has stopped (Run returned or Close was called).
	ErrClosed = errors.New("node: closed")
	// ErrRunning: Run was called while already running.
	ErrRunning = errors.New("node: already running")
	// ErrConfig: a Config field is invalid.
	ErrConfig = errors.New("node: invalid config")
)
