package identity

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
)

const (
	channelsFile = "channels.json"
	channelsV1   = 1
	// MaxChannels bounds the joined channels; only the user adds them, but
	// every packet is matched against them.
	MaxChannels = 256
)

// ChannelStore is the list of joined channels, kept in channels.json in
// the home in the order they were joined. The open channel is always
// available and never stored. Safe for concurrent use within one process.
type ChannelStore struct {
	path     string
	mu       sync.Mutex
	channels []Channel
}

type channelsFileV1 struct {
	Version  int         `json:"version"`
	Channels []channelV1 `json:"channels"`
}

type channelV1 struct {
	Name   string `json:"name"`
	Secret []byte `json:"secret"` // 32 bytes, base64
}

// OpenChannelStore loads channels.json from home; a missing file means
// no channels joined.
func OpenChannelStore(home string) (*ChannelStore, error) {
	if err := ensureHome(home); err != nil {
		return nil, err
	}
	s := &ChannelStore{path: filepath.Join(home, channelsFile)}
	var f channelsFileV1
	ok, err := loadJSON(s.path, &f)
	if err != nil || !ok {
		return s, err
	}
	if err := checkVersion(s.path, f.Version, channelsV1); err != nil {
		return nil, err
	}
	if len(f.Channels) > MaxChannels {
		return nil, fmt.Errorf("%w: %s lists %d channels, at most %d", ErrCorrupt, s.path, len(f.Channels), MaxChannels)
	}
	for _, fc := range f.Channels {
		name, err := normalizeSecretChannelName(fc.Name)
		if err != nil || len(fc.Secret) != 32 || s.indexLocked(name) >= 0 {
			return nil, fmt.Errorf("%w: %s: channel %q invalid or listed twice", ErrCorrupt, s.path, fc.Name)
		}
		c := Channel{Name: name}
		copy(c.Secret[:], fc.Secret)
		s.channels = append(s.channels, c)
	}
	return s, nil
}

func (s *ChannelStore) indexLocked(name string) int {
	return slices.IndexFunc(s.channels, func(c Channel) bool { return c.Name == name })
}

// Add joins c and saves. Joining the same channel twice is a no-op;
// a different secret under a joined name is ErrChannelExists (Remove
// first). The open channel cannot be added: it is always there.
func (s *ChannelStore) Add(c Channel) error {
	name, err := normalizeSecretChannelName(c.Name)
	if err != nil {
		return err
	}
	if c.IsOpen() {
		return fmt.Errorf("%w: channel %q has no secret", ErrBadName, name)
	}
	c.Name = name
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.indexLocked(name); i >= 0 {
		if s.channels[i].Secret == c.Secret {
			return nil
		}
		return fmt.Errorf("%w: %q; leave it first", ErrChannelExists, name)
	}
	if len(s.channels) >= MaxChannels {
		return fmt.Errorf("identity: already %d channels joined, leave one first", MaxChannels)
	}
	return s.saveLocked(append(slices.Clip(s.channels), c))
}

// Remove leaves the named channel and saves.
func (s *ChannelStore) Remove(name string) error {
	name, err := NormalizeChannelName(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.indexLocked(name)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrUnknownChannel, name)
	}
	return s.saveLocked(slices.Delete(slices.Clone(s.channels), i, i+1))
}

// saveLocked writes next and adopts it only if the write succeeded, so
// memory never claims what the disk does not hold.
func (s *ChannelStore) saveLocked(next []Channel) error {
	f := channelsFileV1{Version: channelsV1, Channels: make([]channelV1, len(next))}
	for i, c := range next {
		f.Channels[i] = channelV1{Name: c.Name, Secret: slices.Clone(c.Secret[:])}
	}
	if err := saveJSON(s.path, f, true); err != nil {
		return fmt.Errorf("identity: save channels %s: %w", s.path, err)
	}
	s.channels = next
	return nil
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
	if i := s.indexLocked(name); i >= 0 {
		return s.channels[i], true
	}
	return Channel{}, false
}

// List returns the joined channels in the order they were joined (the
// open channel is not listed).
func (s *ChannelStore) List() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.channels)
}

// Default is the channel used when none is named: the first one joined,
// else the open channel.
func (s *ChannelStore) Default() Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.channels) > 0 {
		return s.channels[0]
	}
	return OpenChannel()
}
