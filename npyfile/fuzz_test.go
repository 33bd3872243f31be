package npyfile

import (
	"bytes"
	"runtime/metrics"
	"slices"
	"testing"
	"testing/iotest"
)

// allocatedBytes returns the bytes allocated on the heap so far by the
// process.
func allocatedBytes() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// maxReadAlloc bounds what one Read of n input bytes may allocate. The
// result takes at most 8 bytes of float64 per input byte. A Fortran-order
// transposition, or growing the result when the size is unknown, takes as
// much again. The constant covers the chunk buffer of at most 64 KiB
// and small allocations.
func maxReadAlloc(n int) uint64 {
	return uint64(32*n + 1<<20)
}

// FuzzRead reads arbitrary bytes with the size known and unknown. Neither
// may panic or allocate more than maxReadAlloc, both must agree, and an
// array that reads without error must survive Write and Read unchanged.
func FuzzRead(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		before := allocatedBytes()
		known, knownErr := Read[float64](bytes.NewReader(data), int64(len(data)))
		if alloc := allocatedBytes() - before; alloc > maxReadAlloc(len(data)) {
			t.Fatalf("Read with known size allocated %d bytes for %d bytes of input", alloc, len(data))
		}
		before = allocatedBytes()
		unknown, unknownErr := Read[float64](iotest.HalfReader(bytes.NewReader(data)), -1)
		if alloc := allocatedBytes() - before; alloc > maxReadAlloc(len(data)) {
			t.Fatalf("Read with unknown size allocated %d bytes for %d bytes of input", alloc, len(data))
		}

		if (knownErr == nil) != (unknownErr == nil) || sentinel(knownErr) != sentinel(unknownErr) {
			t.Fatalf("errors differ: known size %v, unknown size %v", knownErr, unknownErr)
		}
		if knownErr != nil {
			return
		}
		if !slices.Equal(known.Shape, unknown.Shape) || !slices.EqualFunc(known.Data, unknown.Data, sameBits[float64]) {
			t.Fatalf("results differ: known size %v %v, unknown size %v %v", known.Shape, known.Data, unknown.Shape, unknown.Data)
		}

		single, err := Read[float32](bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("float64 read succeeded but float32 read failed: %v", err)
		}
		checkRewrite(t, known)
		checkRewrite(t, single)
	})
}

// checkRewrite writes a and reads it back, expecting the same shape and
// bits.
func checkRewrite[T float32 | float64](t *testing.T, a Array[T]) {
	var buf bytes.Buffer
	if err := Write(&buf, a.Shape, a.Data); err != nil {
		t.Fatalf("Write of a read array failed: %v", err)
	}
	back, err := Read[T](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("reading a written array failed: %v", err)
	}
	if !slices.Equal(back.Shape, a.Shape) || !slices.EqualFunc(back.Data, a.Data, sameBits[T]) {
		t.Fatalf("rewritten array differs: %v %v, want %v %v", back.Shape, back.Data, a.Shape, a.Data)
	}
}
