package history

import (
	"errors"
	"io/fs"

	bolt "go.etcd.io/bbolt"
)

// Shown is the set of messages the store holds, to keep a restarted
// listener from showing a message again that an earlier process showed
// (a retained re-send carries a fresh envelope, so the replay guard lets
// it through; its id is the same). Not safe for concurrent use.
type Shown map[string]struct{}

// Has reports whether e's message (conversation, sender, id) was kept.
func (s Shown) Has(e Entry) bool {
	_, ok := s[string(idKey(e.conversation(), e.Fingerprint, e.ID))]
	return ok && e.ID != ""
}

// ReadShown returns the messages recorded in the store at path; a store
// that does not exist yet holds none. At most MaxEntries+MaxStrangerEntries
// per conversation are kept, so the set is bounded like the file.
func ReadShown(path string) (Shown, error) {
	s, err := OpenReadOnly(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Shown{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer s.Close()
	out := Shown{}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(idsBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			out[string(k)] = struct{}{}
			return nil
		})
	})
	return out, err
}
