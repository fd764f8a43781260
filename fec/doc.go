// Package fec is herald's forward error correction: a systematic
// Reed-Solomon code over GF(2^8) that turns a block of k data shards into
// up to 256-k parity shards, any k of which rebuild the block.
//
// The generator matrix is part of the wire format (SPEC.md, section "FEC"):
// shard index r < k is data shard r; shard index r >= k is the parity shard
// whose coefficient for data shard c is 1/(r XOR c) in GF(2^8) with the
// polynomial 0x11D. Because every parity row is defined by its index alone,
// a sender can emit fresh parity rows in later repair rounds and a receiver
// can mix them with rows from earlier rounds.
//
// The byte crunching is github.com/klauspost/reedsolomon's SIMD slice
// kernels (LowLevel), the same field. Parity computes exactly the rows
// asked for; decoding solves only the m x m system of the m missing data
// shards, in place, so a receiver never inverts a k x k matrix. Neither
// allocates after setup.
//
// Layout: a file is cut into blocks of k*shardSize bytes (BlockCount,
// BlockRange); a short last block is coded with BlockK = ceil(len/shardSize)
// data shards, its last shard zero-padded (Split).
package fec
