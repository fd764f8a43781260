package history

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Recorder bounds.
const (
	// RecorderQueue is how many entries wait for the writer; more are
	// dropped and counted rather than slowing the caller.
	RecorderQueue = 1024
	// recorderBatch is the most entries written per open of the file.
	recorderBatch = 256
	// RecorderLinger is how long the writer gathers entries after the
	// first of a batch before it writes them: each write opens the file,
	// maps it, commits with fsync and unmaps it again, which costs far
	// more than an entry, and a listener doing that as each message
	// arrives competes with its own and other processes' next message.
	// History is at most this late; Close writes at once.
	RecorderLinger = time.Second
)

// Recorder appends entries to a store in the background, opening the
// file only while it writes a batch so other herald processes can use it
// in between. Record never blocks. Safe for concurrent use.
type Recorder struct {
	path    string
	linger  time.Duration
	log     *slog.Logger
	queue   chan Entry
	done    chan struct{}
	closing sync.Once
	dropped atomic.Uint64
	written atomic.Uint64

	mu  sync.Mutex
	err error // first write failure
}

// NewRecorder starts a Recorder for the store at path. log may be nil.
func NewRecorder(path string, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{path: path, linger: RecorderLinger, log: log, queue: make(chan Entry, RecorderQueue), done: make(chan struct{})}
	go r.run()
	return r
}

// Record queues e for writing; it reports false (and counts a drop) when
// the queue is full. It must not be called after Close.
func (r *Recorder) Record(e Entry) bool {
	select {
	case r.queue <- e:
		return true
	default:
		r.dropped.Add(1)
		return false
	}
}

// Dropped is how many entries were lost to a full queue or a failed write.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// Close writes what is queued, stops the writer and returns the first
// write error, if any. Later calls return the same error.
func (r *Recorder) Close() error {
	r.closing.Do(func() { close(r.queue) })
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *Recorder) run() {
	defer close(r.done)
	batch := make([]Entry, 0, recorderBatch)
	linger := time.NewTimer(0)
	<-linger.C
	for e := range r.queue {
		batch = append(batch[:0], e)
		linger.Reset(r.linger)
	fill:
		for len(batch) < recorderBatch {
			select {
			case e, ok := <-r.queue:
				if !ok {
					break fill // Close: write now
				}
				batch = append(batch, e)
			case <-linger.C:
				break fill
			}
		}
		linger.Stop()
		r.write(batch)
	}
}

func (r *Recorder) write(batch []Entry) {
	s, err := Open(r.path)
	if err == nil {
		err = errors.Join(s.Append(batch...), s.Close())
	}
	if err != nil {
		r.dropped.Add(uint64(len(batch)))
		r.log.Warn("history not written", "entries", len(batch), "err", err)
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
		return
	}
	r.written.Add(uint64(len(batch)))
}
