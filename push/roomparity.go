package push

// Proactive parity for a large room (SPEC.md §6.7). Sized for the median
// receiver's path loss alone, a block still comes up short at a few
// percent of receivers: in a room of 1000 at 5 % that is 70 receivers a
// block, each asking for its own repair at its own moment, and the
// simulation's repair outgrew the file's parity tenfold (2.4x the file on
// the wire). Parity that leaves about roomShortReceivers receivers short
// a block keeps NACKs per block, and so feedback, flat as the room grows.

// proactiveParity is the parity a block's first pass carries (SPEC.md
// §6.7) for k data shards, at the median receiver's path loss, in a room
// of group receivers: enough to cover that loss plus a margin (repair
// serves the receivers above it), and in a large room enough that only a
// couple of receivers at that loss lack a block; at most 255 − k.
func proactiveParity(k, group int, median float64) int {
	loss := int(1000 * median)
	if loss <= 0 {
		return 0
	}
	return min(max((3*k*loss+1999)/2000+1, roomParity(k, group, median, 255-k)), 255-k)
}

// roomShortReceivers is how many receivers of the room, at the median
// path loss, may expect to lack a block after its first pass.
const roomShortReceivers = 2.0

// roomParity is the least parity p for k data shards such that receivers
// at path loss loss, group of them, expect at most roomShortReceivers to
// lose more than p of the k+p shards of a block; at most limit.
func roomParity(k, group int, loss float64, limit int) int {
	if loss <= 0 || group <= 0 {
		return 0
	}
	loss = min(loss, 0.5)
	for p := 0; p < limit; p++ {
		if float64(group)*binomialTail(k+p, loss, p) <= roomShortReceivers {
			return p
		}
	}
	return limit
}

// binomialTail is P(X > m) for X ~ Binomial(n, q), summed from the mass
// function by its ratio recurrence (n is at most 255: no overflow).
func binomialTail(n int, q float64, m int) float64 {
	if m >= n {
		return 0
	}
	pmf := 1.0
	for range n {
		pmf *= 1 - q
	}
	cdf := pmf
	for i := 0; i < m; i++ {
		pmf *= float64(n-i) / float64(i+1) * q / (1 - q)
		cdf += pmf
	}
	return max(0, 1-cdf)
}
