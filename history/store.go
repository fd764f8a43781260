package history

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bounds of the store.
const (
	// MaxEntries is how many entries a conversation keeps.
	MaxEntries = 10_000
	// MaxBytes is how many encoded bytes a conversation keeps; with
	// 64 KiB messages it is what bounds the file.
	MaxBytes = 64 << 20
	// MaxStrangerEntries and MaxStrangerBytes bound, per conversation,
	// the entries of senders the user does not trust. They are kept apart
	// from trusted ones, so a flood from fresh keys evicts only its own
	// kind and never a trusted peer's message.
	MaxStrangerEntries = 2_000
	MaxStrangerBytes   = 4 << 20
	// MaxPerStranger is how many entries one untrusted sender may hold in
	// a conversation; more are not recorded.
	MaxPerStranger = 200
	// MaxTextLen bounds the text of one entry; longer text is cut.
	MaxTextLen = 64 << 10
	// LockTimeout is how long Open waits for another process's lock.
	LockTimeout = 2 * time.Second
	// FileName is the store's name inside the home.
	FileName = "history.db"

	channelPrefix       = "channel/"
	privateConversation = "private"
	strangerPrefix      = "strangers/" // + conversation: untrusted senders' entries
	// sinceSlack lets a backward scan read a little past Query.Since,
	// since processes writing in batches may append slightly out of order.
	sinceSlack = time.Minute
)

var (
	// ErrLocked: another process held the file longer than LockTimeout.
	ErrLocked = errors.New("history: store is locked by another herald process")
	// ErrCorrupt: the file holds something this package did not write.
	ErrCorrupt = errors.New("history: corrupt store")
)

// lockWait is LockTimeout; tests shorten it.
var lockWait = LockTimeout

// metaBucket maps a conversation name to its counters (metaLen bytes:
// first kept sequence number, entries kept, bytes kept).
var metaBucket = []byte("meta")

// idsBucket holds conversation NUL fingerprint NUL message id for every
// kept entry: the same message recorded twice (two listen processes on
// one home, a retained re-send after a restart) is kept once.
var idsBucket = []byte("ids")

// quotaBucket counts entries per untrusted sender per conversation
// (key: conversation NUL fingerprint, value: uint64).
var quotaBucket = []byte("quota")

const metaLen = 24

type meta struct{ first, count, bytes uint64 }

// Store is an open history file. Not safe for concurrent use; open it
// for one batch of work and Close it, since it locks the file.
type Store struct {
	db         *bolt.DB
	maxEntries uint64
	maxBytes   uint64
	// Bounds of untrusted senders' entries (see MaxStrangerEntries).
	maxStrangerEntries, maxStrangerBytes, maxPerStranger uint64
}

// Open opens path for reading and writing, creating it (and its
// directory, 0700) if needed. It waits up to LockTimeout for other
// processes and fails with ErrLocked after that.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return open(path, false)
}

// OpenReadOnly opens an existing store for Query; several readers may
// hold it at once. A missing file is fs.ErrNotExist.
func OpenReadOnly(path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return open(path, true)
}

func open(path string, readOnly bool) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockWait, ReadOnly: readOnly})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (waited %v)", ErrLocked, path, lockWait)
	}
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", path, err)
	}
	return &Store{db: db, maxEntries: MaxEntries, maxBytes: MaxBytes,
		maxStrangerEntries: MaxStrangerEntries, maxStrangerBytes: MaxStrangerBytes, maxPerStranger: MaxPerStranger}, nil
}

// Close releases the file.
func (s *Store) Close() error { return s.db.Close() }

