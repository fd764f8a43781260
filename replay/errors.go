package replay

import (
	"errors"
	"fmt"
)

// Sentinel errors; Check returns them wrapped, test with errors.Is.
var (
	// ErrReplay: the counter was seen, is below the window, is 0, or its
	// epoch is retired.
	ErrReplay = errors.New("replay: packet already seen")
	// ErrStale: the timestamp is older than now-MaxSkew.
	ErrStale = errors.New("replay: timestamp too old")
	// ErrFuture: the timestamp is beyond now+MaxSkew.
	ErrFuture = errors.New("replay: timestamp in the future")
	// ErrTooManySenders: the sender table is full of live senders, or
	// the packet's source address added its share of new senders.
	ErrTooManySenders = errors.New("replay: too many senders")
	// ErrDuplicate (which matches ErrReplay too): a copy of a packet
	// accepted less than DuplicateGrace ago. Herald's own paths make
	// these (a datagram heard twice); they are refused but are not a sign
	// of an attack, so callers count them apart from replays.
	ErrDuplicate = fmt.Errorf("%w: a copy of a packet just accepted", ErrReplay)
)

// Preformatted reasons: Check sits on the receive path and must not
// allocate for every packet it refuses.
var (
	errCounterZero = fmt.Errorf("%w: counter 0 is never sent", ErrReplay)
	errDuplicate   = fmt.Errorf("%w: counter already accepted", ErrReplay)
	errPerAddr     = fmt.Errorf("%w: this source address added too many new senders", ErrTooManySenders)
	errBelowWindow = fmt.Errorf("%w: counter below the window", ErrReplay)
	errBelowFloor  = fmt.Errorf("%w: timestamp not above the epoch's floor (a retired epoch's packet)", ErrReplay)
	errEpochTooOld = fmt.Errorf("%w: new epoch older than every tracked epoch", ErrReplay)
)
