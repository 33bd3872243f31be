//go:build !purego

#include "textflag.h"

// Vector kernels of the float64 exponential, eight lanes at a time with
// AVX-512 and four with AVX2 and FMA. Each takes a slice whose length is a
// multiple of its lane count, and returns before any vector instruction
// when it is empty, so that a CPU without the instructions may call it
// with an empty slice. The Go wrappers in exp64_amd64.go handle the rest. R8 points at exp64Constants, whose entries are 8 bytes
// apart:
//
//	0 exp64Min, 8 exp64Max, 16 log2E, 24 ln2Hi64, 32 ln2Lo64,
//	40 1/13!, 48 1/12!, …, 136 1/1!, 144 1/0!, 152 bias 1023.

// EXP8D sets P to exp(X) in each lane, by the steps of exp64 in exp64.go,
// and overwrites X, T and U. The clamps take X as the second source
// operand so that a NaN lane stays NaN.
#define EXP8D(X, T, U, P) \
	VBROADCASTSD      0(R8), U;       \
	VMAXPD            X, U, X;        \
	VBROADCASTSD      8(R8), U;       \
	VMINPD            X, U, X;        \
	VMULPD.BCST       16(R8), X, T;   \
	VRNDSCALEPD       $0, T, T;       \
	VFNMADD231PD.BCST 24(R8), T, X;   \
	VFNMADD231PD.BCST 32(R8), T, X;   \
	VBROADCASTSD      40(R8), P;      \
	VFMADD213PD.BCST  48(R8), X, P;   \
	VFMADD213PD.BCST  56(R8), X, P;   \
	VFMADD213PD.BCST  64(R8), X, P;   \
	VFMADD213PD.BCST  72(R8), X, P;   \
	VFMADD213PD.BCST  80(R8), X, P;   \
	VFMADD213PD.BCST  88(R8), X, P;   \
	VFMADD213PD.BCST  96(R8), X, P;   \
	VFMADD213PD.BCST  104(R8), X, P;  \
	VFMADD213PD.BCST  112(R8), X, P;  \
	VFMADD213PD.BCST  120(R8), X, P;  \
	VFMADD213PD.BCST  128(R8), X, P;  \
	VFMADD213PD.BCST  136(R8), X, P;  \
	VFMADD213PD.BCST  144(R8), X, P;  \
	VSCALEFPD         T, P, P

// SUM8D stores the sum of the eight lanes of Z8 in X8.
#define SUM8D \
	VEXTRACTF64X4 $1, Z8, Y9; \
	VADDPD        Y9, Y8, Y8; \
	VEXTRACTF128  $1, Y8, X9; \
	VADDPD        X9, X8, X8; \
	VPERMILPD     $1, X8, X9; \
	VADDSD        X9, X8, X8

