package identity

import (
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
)

const (
	channelsFile = "channels.json"
	channelsLock = ".channels.lock"
	channelsV1   = 1 // name and secret
	channelsV2   = 2 // plus seed and owners
	// MaxChannels bounds the joined channels; only the user adds them, but
	// every packet is matched against them.
	MaxChannels = 256
	// MaxOwners bounds the owners of one channel.
	MaxOwners = 16
)

// ChannelStore is the list of joined channels, kept in channels.json in
// the home in the order they were joined. The open channel is always
// available and never stored. Like TrustStore, writes are lock, re-read,
// change, write, and every process sees another's join or leave within
// reloadEvery. Safe for concurrent use.
type ChannelStore struct {
	lockPath string
	writeMu  sync.Mutex // taken before mu

	mu       sync.Mutex
	channels []Channel
	ids      [][8]byte // ids[i] = channels[i].ID()
	file     watchedFile
}

type channelsFileV2 struct {
	Version  int         `json:"version"`
	Channels []channelV2 `json:"channels"`
}

type channelV2 struct {
	Name   string   `json:"name"`
	Secret []byte   `json:"secret"`           // 32 bytes, base64
	Seed   []byte   `json:"seed,omitempty"`   // 16 bytes, version-2 channels
	Owners []string `json:"owners,omitempty"` // fingerprints
}

