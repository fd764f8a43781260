package push

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
)

// onData handles one datagram from the data group (mu held). Other
// sessions may share the group, so only datagrams that name this session
// and then fail a check count as rejected.
func (s *rsession) onData(b []byte, src netip.AddrPort) {
	h, err := protocol.ParseHeader(b)
	if err != nil {
		return
	}
	switch h.Type {
	case protocol.TypeManifest:
		s.onManifestChunk(b)
	case protocol.TypeData:
		s.onShard(b, src)
	case protocol.TypeHashes:
		s.onShardHashes(b) // shardauth_wire.go
	case protocol.TypeListSeal:
		s.onListSeal(b)
	}
}

func (s *rsession) onManifestChunk(b []byte) {
	if s.phase != phaseManifest {
		return
	}
	p, err := protocol.ParseSigned(b)
	if err != nil {
		return
	}
	c, err := protocol.ParseManifestChunk(p.Body)
	if err != nil || c.Session != s.sid {
		return
	}
	if p.Sender != s.sender || c.Index >= uint32(len(s.chunkHave)) {
		s.rejected++ // only the announce's sender signs this session's chunks
		return
	}
	if s.chunkHave[c.Index] {
		return
	}
	off := int(c.Index) * protocol.ManifestChunkLen
	want := min(protocol.ManifestChunkLen, len(s.manifest)-off)
	if len(c.Sealed) != want+16 || !p.Verify() {
		s.rejected++
		return
	}
	if _, err := openManifestChunk(s.keys, s.sid, c, s.manifest[off:off]); err != nil {
		s.rejected++
		return
	}
	s.chunkHave[c.Index] = true
	s.chunks++
	s.lastData = s.r.n.Now()
	if s.chunks == 1 {
		// The status loop looks for NACKs every nackCheckEvery only once
		// something arrived; until now it slept to its next periodic
		// status, seconds away in a large group, and a receiver that then
		// lost a chunk of both passes asked for it only then (1000
		// receivers at 5 %: about 20 held the room 2 s).
		s.poke()
	}
	if s.chunks == len(s.chunkHave) {
		s.startData()
	}
}

// startData parses the complete manifest, checks every path, and opens
// the staging area (resuming a previous partial one).
func (s *rsession) startData() {
	m, err := protocol.ParseManifest(s.manifest, s.a.TotalSize, s.a.Blocks)
	if err != nil {
		s.err = fmt.Errorf("bad manifest: %w", err)
		return
	}
	seen := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		if err := checkPath(f.Path); err != nil {
			s.err = err
			return
		}
		if seen[f.Path] {
			s.err = fmt.Errorf("%w: %q listed twice", ErrUnsafePath, f.Path)
			return
		}
		seen[f.Path] = true
	}
	contentID := sha256.Sum256(s.manifest)
	s.content = contentID
	if names, ok := s.r.received.sameContent(s.sender, contentID, s.r.absDir); ok && placedMatches(s.r.cfg.Dir, m, names, s.layout) {
		// The same content from the same sender is already in place under
		// another session id: never place it twice.
		s.manifest = nil
		s.phase, s.paths = phaseDone, names
		s.r.received.add(receivedPush{Sender: hexKey(s.sender), Session: s.sid.String(), Content: hex.EncodeToString(contentID[:]),
			Dir: s.r.absDir, Names: names, At: time.Now()}) // wall time: the log is aged against it (completed.go)
		s.poke()
		// No Paths: nothing was placed, so no --exec hook runs again.
		s.emit(Event{Kind: EventComplete, Bytes: int64(s.a.TotalSize), Total: int64(s.a.TotalSize),
			Name: "already received: the same content from the same sender is in place as " + strings.Join(names, ", ")})
		return
	}
	sk, err := openSink(s.r.cfg.Dir, m, contentID, s.layout.blockSize())
	if err != nil {
		s.err = err
		return
	}
	s.sink, s.hashes = sk, m.Hashes
	s.manifest = nil
	kept := s.reverify()
	if kept > 0 {
		s.emit(Event{Kind: EventProgress, Name: fmt.Sprintf("resuming: %d of %d blocks kept from an earlier attempt in %s",
			kept, s.a.Blocks, filepath.Join(s.r.cfg.Dir, sk.staging))})
	}
	s.phase = phaseData
	s.poke() // tell the sender we hold the manifest, and what we kept
	s.maybeComplete()
}

