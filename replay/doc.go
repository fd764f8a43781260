// Package replay refuses signed packets that were already accepted, so a
// captured packet cannot be played back into the network.
//
// Every signed packet carries its sender's public key, an epoch (random,
// chosen when the sender process starts), a counter (1, 2, 3, ... within
// the epoch) and the sender's clock in Unix milliseconds. A Guard accepts
// each (sender, epoch, counter) at most once:
//
//   - Time: a packet more than MaxSkew older than the local clock is
//     stale, more than MaxSkew ahead is from the future. Both are refused,
//     so state for a packet only has to be kept for 2*MaxSkew.
//   - Counters: per epoch, the highest counter seen and a bitmap of the
//     Window counters below it. Anything below the window, or already
//     marked, is a replay; packets may arrive out of order within it.
//   - Epochs: a sender keeps at most EpochsPerSender epochs (several
//     processes may share one identity, and each restart starts one).
//     When a new epoch arrives and the table is full, the tracked epoch
//     whose newest timestamp is oldest (the victim) is retired, and the
//     new epoch takes its place only if its timestamp is above the
//     victim's newest; that timestamp becomes the new epoch's floor, and
//     packets at or below an epoch's floor are refused. Why this is
//     enough: each retirement removes the minimum, so every packet ever
//     accepted from a retired epoch has a timestamp at or below the
//     newest of every epoch still tracked and at or below the floor of
//     every epoch created since. Such a packet is refused whether its
//     epoch is unknown (not above the victim) or came back with a fresh
//     window through a packet never seen before (not above the floor).
//     A restarted process is unaffected: its timestamps are later than
//     anything it sent before.
//   - Senders: at most MaxSenders. A new sender takes the place of the
//     least recently accepted one only if that one has expired (its
//     newest timestamp is older than now-MaxSkew, so every packet it had
//     accepted is already stale). If it has not, the new sender is refused
//     with ErrTooManySenders: anyone can make keys, and evicting live
//     state on demand would let a flood of fresh keys reopen replay of
//     a real sender's recent packets.
//   - Protected senders (Config.Protected, Guard.SetProtected: trusted
//     peers, this node's own key) take reserved slots, MaxProtected of
//     them, outside MaxSenders: strangers never evict or lock them out.
//     A stranger is also refused once its source address (CheckFrom)
//     added NewPerAddr strangers in the current MaxSkew period.
//   - Copies: a packet seen again within DuplicateGrace of its original
//     is ErrDuplicate (which also matches ErrReplay): the same datagram
//     heard twice, counted apart from replays, which are worth a user's
//     attention.
//   - Restarts: AppendState/LoadState carry each sender's newest accepted
//     timestamp to the next process, which refuses everything at or below
//     it (state.go), so a capture cannot be replayed into a restarted one.
//
// Memory is bounded by MaxSenders * EpochsPerSender * (Window+64) bits
// plus a small fixed overhead per entry.
//
// Check MUST only be called after the packet's signature verified;
// otherwise forged packets would move windows and fill the tables.
package replay
