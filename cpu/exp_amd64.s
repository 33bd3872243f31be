//go:build !purego

#include "textflag.h"

// Vector kernels of the float32 exponential, eight lanes at a time, with
// AVX2 and FMA. Each takes a slice whose length is a positive multiple of
// eight; the Go wrappers in exp_amd64.go handle the rest. R8 points at
// expConstants, whose rows are 32 bytes apart:
//
//	0 expMin, 32 expMax, 64 log2E, 96 ln2Hi, 128 ln2Lo,
//	160 c6, 192 c5, 224 c4, 256 c3, 288 c2, 320 c1, 352 c0, 384 bias 127.

// EXP8 sets P to exp(X) in each lane, by the steps of exp32 in exp.go, and
// overwrites X, T, N and H. The clamps take X as the second source operand
// so that a NaN lane stays NaN.
#define EXP8(X, T, N, H, P) \
	VMOVUPS      0(R8), T;     \
	VMAXPS       X, T, X;      \
	VMOVUPS      32(R8), T;    \
	VMINPS       X, T, X;      \
	VMULPS       64(R8), X, T; \
	VCVTPS2DQ    T, N;         \
	VCVTDQ2PS    N, T;         \
	VFNMADD231PS 96(R8), T, X; \
	VFNMADD231PS 128(R8), T, X; \
	VMOVUPS      160(R8), P;   \
	VFMADD213PS  192(R8), X, P; \
	VFMADD213PS  224(R8), X, P; \
	VFMADD213PS  256(R8), X, P; \
	VFMADD213PS  288(R8), X, P; \
	VFMADD213PS  320(R8), X, P; \
	VFMADD213PS  352(R8), X, P; \
	VPSRAD       $1, N, H;     \
	VPSUBD       H, N, N;      \
	VPADDD       384(R8), H, H; \
	VPADDD       384(R8), N, N; \
	VPSLLD       $23, H, H;    \
	VPSLLD       $23, N, N;    \
	VMULPS       H, P, P;      \
	VMULPS       N, P, P

// ACCUMULATE8 adds the eight float32 lanes of P to the float64 sums in
// Y8 (lanes 0–3) and Y9 (lanes 4–7), using Y6 and Y7.
#define ACCUMULATE8(P, PX) \
	VCVTPS2PD    PX, Y6;   \
	VEXTRACTF128 $1, P, X7; \
	VCVTPS2PD    X7, Y7;   \
	VADDPD       Y6, Y8, Y8; \
	VADDPD       Y7, Y9, Y9

// SUM8 stores the sum of the float64 lanes of Y8 and Y9 in X8.
#define SUM8 \
	VADDPD       Y9, Y8, Y8; \
	VEXTRACTF128 $1, Y8, X9; \
	VADDPD       X9, X8, X8; \
	VPERMILPD    $1, X8, X9; \
	VADDSD       X9, X8, X8

// func max32AVX2(x []float32) float32
TEXT ·max32AVX2(SB), NOSPLIT, $0-28
	MOVQ    x_base+0(FP), SI
	MOVQ    x_len+8(FP), CX
	VMOVUPS (SI), Y0
	ADDQ    $32, SI
	SUBQ    $8, CX
	JZ      maxdone

maxloop:
	VMAXPS (SI), Y0, Y0
	ADDQ   $32, SI
	SUBQ   $8, CX
	JNZ    maxloop