// reverify hashes every block a previous run kept; a block that no
// longer matches is fetched again.
func (s *rsession) reverify() int {
	if s.sink.Count() == 0 {
		return 0
	}
	buf := make([]byte, s.layout.blockSize())
	for b := range int(s.a.Blocks) {
		if !s.sink.Has(b) {
			continue
		}
		n := s.layout.blockLen(b)
		if s.sink.ReadBlock(b, buf[:n]) != nil || blockHash(s.layout.code(b), buf[:n]) != s.hashes[b] {
			s.sink.Forget(b)
		}
	}
	return s.sink.Count()
}

// onShard takes one data shard. Nothing about the session changes (no
// timer, no highest block, no assembly memory) until the shard's tag
// verified: anyone can send a datagram naming a session id they saw.
func (s *rsession) onShard(b []byte, src netip.AddrPort) {
	d, err := protocol.ParseData(b)
	if err != nil || d.Session != s.sid {
		return
	}
	if d.Block >= s.a.Blocks || len(d.Sealed) != int(s.a.ShardSize)+protocol.DataTagLen || !s.fromSender(src) {
		s.rejected++
		return
	}
	if s.phase != phaseData {
		s.dropped++ // before the manifest: asked for again by NACK
		return
	}
	blk := int(d.Block)
	if s.sink.Has(blk) {
		s.intervalRecv++ // unauthenticated: it only feeds the loss estimate
		return
	}
	// A block being assembled takes the shard straight into its slot (one
	// copy fewer); the slot counts only once the shard proved itself. A
	// block's first shard, a duplicate and a shard of a full table are
	// opened into scratch: no assembly memory before the tag verified.
	ba := s.asm[d.Block]
	into := s.scratch[:0]
	if ba != nil {
		if slot, _ := ba.a.Slot(int(d.Shard)); slot != nil {
			into = slot[:0]
		}
	}
	s.nonce = protocol.DataNonce(d.Block, d.Shard)
	shard, err := s.keys.data.Open(into, s.nonce[:], d.Sealed, b[:protocol.DataHeaderLen])
	if err != nil {
		s.rejected++
		return
	}
	signed, ok := s.shardVerdict(d.Block, d.Shard, shard) // shardauth_wire.go: before the decoder
	if !ok {
		return
	}
	s.lastData = s.r.n.Now()
	s.highest = max(s.highest, blk)
	if ba == nil {
		if len(s.asm) >= s.maxAssemblies() {
			s.dropped++ // asked for again by NACK once memory frees
			return
		}
		ba = s.newAsm(blk)
		s.asm[d.Block] = ba
	}
	// The network delivered it, signed hash or not: counted as received,
	// so a shard dropped for want of its list is not read as loss later.
	s.intervalRecv++
	if idx := int(d.Shard); idx > ba.lastIdx {
		s.intervalGaps += idx - ba.lastIdx - 1
		ba.lastIdx = idx
	}
	if !signed {
		return
	}
	if !ba.a.Keep(int(d.Shard)) {
		if _, err := ba.a.Add(int(d.Shard), shard); err != nil {
			return
		}
	}
	if !ba.a.Done() {
		return
	}
	s.completeBlock(blk, ba)
}

// maxAssemblies is how many blocks the session assembles at once: the
// configured count, within maxPendingBytes at this push's block size.
func (s *rsession) maxAssemblies() int {
	k, size := s.layout.full.K(), s.layout.blockSize()
	return max(1, min(s.r.cfg.MaxPending, maxPendingBytes/(size+k*k)))
}

// maxFreeAsm bounds the assemblers a session keeps for reuse: a window's
// worth, since the first pass completes a window's blocks together and
// then starts as many new ones (fewer meant allocating and clearing
// 86 KB per block).
const maxFreeAsm = interleave

func (s *rsession) newAsm(b int) *blockAsm {
	code := s.layout.code(b)
	for i, f := range s.free {
		if f.k == code.K() {
			s.free = append(s.free[:i], s.free[i+1:]...)
			f.a.Reset()
			f.lastIdx = -1
			return f
		}
	}
	return &blockAsm{a: code.NewAssembler(), k: code.K(), lastIdx: -1}
}

