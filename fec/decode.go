package fec

import (
	"errors"
	"fmt"
)

// errSingular would mean the generator matrix is not MDS; it cannot happen
// for Cauchy rows and exists so a bug surfaces as an error, not bad data.
var errSingular = errors.New("fec: singular decoding matrix")

// decode rebuilds the missing data shards in place. With M the m missing
// data columns, R the m parity rows that sit in their slots, and P the
// present data columns, each parity shard satisfies
//
//	p_r = sum_{c in P} C[r][c]*d_c + sum_{c in M} C[r][c]*d_c
//
// so decoding is (1) subtract the known data from each parity shard, leaving
// s_r = sum_{c in M} C[r][c]*d_c, and (2) solve the m x m system C[R][M]
// by Gauss-Jordan elimination applied to the shards themselves. Both steps
// work in the slots of the missing data, so no buffer is needed, and the
// cost is m*k shard operations plus O(m^3) scalar ones, instead of
// inverting a k x k matrix.
//
// C[R][M] is a Cauchy matrix, so all its leading minors are non-zero and
// elimination needs no row exchanges.
func (a *Assembler) decode() error {
	k := a.code.k
	a.missing, a.rows = a.missing[:0], a.rows[:0]
	for slot, held := range a.holds {
		if int(held) >= k {
			a.missing = append(a.missing, slot)
			a.rows = append(a.rows, int(held))
		}
	}
	m := len(a.missing)
	if m == 0 {
		return nil
	}

	// Step 1: syndromes.
	for j, slot := range a.missing {
		out := a.shards[slot]
		for col, held := range a.holds {
			if int(held) < k {
				sliceMath.GalMulSliceXor(coefficient(a.rows[j], col), a.shards[col], out)
			}
		}
	}

	// Step 2: row j of the system is parity row a.rows[j], stored in slot
	// a.missing[j]; column i is the unknown data shard a.missing[i]. After
	// elimination row j holds unknown j, which is the shard of that very
	// slot.
	mat := a.matrix[:m*m]
	for j := range m {
		for i := range m {
			mat[j*m+i] = coefficient(a.rows[j], a.missing[i])
		}
	}
	vec := func(j int) []byte { return a.shards[a.missing[j]] }
	for p := range m {
		pivot := mat[p*m+p]
		if pivot == 0 {
			return fmt.Errorf("%w: k=%d rows %v", errSingular, k, a.rows)
		}
		if pivot != 1 {
			scale := gfInv(pivot)
			for i := p; i < m; i++ {
				mat[p*m+i] = gfMul(mat[p*m+i], scale)
			}
			sliceMath.GalMulSlice(scale, vec(p), vec(p))
		}
		for q := p + 1; q < m; q++ {
			factor := mat[q*m+p]
			if factor == 0 {
				continue
			}
			for i := p; i < m; i++ {
				mat[q*m+i] ^= gfMul(factor, mat[p*m+i])
			}
			sliceMath.GalMulSliceXor(factor, vec(p), vec(q))
		}
	}
	// The matrix is now unit upper triangular; clear above each pivot from
	// the last one up, so only the shards need updating.
	for p := m - 1; p > 0; p-- {
		for q := range p {
			if factor := mat[q*m+p]; factor != 0 {
				sliceMath.GalMulSliceXor(factor, vec(p), vec(q))
			}
		}
	}
	for _, slot := range a.missing {
		a.holds[slot] = int16(slot)
	}
	return nil
}
