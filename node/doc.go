// Package node is the runtime every herald command and engine shares: it
// loads the identity, trust store and channels from the home, owns the
// Signer and the replay Guard, and runs the one reader of the control
// group.
//
// The reader takes datagrams in batches of ReadBatch, and for each one
// checks, in this order and counting every refusal: the header
// (protocol.ParseHeader), that the type is signed, that it is not one of
// this process's own packets, the signature (Signed.Verify) and replay
// (replay.Guard.Check, only after Verify so forged packets cannot move a
// window). A packet that passes is copied once and offered to every
// subscriber of its type on a bounded channel; a subscriber whose queue
// is full loses the packet and the loss is counted, so a slow consumer
// never stalls the reader or the other subscribers.
//
// Own packets: multicast loopback is on, so a process hears what it
// sends. Packets whose envelope carries this Node's sender key AND its
// Signer's epoch are dropped (counted as Own) before the signature is
// checked. Packets from the same key under another epoch come from
// another process sharing this identity (e.g. `herald receive` and
// `herald push` run from one home) and are delivered like any other.
//
// Lifecycle: Open touches no network. The control group is joined by
// Join, the first Send or Run, whichever comes first. Run returns when its
// context ends; it then closes the connection, waits for the reader and
// closes every subscriber channel, so no goroutine outlives it. A Node
// runs once: after Run returns, Send fails with ErrClosed.
package node
