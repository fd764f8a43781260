package fec

// gfPolynomial is the field's reduction polynomial x^8+x^4+x^3+x^2+1, the
// one klauspost/reedsolomon uses, so its SIMD kernels compute in our field.
const gfPolynomial = 0x11D

// gfExp[i] = 2^i for i in 0..509 (doubled so a sum of two logs needs no
// modulo); gfLog is its inverse on 1..255. 2 generates the multiplicative
// group for 0x11D.
var (
	gfExp [510]byte
	gfLog [256]byte
)

func init() {
	x := 1
	for i := range 255 {
		gfExp[i] = byte(x)
		gfExp[i+255] = byte(x)
		gfLog[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= gfPolynomial
		}
	}
}

// gfMul multiplies in GF(2^8).
func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// gfInv returns the multiplicative inverse; gfInv(0) is 0 by convention and
// never asked for, because a Cauchy element's denominator is never 0.
func gfInv(a byte) byte {
	if a == 0 {
		return 0
	}
	return gfExp[255-int(gfLog[a])]
}

// coefficient is the generator matrix entry for parity shard index row
// (k <= row <= 255) and data shard col (0 <= col < k): the Cauchy element
// 1/(row XOR col). row and col are distinct, so the denominator is never 0,
// and every square submatrix of the parity rows is invertible (MDS).
func coefficient(row, col int) byte {
	return gfInv(byte(row ^ col))
}