// completeBlock rebuilds a block, checks it and writes it. Every shard
// that entered the decoder matched the sender's signed shard hash, so
// when each data shard the decoder rebuilt matches its signed hash too,
// every byte is one the sender signed and the block is written without
// hashing it whole again (SPEC.md §6.5); otherwise its SHA-256 must match
// the manifest's. A block that fails is discarded and fetched again: it
// means someone holding the session key injected shards.
func (s *rsession) completeBlock(b int, ba *blockAsm) {
	s.noteRepairArrived(uint32(b), s.r.n.Now())
	data, err := ba.a.Block()
	delete(s.asm, uint32(b))
	if len(s.free) < maxFreeAsm {
		s.free = append(s.free, ba)
	}
	if err != nil {
		return
	}
	rebuilt := ba.a.Rebuilt()
	data = data[:s.layout.blockLen(b)]
	if !s.rebuiltSigned(uint32(b), rebuilt, ba.a) && blockHash(s.layout.code(b), data) != s.hashes[b] {
		s.badBlocks++
		s.noteHashFailure(uint32(b), s.r.n.Now())
		return
	}
	delete(s.hashFailed, uint32(b))
	s.auth.forget(uint32(b)) // a verified block's lists and shards are ignored from now on
	if err := s.sink.WriteBlock(b, data); err != nil {
		s.err = fmt.Errorf("writing %s: %w; the %d verified blocks stay in %s so the next push resumes from them "+
			"(removed when untouched for 7 days, or by `herald receive --clean`)",
			s.r.cfg.Dir, err, s.sink.Count(), filepath.Join(s.r.cfg.Dir, s.sink.staging))
		return
	}
	s.maybeComplete()
}

func (s *rsession) maybeComplete() {
	if s.sink.Count() != int(s.a.Blocks) || s.phase == phaseDone {
		return
	}
	r := s.r
	paths, backups, err := s.sink.Finish(placement{overwrite: r.cfg.Overwrite,
		replaceable: func(name string) bool { return r.received.placedBy(s.sender, r.absDir, name) },
		isBackup:    func(name string) bool { return r.received.isBackup(r.absDir, name) }})
	if err != nil {
		s.err = err
		return
	}
	s.phase, s.paths = phaseDone, paths
	if err := r.received.add(receivedPush{Sender: hexKey(s.sender), Session: s.sid.String(), Content: hex.EncodeToString(s.content[:]),
		Dir: r.absDir, Names: paths, Backups: backups, At: time.Now()}); err != nil { // wall time, as above
		r.n.Logger.Warn("push: received log not saved; an announce still running may be received again", "err", err)
	}
	s.poke()
	s.emit(Event{Kind: EventComplete, Paths: paths, Bytes: int64(s.a.TotalSize), Total: int64(s.a.TotalSize),
		Rejected: int64(s.rejected), Injected: int64(s.badBlocks)})
}

// onFeedback notes other receivers' NACKs for suppression (mu held).
// Suppression makes this receiver keep quiet about a block, so only a
// status that may speak for the session counts (mayInfluence), once
// (the node's replay guard): otherwise any key on the LAN could stretch
// or starve a push by claiming to miss everything (SECURITY.md).
func (s *rsession) onFeedback(b []byte, src netip.AddrPort) {
	p, err := protocol.ParseSigned(b)
	if err != nil || p.Type != protocol.TypeStatus || p.Sender == s.r.n.Signer.Sender() {
		return
	}
	v, err := protocol.ParseStatus(p.Body)
	if err != nil || v.Session != s.sid || v.NackCount() == 0 || p.Sender == s.sender || !s.mayInfluence(p.Sender) || !p.Verify() {
		return
	}
	if s.r.n.Replay.CheckFrom(p.Sender, src.Addr().Unmap(), p.Epoch, p.Counter, p.Time) != nil {
		return
	}
	now := s.r.n.Now()
	for i := range v.NackCount() {
		n := v.Nack(i)
		if n.Block >= s.a.Blocks || len(s.suppress) >= 4096 {
			continue
		}
		if old, ok := s.suppress[n.Block]; !ok || n.Have < old.have || now.Sub(old.at) > s.r.cfg.StatusEvery {
			s.suppress[n.Block] = suppressed{at: now, have: n.Have}
		}
	}
}

// mayInfluence reports whether key's NACKs may suppress ours: in a --to
// push, a recipient the sender's signed grants name; in a channel or
// public push, where anyone may register, only a peer this receiver
// trusts or was told to accept.
func (s *rsession) mayInfluence(key [32]byte) bool {
	if s.a.KeyMode == protocol.KeyModeRecipients {
		return s.recipients[identity.KeyIDOf(key[:])]
	}
	if p, ok := s.r.n.Trust.Lookup(key[:]); ok && p.Trusted {
		return true
	}
	for _, k := range s.r.cfg.From {
		if string(k) == string(key[:]) {
			return true
		}
	}
	return false
}

// noteRecipients records the recipients a grant of this session names
// (the grant is the sender's, verified by the node).
func (s *rsession) noteRecipients(g protocol.GrantView) {
	if s.a.KeyMode != protocol.KeyModeRecipients {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range g.Count() {
		if len(s.recipients) >= maxRecipientIDs {
			return
		}
		s.recipients[identity.KeyID(g.Entry(i).Recipient)] = true
	}
}
