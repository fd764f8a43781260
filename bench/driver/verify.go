package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// errMismatch marks a received file that differs from the source.
var errMismatch = errors.New("received file differs")

// sameContent compares two files byte for byte, like cmp(1).
func sameContent(want, got string) error {
	a, err := os.Open(want)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := os.Open(got)
	if err != nil {
		return fmt.Errorf("%w: %v", errMismatch, err)
	}
	defer b.Close()
	bufA, bufB := make([]byte, 1<<20), make([]byte, 1<<20)
	var offset int64
	for {
		na, errA := io.ReadFull(a, bufA)
		nb, errB := io.ReadFull(b, bufB)
		if na != nb || !bytes.Equal(bufA[:na], bufB[:nb]) {
			return fmt.Errorf("%w: %s differs from %s near byte %d", errMismatch, got, want, offset)
		}
		offset += int64(na)
		endA := errors.Is(errA, io.EOF) || errors.Is(errA, io.ErrUnexpectedEOF)
		endB := errors.Is(errB, io.EOF) || errors.Is(errB, io.ErrUnexpectedEOF)
		if endA || endB {
			if endA != endB {
				return fmt.Errorf("%w: %s has a different length than %s", errMismatch, got, want)
			}
			return nil
		}
		if errA != nil {
			return errA
		}
		if errB != nil {
			return errB
		}
	}
}

// fileSize returns the size of path, or -1 if it does not exist.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}