// func expSum64AVX512(x []float64, shift float64) float64
TEXT ·expSum64AVX512(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	TESTQ        CX, CX
	JZ           expSum64AVX512Empty
	VBROADCASTSD shift+24(FP), Z0
	LEAQ         ·exp64Constants(SB), R8
	VXORPD       Z8, Z8, Z8

sum8loop:
	VMOVUPD (SI), Z1
	VSUBPD  Z0, Z1, Z1
	EXP8D(Z1, Z2, Z3, Z5)
	VADDPD  Z5, Z8, Z8
	ADDQ    $64, SI
	SUBQ    $8, CX
	JNZ     sum8loop

	SUM8D
	VZEROUPPER
	MOVSD X8, ret+32(FP)
	RET

expSum64AVX512Empty:
	MOVQ $0, ret+32(FP)
	RET

// func expStore64AVX512(x []float64, shift float64) float64
TEXT ·expStore64AVX512(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	TESTQ        CX, CX
	JZ           expStore64AVX512Empty
	VBROADCASTSD shift+24(FP), Z0
	LEAQ         ·exp64Constants(SB), R8
	VXORPD       Z8, Z8, Z8

store8loop:
	VMOVUPD (SI), Z1
	VSUBPD  Z0, Z1, Z1
	EXP8D(Z1, Z2, Z3, Z5)
	VMOVUPD Z5, (SI)
	VADDPD  Z5, Z8, Z8
	ADDQ    $64, SI
	SUBQ    $8, CX
	JNZ     store8loop

	SUM8D
	VZEROUPPER
	MOVSD X8, ret+32(FP)
	RET

expStore64AVX512Empty:
	MOVQ $0, ret+32(FP)
	RET

// func expScalePair64AVX512(x []float64, shift float64, columnShift []float64, scale float64)
TEXT ·expScalePair64AVX512(SB), NOSPLIT, $0-64
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	TESTQ        CX, CX
	JZ           expScalePair64AVX512Empty
	VBROADCASTSD shift+24(FP), Z0
	MOVQ         columnShift_base+32(FP), DI
	VBROADCASTSD scale+56(FP), Z4
	LEAQ         ·exp64Constants(SB), R8

pair8loop:
	VMOVUPD (SI), Z1
	VSUBPD  Z0, Z1, Z1
	EXP8D(Z1, Z2, Z3, Z5)
	VMOVUPD (SI), Z6
	VSUBPD  (DI), Z6, Z6
	EXP8D(Z6, Z2, Z3, Z7)
	VADDPD  Z7, Z5, Z5
	VMULPD  Z4, Z5, Z5
	VMOVUPD Z5, (SI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $8, CX
	JNZ     pair8loop

	VZEROUPPER
	RET

expScalePair64AVX512Empty:
	RET

// EXP4D sets P to exp(X) in each lane, by the steps of exp64, and
// overwrites X, T, U, H and N; HX and NX are the low halves of H and N.
// Without AVX-512's embedded broadcasts, each constant is broadcast into U
// first.
#define EXP4D(X, T, U, H, HX, N, NX, P) \
	VBROADCASTSD 0(R8), U;       \
	VMAXPD       X, U, X;        \
	VBROADCASTSD 8(R8), U;       \
	VMINPD       X, U, X;        \
	VBROADCASTSD 16(R8), U;      \
	VMULPD       U, X, T;        \
	VROUNDPD     $0, T, T;       \
	VBROADCASTSD 24(R8), U;      \
	VFNMADD231PD U, T, X;        \
	VBROADCASTSD 32(R8), U;      \
	VFNMADD231PD U, T, X;        \
	VBROADCASTSD 40(R8), P;      \
	VBROADCASTSD 48(R8), U;      \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 56(R8), U;      \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 64(R8), U;      \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 72(R8), U;      \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 80(R8), U;      \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 88(R8), U;      \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 96(R8), U;      \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 104(R8), U;     \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 112(R8), U;     \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 120(R8), U;     \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 128(R8), U;     \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 136(R8), U;     \
	VFMADD213PD  U, X, P;        \
	VBROADCASTSD 144(R8), U;     \
	VFMADD213PD  U, X, P;        \
	VCVTPD2DQY   T, NX;          \
	VPSRAD       $1, NX, HX;     \
	VPSUBD       HX, NX, NX;     \
	VPMOVSXDQ    HX, H;          \
	VPMOVSXDQ    NX, N;          \
	VPBROADCASTQ 152(R8), U;     \
	VPADDQ       U, H, H;        \
	VPADDQ       U, N, N;        \
	VPSLLQ       $52, H, H;      \
	VPSLLQ       $52, N, N;      \
	VMULPD       H, P, P;        \
	VMULPD       N, P, P

// SUM4D stores the sum of the four lanes of Y8 in X8.
#define SUM4D \
	VEXTRACTF128 $1, Y8, X9; \
	VADDPD       X9, X8, X8; \
	VPERMILPD    $1, X8, X9; \
	VADDSD       X9, X8, X8

// func expSum64AVX2(x []float64, shift float64) float64
TEXT ·expSum64AVX2(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	TESTQ        CX, CX
	JZ           expSum64AVX2Empty
	VBROADCASTSD shift+24(FP), Y0
	LEAQ         ·exp64Constants(SB), R8
	VXORPD       Y8, Y8, Y8

sum4loop:
	VMOVUPD (SI), Y1
	VSUBPD  Y0, Y1, Y1
	EXP4D(Y1, Y2, Y3, Y6, X6, Y7, X7, Y5)
	VADDPD  Y5, Y8, Y8
	ADDQ    $32, SI
	SUBQ    $4, CX
	JNZ     sum4loop

	SUM4D
	VZEROUPPER
	MOVSD X8, ret+32(FP)
	RET

expSum64AVX2Empty:
	MOVQ $0, ret+32(FP)
	RET

// func expStore64AVX2(x []float64, shift float64) float64
TEXT ·expStore64AVX2(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	TESTQ        CX, CX
	JZ           expStore64AVX2Empty
	VBROADCASTSD shift+24(FP), Y0
	LEAQ         ·exp64Constants(SB), R8
	VXORPD       Y8, Y8, Y8

store4loop:
	VMOVUPD (SI), Y1
	VSUBPD  Y0, Y1, Y1
	EXP4D(Y1, Y2, Y3, Y6, X6, Y7, X7, Y5)
	VMOVUPD Y5, (SI)
	VADDPD  Y5, Y8, Y8
	ADDQ    $32, SI
	SUBQ    $4, CX
	JNZ     store4loop

	SUM4D
	VZEROUPPER
	MOVSD X8, ret+32(FP)
	RET

expStore64AVX2Empty:
	MOVQ $0, ret+32(FP)
	RET

// func expScalePair64AVX2(x []float64, shift float64, columnShift []float64, scale float64)
TEXT ·expScalePair64AVX2(SB), NOSPLIT, $0-64
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	TESTQ        CX, CX
	JZ           expScalePair64AVX2Empty
	VBROADCASTSD shift+24(FP), Y0
	MOVQ         columnShift_base+32(FP), DI
	VBROADCASTSD scale+56(FP), Y4
	LEAQ         ·exp64Constants(SB), R8

pair4loop:
	VMOVUPD (SI), Y1
	VSUBPD  Y0, Y1, Y1
	EXP4D(Y1, Y2, Y3, Y6, X6, Y7, X7, Y5)
	VMOVUPD (SI), Y1
	VSUBPD  (DI), Y1, Y1
	EXP4D(Y1, Y2, Y3, Y6, X6, Y7, X7, Y9)
	VADDPD  Y9, Y5, Y5
	VMULPD  Y4, Y5, Y5
	VMOVUPD Y5, (SI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $4, CX
	JNZ     pair4loop

	VZEROUPPER
	RET

expScalePair64AVX2Empty:
	RET
