package cblas

import "golang.org/x/sys/cpu"

// coreType returns the OpenBLAS kernel family for this CPU by its features:
// "SkylakeX" with AVX-512, "Haswell" with AVX2 and FMA, "" otherwise.
func coreType() string {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL:
		return "SkylakeX"
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return "Haswell"
	}
	return ""
}
