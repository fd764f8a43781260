package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/push"
)

// Exit codes (README, "Exit codes"). Scripts depend on them: never
// renumber, only add.
const (
	exitOK      = 0 // success
	exitError   = 1 // any other error
	exitUsage   = 2 // bad command line: unknown command or flag, missing or invalid argument
	exitNetwork = 3 // network setup: no multicast interface, unknown --iface, port refused
	exitTrust   = 4 // trust/security refusal: changed key, untrusted sender, unsafe file permissions
	exitPartial = 5 // partial success: some receivers did not complete
	exitTimeout = 6 // timeout or no answer
	exitRefused = 7 // every receiver refused the push (untrusted sender, disk full, not in the channel)
	// exitInterrupted is the shell's code for a process stopped by
	// SIGINT (128+2): Ctrl-C before the command finished its work.
	exitInterrupted = 130
)

// codedError carries an explicit exit code with an error; commands return
// it via withExit when the code is not implied by a sentinel.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// withExit attaches exit code to err (nil stays nil).
func withExit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// usageErrorf is a command-line mistake: exit code 2. The message should
// say what to type instead.
func usageErrorf(format string, args ...any) error {
	return withExit(exitUsage, fmt.Errorf(format, args...))
}

// exitCode maps an error returned by the app to the documented exit code:
// an explicit code first, then the sentinels of the packages below.
func exitCode(err error) int {
	var coded *codedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &coded):
		return coded.code
	case errors.Is(err, node.ErrNetwork):
		return exitNetwork
	case errors.Is(err, identity.ErrKeyChanged), errors.Is(err, identity.ErrInsecurePermissions):
		return exitTrust
	case errors.Is(err, node.ErrConfig),
		errors.Is(err, identity.ErrBadName), errors.Is(err, identity.ErrBadJoinCode),
		errors.Is(err, identity.ErrUnknownPeer), errors.Is(err, identity.ErrAmbiguous),
		errors.Is(err, identity.ErrUnknownChannel), errors.Is(err, identity.ErrChannelExists):
		return exitUsage
	case errors.Is(err, push.ErrNoReceivers), errors.Is(err, context.DeadlineExceeded):
		return exitTimeout
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	}
	return exitError
}