maxdone:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// func expSum32AVX2(x []float32, shift float32) float64
TEXT ·expSum32AVX2(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS shift+24(FP), Y0
	LEAQ         ·expConstants(SB), R8
	VXORPD       Y8, Y8, Y8
	VXORPD       Y9, Y9, Y9

sumloop:
	VMOVUPS (SI), Y1
	VSUBPS  Y0, Y1, Y1
	EXP8(Y1, Y2, Y3, Y4, Y5)
	ACCUMULATE8(Y5, X5)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     sumloop

	SUM8
	VZEROUPPER
	MOVSD X8, ret+32(FP)
	RET

// func expStore32AVX2(x []float32, shift float32) float64
TEXT ·expStore32AVX2(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS shift+24(FP), Y0
	LEAQ         ·expConstants(SB), R8
	VXORPD       Y8, Y8, Y8
	VXORPD       Y9, Y9, Y9

storeloop:
	VMOVUPS (SI), Y1
	VSUBPS  Y0, Y1, Y1
	EXP8(Y1, Y2, Y3, Y4, Y5)
	VMOVUPS Y5, (SI)
	ACCUMULATE8(Y5, X5)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     storeloop

	SUM8
	VZEROUPPER
	MOVSD X8, ret+32(FP)
	RET

// func expScale32AVX2(x []float32, shift, scale float32)
TEXT ·expScale32AVX2(SB), NOSPLIT, $0-32
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS shift+24(FP), Y0
	VBROADCASTSS scale+28(FP), Y10
	LEAQ         ·expConstants(SB), R8

scaleexploop:
	VMOVUPS (SI), Y1
	VSUBPS  Y0, Y1, Y1
	EXP8(Y1, Y2, Y3, Y4, Y5)
	VMULPS  Y10, Y5, Y5
	VMOVUPS Y5, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     scaleexploop

	VZEROUPPER
	RET

// func expScalePair32AVX2(x []float32, shift float32, columnShift []float32, scale float32)
TEXT ·expScalePair32AVX2(SB), NOSPLIT, $0-60
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS shift+24(FP), Y0
	MOVQ         columnShift_base+32(FP), DI
	VBROADCASTSS scale+56(FP), Y10
	LEAQ         ·expConstants(SB), R8

pairloop:
	VMOVUPS (SI), Y1
	VSUBPS  (DI), Y1, Y11
	VSUBPS  Y0, Y1, Y1
	EXP8(Y1, Y2, Y3, Y4, Y5)
	EXP8(Y11, Y2, Y3, Y4, Y6)
	VADDPS  Y6, Y5, Y5
	VMULPS  Y10, Y5, Y5
	VMOVUPS Y5, (SI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     pairloop

	VZEROUPPER
	RET

// EXP16 sets P to exp(X) in each of sixteen lanes with AVX-512F, by the
// steps of EXP8 except the last: VSCALEFPS multiplies by 2ⁿ in one step,
// rounding once where the result is subnormal. It overwrites X, T and U.
#define EXP16(X, T, U, P) \
	VBROADCASTSS     0(R8), U;          \
	VMAXPS           X, U, X;           \
	VBROADCASTSS     32(R8), U;         \
	VMINPS           X, U, X;           \
	VMULPS.BCST      64(R8), X, T;      \
	VRNDSCALEPS      $0, T, T;          \
	VFNMADD231PS.BCST 96(R8), T, X;     \
	VFNMADD231PS.BCST 128(R8), T, X;    \
	VBROADCASTSS     160(R8), P;        \
	VFMADD213PS.BCST 192(R8), X, P;     \
	VFMADD213PS.BCST 224(R8), X, P;     \
	VFMADD213PS.BCST 256(R8), X, P;     \
	VFMADD213PS.BCST 288(R8), X, P;     \
	VFMADD213PS.BCST 320(R8), X, P;     \
	VFMADD213PS.BCST 352(R8), X, P;     \
	VSCALEFPS        T, P, P

// ACCUMULATE16 adds the sixteen float32 lanes of P to the float64 sums in
// Z8 (lanes 0–7) and Z9 (lanes 8–15), using Z6 and Z7.
#define ACCUMULATE16(P, PY) \
	VCVTPS2PD     PY, Z6;    \
	VEXTRACTF64X4 $1, P, Y7; \
	VCVTPS2PD     Y7, Z7;    \
	VADDPD        Z6, Z8, Z8; \
	VADDPD        Z7, Z9, Z9

// SUM16 stores the sum of the float64 lanes of Z8 and Z9 in X8.
#define SUM16 \
	VADDPD        Z9, Z8, Z8; \
	VEXTRACTF64X4 $1, Z8, Y9; \
	VADDPD        Y9, Y8, Y8; \
	VEXTRACTF128  $1, Y8, X9; \
	VADDPD        X9, X8, X8; \
	VPERMILPD     $1, X8, X9; \
	VADDSD        X9, X8, X8

// func expSum32AVX512(x []float32, shift float32) float64
TEXT ·expSum32AVX512(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS shift+24(FP), Z0
	LEAQ         ·expConstants(SB), R8
	VXORPD       Z8, Z8, Z8
	VXORPD       Z9, Z9, Z9

sum16loop:
	VMOVUPS (SI), Z1
	VSUBPS  Z0, Z1, Z1
	EXP16(Z1, Z2, Z3, Z5)
	ACCUMULATE16(Z5, Y5)
	ADDQ    $64, SI
	SUBQ    $16, CX
	JNZ     sum16loop

	SUM16
	VZEROUPPER
	MOVSD X8, ret+32(FP)
	RET

// func expStore32AVX512(x []float32, shift float32) float64
TEXT ·expStore32AVX512(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS shift+24(FP), Z0
	LEAQ         ·expConstants(SB), R8
	VXORPD       Z8, Z8, Z8
	VXORPD       Z9, Z9, Z9

store16loop:
	VMOVUPS (SI), Z1
	VSUBPS  Z0, Z1, Z1
	EXP16(Z1, Z2, Z3, Z5)
	VMOVUPS Z5, (SI)
	ACCUMULATE16(Z5, Y5)
	ADDQ    $64, SI
	SUBQ    $16, CX
	JNZ     store16loop

	SUM16
	VZEROUPPER
	MOVSD X8, ret+32(FP)
	RET
