//go:build amd64 && !purego

#include "textflag.h"

// The kernels of linear.applySIMD (AVX2 and FMA). Every output is one chain of fused
// multiply-adds over k in order, starting from its bias, in every kernel: the same
// row gives bitwise the same numbers in any of them.

// func gemm4x24(x *float32, ldx int, p *float32, k int, bias *float32, y *float32, ldy int)
TEXT ·gemm4x24(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ ldx+8(FP), R8
	SHLQ $2, R8
	MOVQ p+16(FP), DI
	MOVQ k+24(FP), CX
	MOVQ bias+32(FP), AX
	MOVQ y+40(FP), DX
	MOVQ ldy+48(FP), R9
	SHLQ $2, R9
	LEAQ (SI)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS 64(AX), Y2
	VMOVAPS Y0, Y3
	VMOVAPS Y1, Y4
	VMOVAPS Y2, Y5
	VMOVAPS Y0, Y6
	VMOVAPS Y1, Y7
	VMOVAPS Y2, Y8
	VMOVAPS Y0, Y9
	VMOVAPS Y1, Y10
	VMOVAPS Y2, Y11

loop4:
	VMOVUPS      (DI), Y12
	VMOVUPS      32(DI), Y13
	VMOVUPS      64(DI), Y14
	VBROADCASTSS (SI), Y15
	VFMADD231PS  Y12, Y15, Y0
	VFMADD231PS  Y13, Y15, Y1
	VFMADD231PS  Y14, Y15, Y2
	VBROADCASTSS (R10), Y15
	VFMADD231PS  Y12, Y15, Y3
	VFMADD231PS  Y13, Y15, Y4
	VFMADD231PS  Y14, Y15, Y5
	VBROADCASTSS (R11), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VFMADD231PS  Y14, Y15, Y8
	VBROADCASTSS (R12), Y15
	VFMADD231PS  Y12, Y15, Y9
	VFMADD231PS  Y13, Y15, Y10
	VFMADD231PS  Y14, Y15, Y11
	ADDQ         $4, SI
	ADDQ         $4, R10
	ADDQ         $4, R11
	ADDQ         $4, R12
	ADDQ         $96, DI
	DECQ         CX
	JNZ          loop4

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	ADDQ    R9, DX
	VMOVUPS Y3, (DX)
	VMOVUPS Y4, 32(DX)
	VMOVUPS Y5, 64(DX)
	ADDQ    R9, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	VMOVUPS Y8, 64(DX)
	ADDQ    R9, DX
	VMOVUPS Y9, (DX)
	VMOVUPS Y10, 32(DX)
	VMOVUPS Y11, 64(DX)
	VZEROUPPER
	RET

// func gemm1x24(x *float32, p *float32, k int, bias *float32, y *float32)
TEXT ·gemm1x24(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ p+8(FP), DI
	MOVQ k+16(FP), CX
	MOVQ bias+24(FP), AX
	MOVQ y+32(FP), DX
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS 64(AX), Y2

loop1:
	VBROADCASTSS (SI), Y15
	VFMADD231PS  (DI), Y15, Y0
	VFMADD231PS  32(DI), Y15, Y1
	VFMADD231PS  64(DI), Y15, Y2
	ADDQ         $4, SI
	ADDQ         $96, DI
	DECQ         CX
	JNZ          loop1

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VZEROUPPER
	RET

// func gemm1x96(x *float32, p *float32, ps int, k int, bias *float32, y *float32)
TEXT ·gemm1x96(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ p+8(FP), DI
	MOVQ ps+16(FP), R8
	SHLQ $2, R8
	MOVQ k+24(FP), CX
	MOVQ bias+32(FP), AX
	MOVQ y+40(FP), DX
	LEAQ (DI)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS 64(AX), Y2
	VMOVUPS 96(AX), Y3
	VMOVUPS 128(AX), Y4
	VMOVUPS 160(AX), Y5
	VMOVUPS 192(AX), Y6
	VMOVUPS 224(AX), Y7
	VMOVUPS 256(AX), Y8
	VMOVUPS 288(AX), Y9
	VMOVUPS 320(AX), Y10
	VMOVUPS 352(AX), Y11

loop96:
	VBROADCASTSS (SI), Y15
	VFMADD231PS  (DI), Y15, Y0
	VFMADD231PS  32(DI), Y15, Y1
	VFMADD231PS  64(DI), Y15, Y2
	VFMADD231PS  (R10), Y15, Y3
	VFMADD231PS  32(R10), Y15, Y4
	VFMADD231PS  64(R10), Y15, Y5
	VFMADD231PS  (R11), Y15, Y6
	VFMADD231PS  32(R11), Y15, Y7
	VFMADD231PS  64(R11), Y15, Y8
	VFMADD231PS  (R12), Y15, Y9
	VFMADD231PS  32(R12), Y15, Y10
	VFMADD231PS  64(R12), Y15, Y11
	ADDQ         $4, SI
	ADDQ         $96, DI
	ADDQ         $96, R10
	ADDQ         $96, R11
	ADDQ         $96, R12
	DECQ         CX
	JNZ          loop96

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VMOVUPS Y8, 256(DX)
	VMOVUPS Y9, 288(DX)
	VMOVUPS Y10, 320(DX)
	VMOVUPS Y11, 352(DX)
	VZEROUPPER
	RET

// func attnScores(q *float32, k *float32, stride int, n int, hd int, scale float32, s *float32)
TEXT ·attnScores(SB), NOSPLIT, $0-56
	MOVQ         q+0(FP), SI
	MOVQ         k+8(FP), DI
	MOVQ         stride+16(FP), R8
	SHLQ         $2, R8
	MOVQ         n+24(FP), CX
	MOVQ         hd+32(FP), R9
	VMOVSS       scale+40(FP), X14
	MOVQ         s+48(FP), DX
	TESTQ        CX, CX
	JZ           scoresEnd

scoresRow:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   AX, AX
	MOVQ   R9, BX

scores16:
	CMPQ        BX, $16
	JL          scores8
	VMOVUPS     (SI)(AX*1), Y2
	VFMADD231PS (DI)(AX*1), Y2, Y0
	VMOVUPS     32(SI)(AX*1), Y3
	VFMADD231PS 32(DI)(AX*1), Y3, Y1
	ADDQ        $64, AX
	SUBQ        $16, BX
	JMP         scores16

scores8:
	CMPQ        BX, $8
	JL          scoresSum
	VMOVUPS     (SI)(AX*1), Y2
	VFMADD231PS (DI)(AX*1), Y2, Y0

scoresSum:
	VADDPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMULSS       X14, X0, X0
	VMOVSS       X0, (DX)
	ADDQ         $4, DX
	ADDQ         R8, DI
	DECQ         CX
	JNZ          scoresRow

scoresEnd:
	VZEROUPPER
	RET

// func attnMix(a *float32, v *float32, stride int, n int, hd int, y *float32)
TEXT ·attnMix(SB), NOSPLIT, $0-48
	MOVQ v+8(FP), DI
	MOVQ stride+16(FP), R8
	SHLQ $2, R8
	MOVQ hd+32(FP), R9
	MOVQ y+40(FP), DX

mixChunk16:
	CMPQ   R9, $16
	JL     mixChunk8
	MOVQ   a+0(FP), SI
	MOVQ   n+24(FP), CX
	MOVQ   DI, R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	TESTQ  CX, CX
	JZ     mixStore16

mixLoop16:
	VBROADCASTSS (SI), Y2
	VFMADD231PS  (R10), Y2, Y0
	VFMADD231PS  32(R10), Y2, Y1
	ADDQ         $4, SI
	ADDQ         R8, R10
	DECQ         CX
	JNZ          mixLoop16

mixStore16:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, R9
	JMP     mixChunk16

mixChunk8:
	CMPQ   R9, $8
	JL     mixEnd
	MOVQ   a+0(FP), SI
	MOVQ   n+24(FP), CX
	MOVQ   DI, R10
	VXORPS Y0, Y0, Y0
	TESTQ  CX, CX
	JZ     mixStore8

mixLoop8:
	VBROADCASTSS (SI), Y2
	VFMADD231PS  (R10), Y2, Y0
	ADDQ         $4, SI
	ADDQ         R8, R10
	DECQ         CX
	JNZ          mixLoop8

mixStore8:
	VMOVUPS Y0, (DX)

mixEnd:
	VZEROUPPER
	RET

// func expShift(s *float32, n int, m float32, c *[16][8]float32) (sum float32)
TEXT ·expShift(SB), NOSPLIT, $0-36
	MOVQ         s+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS m+16(FP), Y15
	MOVQ         c+24(FP), AX
	VXORPS       Y14, Y14, Y14
	TESTQ        CX, CX
	JZ           expSum

expLoop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y15, Y0, Y0
	VMAXPS       96(AX), Y0, Y0
	VMULPS       (AX), Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VFNMADD231PS 32(AX), Y1, Y0
	VFNMADD231PS 64(AX), Y1, Y0
	VMOVUPS      128(AX), Y2
	VFMADD213PS  160(AX), Y0, Y2
	VFMADD213PS  192(AX), Y0, Y2
	VFMADD213PS  224(AX), Y0, Y2
	VFMADD213PS  256(AX), Y0, Y2
	VFMADD213PS  288(AX), Y0, Y2
	VFMADD213PS  320(AX), Y0, Y2
	VFMADD213PS  320(AX), Y0, Y2
	VCVTPS2DQ    Y1, Y1
	VPSLLD       $23, Y1, Y1
	VPADDD       Y1, Y2, Y2
	VMOVUPS      Y2, (SI)
	VADDPS       Y2, Y14, Y14
	ADDQ         $32, SI
	SUBQ         $8, CX
	JNZ          expLoop

expSum:
	VEXTRACTF128 $1, Y14, X1
	VADDPS       X1, X14, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, sum+32(FP)
	VZEROUPPER
	RET

// func geluSIMD(x *float32, n int, c *[16][8]float32)
TEXT ·geluSIMD(SB), NOSPLIT, $0-24
	MOVQ  x+0(FP), SI
	MOVQ  n+8(FP), CX
	MOVQ  c+16(FP), AX
	TESTQ CX, CX
	JZ    geluEnd

geluLoop:
	VMOVUPS     (SI), Y0
	VMINPS      32(AX), Y0, Y1
	VMAXPS      64(AX), Y1, Y1
	VMULPS      Y1, Y1, Y2
	VMOVUPS     320(AX), Y3
	VFMADD213PS 288(AX), Y2, Y3
	VFMADD213PS 256(AX), Y2, Y3
	VFMADD213PS 224(AX), Y2, Y3
	VFMADD213PS 192(AX), Y2, Y3
	VFMADD213PS 160(AX), Y2, Y3
	VFMADD213PS 128(AX), Y2, Y3
	VMULPS      Y1, Y3, Y3
	VMOVUPS     480(AX), Y4
	VFMADD213PS 448(AX), Y2, Y4
	VFMADD213PS 416(AX), Y2, Y4
	VFMADD213PS 384(AX), Y2, Y4
	VFMADD213PS 352(AX), Y2, Y4
	VFMADD213PS 96(AX), Y2, Y4
	VDIVPS      Y4, Y3, Y3
	VADDPS      96(AX), Y3, Y3
	VMULPS      (AX), Y0, Y0
	VMULPS      Y3, Y0, Y0
	VMOVUPS     Y0, (SI)
	ADDQ        $32, SI
	SUBQ        $8, CX
	JNZ         geluLoop

geluEnd:
	VZEROUPPER
	RET
