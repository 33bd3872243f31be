//go:build !purego

package cpu

import "testing"

// withoutAVX512 runs f with the AVX-512 kernels turned off, so that the
// AVX2 ones take the bulk of every slice.
func withoutAVX512(f func()) {
	saved := useAVX512
	useAVX512 = false
	defer func() { useAVX512 = saved }()
	f()
}

func TestExp32AccuracyAVX2(t *testing.T) {
	if !useAVX512 {
		t.Skip("TestExp32Accuracy covers the AVX2 kernels: AVX-512 is not in use")
	}
	withoutAVX512(func() { checkExpAccuracy(t) })
}

func TestExpKernelsMatchGenericAVX2(t *testing.T) {
	if !useAVX512 {
		t.Skip("TestExpKernelsMatchGeneric covers the AVX2 kernels: AVX-512 is not in use")
	}
	withoutAVX512(func() { checkKernelsMatchGeneric(t) })
}

func TestExp64AccuracyAVX2(t *testing.T) {
	if !useAVX512 {
		t.Skip("TestExp64Accuracy covers the AVX2 kernels: AVX-512 is not in use")
	}
	withoutAVX512(func() { checkExp64Accuracy(t) })
}

func TestExp64KernelsMatchGenericAVX2(t *testing.T) {
	if !useAVX512 {
		t.Skip("TestExp64KernelsMatchGeneric covers the AVX2 kernels: AVX-512 is not in use")
	}
	withoutAVX512(func() { checkExp64KernelsMatchGeneric(t) })
}

func TestExp64SpecialValuesAVX2(t *testing.T) {
	if !useAVX512 {
		t.Skip("TestExp64SpecialValues covers the AVX2 kernels: AVX-512 is not in use")
	}
	withoutAVX512(func() { checkExp64SpecialValues(t) })
}