// Append adds entries in one transaction, deleting the oldest entries of
// each conversation beyond MaxEntries or MaxBytes (untrusted senders'
// entries: beyond MaxStrangerEntries or MaxStrangerBytes, among
// themselves). An entry already kept (same conversation, sender and
// message id) or from an untrusted sender over MaxPerStranger is skipped.
func (s *Store) Append(entries ...Entry) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var b classBuckets
		var err error
		if b.metas, err = tx.CreateBucketIfNotExists(metaBucket); err != nil {
			return err
		}
		if b.ids, err = tx.CreateBucketIfNotExists(idsBucket); err != nil {
			return err
		}
		if b.quota, err = tx.CreateBucketIfNotExists(quotaBucket); err != nil {
			return err
		}
		for _, e := range entries {
			if err := s.append(tx, b, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// classBuckets are the shared buckets Append maintains.
type classBuckets struct{ metas, ids, quota *bolt.Bucket }

// stranger reports whether e counts against the untrusted bounds.
func (e Entry) stranger() bool { return !e.Outgoing && e.Trust != "trusted" }

func idKey(conv, fp, id string) []byte { return []byte(conv + "\x00" + fp + "\x00" + id) }

func (s *Store) append(tx *bolt.Tx, cb classBuckets, e Entry) error {
	if len(e.Text) > MaxTextLen {
		e.Text = e.Text[:MaxTextLen]
	}
	conv := e.conversation()
	id := idKey(conv, e.Fingerprint, e.ID)
	if e.ID != "" && cb.ids.Get(id) != nil {
		return nil // recorded already, by this or another process
	}
	maxEntries, maxBytes := s.maxEntries, s.maxBytes
	bucket := conv
	quotaKey := []byte(conv + "\x00" + e.Fingerprint)
	if e.stranger() {
		if readCount(cb.quota.Get(quotaKey)) >= min(s.maxPerStranger, s.maxStrangerEntries) {
			return nil // this sender used its share: a flood stops here
		}
		maxEntries, maxBytes = min(maxEntries, s.maxStrangerEntries), min(maxBytes, s.maxStrangerBytes)
		bucket = strangerPrefix + conv
	}
	value, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("history: encode entry: %w", err)
	}
	metas := cb.metas
	name := []byte(bucket)
	b, err := tx.CreateBucketIfNotExists(name)
	if err != nil {
		return err
	}
	m, err := readMeta(metas.Get(name))
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	if m.count == 0 {
		m.first = seq
	}
	if err := b.Put(seqKey(seq), value); err != nil {
		return err
	}
	if e.ID != "" {
		if err := cb.ids.Put(id, seqKey(seq)); err != nil {
			return err
		}
	}
	if e.stranger() {
		if err := addCount(cb.quota, quotaKey, 1); err != nil {
			return err
		}
	}
	m.count++
	m.bytes += uint64(len(value))
	for m.count > 1 && (m.count > maxEntries || m.bytes > maxBytes) {
		key := seqKey(m.first)
		old := b.Get(key)
		m.bytes -= min(uint64(len(old)), m.bytes)
		if err := forget(cb, conv, old); err != nil {
			return err
		}
		if err := b.Delete(key); err != nil {
			return err
		}
		m.first++
		m.count--
	}
	return metas.Put(name, m.appendBinary(nil))
}

// forget drops the id and quota records of an evicted entry.
func forget(cb classBuckets, conv string, value []byte) error {
	var e Entry
	if value == nil || json.Unmarshal(value, &e) != nil {
		return nil
	}
	if err := cb.ids.Delete(idKey(conv, e.Fingerprint, e.ID)); err != nil {
		return err
	}
	if e.stranger() {
		return addCount(cb.quota, []byte(conv+"\x00"+e.Fingerprint), -1)
	}
	return nil
}

func readCount(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// addCount adds d to the counter at key, deleting it at zero.
func addCount(b *bolt.Bucket, key []byte, d int) error {
	n := int64(readCount(b.Get(key))) + int64(d)
	if n <= 0 {
		return b.Delete(key)
	}
	return b.Put(key, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func readMeta(b []byte) (meta, error) {
	if b == nil {
		return meta{}, nil
	}
	if len(b) != metaLen {
		return meta{}, fmt.Errorf("%w: counters of %d bytes", ErrCorrupt, len(b))
	}
	return meta{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), binary.BigEndian.Uint64(b[16:])}, nil
}

func (m meta) appendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, m.first)
	b = binary.BigEndian.AppendUint64(b, m.count)
	return binary.BigEndian.AppendUint64(b, m.bytes)
}

// Query returns the entries q selects, oldest first.
func (s *Store) Query(q Query) ([]Entry, error) {
	var out []Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if !q.wants(string(name)) {
				return nil
			}
			return scan(b, q, &out)
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return a.Time.Compare(b.Time) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = slices.Delete(out, 0, len(out)-q.Limit)
	}
	return out, nil
}

// wants reports whether the conversation called name may hold matches.
func (q Query) wants(name string) bool {
	name = strings.TrimPrefix(name, strangerPrefix)
	switch {
	case name == string(metaBucket), name == string(idsBucket), name == string(quotaBucket):
		return false
	case q.Private:
		return name == privateConversation
	case q.Channel != "":
		return name == channelPrefix+q.Channel
	}
	return name == privateConversation || strings.HasPrefix(name, channelPrefix)
}

// scan walks one conversation newest first, stopping once entries are
// older than q.Since (less some slack) or Limit matches were found.
func scan(b *bolt.Bucket, q Query, out *[]Entry) error {
	found := 0
	c := b.Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		var e Entry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("%w: entry %x: %v", ErrCorrupt, k, err)
		}
		if !q.Since.IsZero() && e.Time.Before(q.Since.Add(-sinceSlack)) {
			break
		}
		if !q.match(e) {
			continue
		}
		*out = append(*out, e)
		if found++; q.Limit > 0 && found >= q.Limit {
			break
		}
	}
	return nil
}

// Read is OpenReadOnly, Query and Close; a store that does not exist
// yet holds no entries.
func Read(path string, q Query) ([]Entry, error) {
	s, err := OpenReadOnly(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Query(q)
}
