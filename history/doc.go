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
// bbolt lets one process at a time open the file for writing. Several
// herald processes share one home (listen in one terminal, send in
// another), so writers go through a Recorder, which opens the file only
// for the moment it writes a batch, and readers open it read-only.
package history
