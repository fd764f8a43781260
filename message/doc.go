// Package message is herald's messaging engine: announcements and chat
// to channels (protocol.GroupMsg) and private messages with receipts
// (protocol.Private), over a node.Node, so the same engine runs on a
// memnet in tests and on real multicast in the CLI.
//
// Sending: a text of up to protocol.MaxMessageLen bytes is cut into K
// equal fragments, 1+K/4 fec parity fragments are added, and each
// fragment goes out sealed (secretbox under the channel's message key,
// box to a private recipient; in clear on the open channel) in its own
// signed packet, the seal's nonce taken from that packet's envelope.
// Every round re-sends all fragments under fresh envelopes and the same
// message id; any K distinct fragments rebuild the message.
//
// Receiving, per packet and cheapest check first: parse; drop what is
// for another channel or recipient; refuse a sender whose key the peer
// table marks changed; drop repeats of a message already shown (keyed by
// sender key and message id); charge a new message to its sender's token
// bucket; decrypt; reassemble. Every refusal is counted in Stats. State
// is bounded: MaxPartialPerSender and MaxPartialTotal messages in
// reassembly, each dropped ReassemblyTimeout after its first fragment,
// and DoneMemory (sender, id) pairs remembered for deduplication.
//
// Signatures and replay are the node's job: the engine only sees packets
// that verified and were new; node.Stats counts the rest.
package message
