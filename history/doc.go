// Package history keeps the messages a herald node showed or sent, in a
// bbolt file (<home>/history.db), for `herald history`.
//
// Entries live in conversations: one per channel ("channel/<name>") and
// one for all private messages ("private"). Each conversation keeps its
// newest MaxEntries entries and at most MaxBytes of them; older ones are
// deleted as new ones arrive, so the file stays bounded however long
// listen runs. Channel names come from the local channel store, never
// from a packet, so the number of conversations is bounded too.
//
// Entries of senders the user does not trust are kept apart from the
// rest, in "strangers/<conversation>", with their own smaller bounds
// (MaxStrangerEntries, MaxStrangerBytes) and a quota per sender
// (MaxPerStranger): a flood from fresh keys evicts only its own kind and
// never a trusted peer's message. A message is recorded once per
// conversation, sender and id, however many processes record it.
//
// bbolt lets one process at a time open the file for writing. Several
// herald processes share one home (listen in one terminal, send in
// another), so writers go through a Recorder, which opens the file only
// for the moment it writes a batch, and readers open it read-only.
package history
