// Package kernels holds the OpenCL C sources of spikessl's device
// backend, embedded in the binary. Package gpu builds them at run time.
//
// Each source opens with the maths it computes, its memory layout and its
// tunables as #define macros with defaults (REAL, WG, BLOCK, TILE, TILE_K,
// NORM_WG, NORM_EPS), which the host overrides with -D build options.
// Every source compiles with REAL=float, and with REAL=double plus
// -D USE_FP64 on a device that has cl_khr_fp64.
package kernels

import _ "embed"

// Rows is the row-wise program: normalize_rows and normalize_backward for
// InfoNCE, and goodness_rows for CSDP.
//
//go:embed rows.cl
var Rows string

// InfoNCE is the tiled InfoNCE program: infonce_lse (the forward pass with
// an online log-sum-exp) and infonce_grad (the backward pass).
//
//go:embed infonce.cl
var InfoNCE string

// Outer is the scaled outer-product update outer_update behind every CSDP
// rule.
//
//go:embed outer.cl
var Outer string

// Sources maps each program's name to its source.
func Sources() map[string]string {
	return map[string]string{"rows": Rows, "infonce": InfoNCE, "outer": Outer}
}
