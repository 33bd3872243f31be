#include "textflag.h"

// func gatherAddAVX2(dst, src *float32, stride int, rows *int32, nrows, n int)
//
// For each block of 32 (then 8) columns, the block of dst is loaded into
// registers, the same block of each listed row of src is added in the
// order of rows, and the block is stored once.
TEXT ·gatherAddAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ stride+16(FP), R8
	SHLQ $2, R8              // row stride in bytes
	MOVQ rows+24(FP), R9
	MOVQ nrows+32(FP), R10
	MOVQ n+40(FP), CX
	XORQ BX, BX              // column offset in bytes

block32:
	CMPQ CX, $32
	JL   block8
	VMOVUPS 0(DI)(BX*1), Y0
	VMOVUPS 32(DI)(BX*1), Y1
	VMOVUPS 64(DI)(BX*1), Y2
	VMOVUPS 96(DI)(BX*1), Y3
	XORQ R11, R11            // k
rows32:
	MOVLQSX (R9)(R11*4), AX  // rows[k]
	IMULQ   R8, AX
	ADDQ    SI, AX
	ADDQ    BX, AX           // &src[rows[k]*stride + column]
	VADDPS  0(AX), Y0, Y0
	VADDPS  32(AX), Y1, Y1
	VADDPS  64(AX), Y2, Y2
	VADDPS  96(AX), Y3, Y3
	INCQ    R11
	CMPQ    R11, R10
	JL      rows32
	VMOVUPS Y0, 0(DI)(BX*1)
	VMOVUPS Y1, 32(DI)(BX*1)
	VMOVUPS Y2, 64(DI)(BX*1)
	VMOVUPS Y3, 96(DI)(BX*1)
	ADDQ    $128, BX
	SUBQ    $32, CX
	JMP     block32

block8:
	CMPQ CX, $8
	JL   done
	VMOVUPS 0(DI)(BX*1), Y0
	XORQ R11, R11
rows8:
	MOVLQSX (R9)(R11*4), AX
	IMULQ   R8, AX
	ADDQ    SI, AX
	ADDQ    BX, AX
	VADDPS  0(AX), Y0, Y0
	INCQ    R11
	CMPQ    R11, R10
	JL      rows8
	VMOVUPS Y0, 0(DI)(BX*1)
	ADDQ    $32, BX
	SUBQ    $8, CX
	JMP     block8

done:
	VZEROUPPER
	RET