// OpenChannelStore loads channels.json from home (version 1 or 2); a
// missing file means no channels joined.
func OpenChannelStore(home string) (*ChannelStore, error) {
	if err := ensureHome(home); err != nil {
		return nil, err
	}
	s := &ChannelStore{lockPath: filepath.Join(home, channelsLock), file: watchedFile{path: filepath.Join(home, channelsFile), every: reloadEvery}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(true); err != nil {
		return nil, err
	}
	return s, nil
}

func readChannelsFile(path string) ([]Channel, error) {
	var f channelsFileV2
	ok, err := loadJSON(path, &f)
	if err != nil || !ok {
		return nil, err
	}
	if f.Version != channelsV1 {
		if err := checkVersion(path, f.Version, channelsV2); err != nil {
			return nil, err
		}
	}
	if len(f.Channels) > MaxChannels {
		return nil, fmt.Errorf("%w: %s lists %d channels, at most %d", ErrCorrupt, path, len(f.Channels), MaxChannels)
	}
	var out []Channel
	for _, fc := range f.Channels {
		c, err := decodeChannel(fc)
		if err == nil && slices.ContainsFunc(out, func(o Channel) bool { return o.Name == c.Name }) {
			err = fmt.Errorf("listed twice")
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: channel %q: %v", ErrCorrupt, path, fc.Name, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func decodeChannel(fc channelV2) (Channel, error) {
	name, err := normalizeSecretChannelName(fc.Name)
	if err != nil {
		return Channel{}, err
	}
	if len(fc.Secret) != 32 || (fc.Seed != nil && len(fc.Seed) != SeedLen) || len(fc.Owners) > MaxOwners {
		return Channel{}, fmt.Errorf("secret must be 32 bytes, seed %d, at most %d owners", SeedLen, MaxOwners)
	}
	c := Channel{Name: name}
	if fc.Seed != nil {
		c = channelFromSeed(name, [SeedLen]byte(fc.Seed))
		if !slices.Equal(c.Secret[:], fc.Secret) {
			return Channel{}, fmt.Errorf("secret does not derive from seed")
		}
	}
	copy(c.Secret[:], fc.Secret)
	for _, o := range fc.Owners {
		fp, err := ParseFingerprint(o)
		if err != nil {
			return Channel{}, err
		}
		if !slices.Contains(c.Owners, fp) {
			c.Owners = append(c.Owners, fp)
		}
	}
	return c, nil
}

func encodeChannel(c Channel) channelV2 {
	e := channelV2{Name: c.Name, Secret: slices.Clone(c.Secret[:]), Owners: slices.Clone(c.Owners)}
	if c.HasSeed() {
		e.Seed = slices.Clone(c.Seed[:])
	}
	return e
}

// refreshLocked re-reads the file if another process changed it, at most
// once per reloadEvery; an unreadable file keeps the last good state.
func (s *ChannelStore) refreshLocked() { _ = s.reloadLocked(false) }

func (s *ChannelStore) reloadLocked(force bool) error {
	stamp, due := s.file.look(force)
	if !due {
		return nil
	}
	channels, err := readChannelsFile(s.file.path)
	if err != nil {
		return err
	}
	s.adoptLocked(channels, stamp)
	return nil
}

func (s *ChannelStore) adoptLocked(channels []Channel, stamp fileStamp) {
	s.channels, s.file.stamp = channels, stamp
	s.ids = make([][8]byte, len(channels))
	for i, c := range channels {
		s.ids[i] = c.ID()
	}
}

func (s *ChannelStore) indexLocked(name string) int {
	return slices.IndexFunc(s.channels, func(c Channel) bool { return c.Name == name })
}

// update is the one writer of channels.json: lock, re-read, let op
// compute the new list from the current one, write it, adopt it.
func (s *ChannelStore) update(op func(cur []Channel) ([]Channel, error)) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	unlock, err := lockFile(s.lockPath)
	if err != nil {
		return err
	}
	defer unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(true); err != nil {
		return err
	}
	next, err := op(slices.Clone(s.channels))
	if err != nil {
		return err
	}
	f := channelsFileV2{Version: channelsV2, Channels: make([]channelV2, len(next))}
	for i, c := range next {
		f.Channels[i] = encodeChannel(c)
	}
	if err := saveJSON(s.file.path, f, true); err != nil {
		return fmt.Errorf("identity: save channels %s: %w", s.file.path, err)
	}
	s.adoptLocked(next, stampOf(s.file.path))
	return nil
}

// Add joins c and saves. Joining the same channel again adds the owners
// c names; a different secret under a joined name is ErrChannelExists
// (Remove first). The open channel cannot be added: it is always there.
func (s *ChannelStore) Add(c Channel) error {
	name, err := normalizeSecretChannelName(c.Name)
	if err != nil {
		return err
	}
	if c.IsOpen() {
		return fmt.Errorf("%w: channel %q has no secret", ErrBadName, name)
	}
	c.Name, c.Owners = name, slices.Clone(c.Owners)
	return s.update(func(cur []Channel) ([]Channel, error) {
		i := slices.IndexFunc(cur, func(o Channel) bool { return o.Name == name })
		switch {
		case i >= 0 && cur[i].Secret != c.Secret:
			return nil, fmt.Errorf("%w: %q; leave it first", ErrChannelExists, name)
		case i >= 0:
			for _, o := range c.Owners {
				if !slices.Contains(cur[i].Owners, o) {
					cur[i].Owners = append(slices.Clone(cur[i].Owners), o)
				}
			}
			if !cur[i].HasSeed() {
				cur[i].Seed = c.Seed
			}
			return cur, nil
		case len(cur) >= MaxChannels:
			return nil, fmt.Errorf("identity: already %d channels joined, leave one first", MaxChannels)
		}
		return append(cur, c), nil
	})
}

// Remove leaves the named channel and saves.
func (s *ChannelStore) Remove(name string) error {
	return s.updateJoined(name, func(cur []Channel, i int) ([]Channel, error) {
		return slices.Delete(cur, i, i+1), nil
	})
}

// updateJoined runs change under the store's update with the index of
// the joined channel name (any case) in cur, or fails with
// ErrUnknownChannel when none is joined under that name.
func (s *ChannelStore) updateJoined(name string, change func(cur []Channel, i int) ([]Channel, error)) error {
	name, err := NormalizeChannelName(name)
	if err != nil {
		return err
	}
	return s.update(func(cur []Channel) ([]Channel, error) {
		i := slices.IndexFunc(cur, func(o Channel) bool { return o.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%w: %q", ErrUnknownChannel, name)
		}
		return change(cur, i)
	})
}

// AddOwner makes the key with fingerprint fp an owner of the named
// channel on this node (members then accept its pushes there).
func (s *ChannelStore) AddOwner(name, fp string) error {
	return s.changeOwners(name, fp, true)
}

// RemoveOwner stops treating fp as an owner of the named channel.
func (s *ChannelStore) RemoveOwner(name, fp string) error {
	return s.changeOwners(name, fp, false)
}

func (s *ChannelStore) changeOwners(name, fp string, add bool) error {
	fp, err := ParseFingerprint(fp)
	if err != nil {
		return err
	}
	return s.updateJoined(name, func(cur []Channel, i int) ([]Channel, error) {
		owners := slices.Clone(cur[i].Owners)
		j := slices.Index(owners, fp)
		switch {
		case add && j >= 0:
			return cur, nil
		case add && len(owners) >= MaxOwners:
			return nil, fmt.Errorf("identity: channel %q already has %d owners", cur[i].Name, MaxOwners)
		case add:
			owners = append(owners, fp)
		case j < 0:
			return nil, fmt.Errorf("%w: %s is not an owner of %q", ErrUnknownPeer, fp, cur[i].Name)
		default:
			owners = slices.Delete(owners, j, j+1)
		}
		cur[i].Owners = owners
		return cur, nil
	})
}

// Get returns the joined channel of that name (any case); "open" is
// always the open channel.
func (s *ChannelStore) Get(name string) (Channel, bool) {
	name, err := NormalizeChannelName(name)
	if err != nil {
		return Channel{}, false
	}
	if name == openChannelName {
		return OpenChannel(), true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshLocked()
	if i := s.indexLocked(name); i >= 0 {
		return s.channels[i], true
	}
	return Channel{}, false
}

// ByID returns the joined channel with channel ID id.
func (s *ChannelStore) ByID(id [8]byte) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshLocked()
	if i := slices.Index(s.ids, id); i >= 0 {
		return s.channels[i], true
	}
	return Channel{}, false
}

// OwnerOf reports whether signPub owns the joined channel with ID id:
// such a key's pushes and announcements on that channel are trusted.
func (s *ChannelStore) OwnerOf(id [8]byte, signPub ed25519.PublicKey) bool {
	c, ok := s.ByID(id)
	return ok && len(signPub) == ed25519.PublicKeySize && c.IsOwner(Fingerprint(signPub))
}

// List returns the joined channels in the order they were joined (the
// open channel is not listed).
func (s *ChannelStore) List() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshLocked()
	return slices.Clone(s.channels)
}

// Default is the channel used when none is named: the first in the list
// (the first joined, unless MakeDefault moved another to the front), else
// the open channel.
func (s *ChannelStore) Default() Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshLocked()
	if len(s.channels) > 0 {
		return s.channels[0]
	}
	return OpenChannel()
}

// MakeDefault moves the named channel to the front of the list, where
// Default finds it: `herald channel new` makes the channel it creates the
// one push, announce and chat use when no channel is named.
func (s *ChannelStore) MakeDefault(name string) error {
	return s.updateJoined(name, func(cur []Channel, i int) ([]Channel, error) {
		c := cur[i]
		return append([]Channel{c}, slices.Delete(cur, i, i+1)...), nil
	})
}
