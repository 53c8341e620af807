//go:build amd64 && !purego

#include "textflag.h"

// The kernels of linear.applySIMD (AVX2 and FMA, and AVX-512), over float32 or
// float16 panels, and of attention, layer norm, softmax and GELU. Every output of a
// product is one chain of fused multiply-adds over k in order, starting from its bias,
// in every kernel: the same row gives bitwise the same numbers in any of them.

// BLOCK_ARGS loads the arguments of every block kernel (x, p, k, bias, y in SI, DI,
// CX, AX, DX) with the strides of x's and y's rows in bytes (R8, R9).
#define BLOCK_ARGS \
	MOVQ x+0(FP), SI; \
	MOVQ ldx+8(FP), R8; \
	SHLQ $2, R8; \
	MOVQ p+16(FP), DI; \
	MOVQ k+24(FP), CX; \
	MOVQ bias+32(FP), AX; \
	MOVQ y+40(FP), DX; \
	MOVQ ldy+48(FP), R9; \
	SHLQ $2, R9

// GROUP_ARGS loads the arguments of every group kernel (x, p, k, bias, y in SI, DI,
// CX, AX, DX) with the four panels' starts in DI, R10, R11 and R12, ps elements of
// 1<<shift bytes apart.
#define GROUP_ARGS(shift) \
	MOVQ x+0(FP), SI; \
	MOVQ p+8(FP), DI; \
	MOVQ ps+16(FP), R8; \
	SHLQ $shift, R8; \
	MOVQ k+24(FP), CX; \
	MOVQ bias+32(FP), AX; \
	MOVQ y+40(FP), DX; \
	LEAQ (DI)(R8*1), R10; \
	LEAQ (R10)(R8*1), R11; \
	LEAQ (R11)(R8*1), R12

// The parts that gemm4x24 and gemm4x24h share: their arguments and the 12 sums of 4
// rows x 24 outputs started from the bias (Y0-Y11); the multiply-adds of one k, with
// the panel's 24 weights in Y12-Y14; the next k of the 4 rows of x; the stores.
#define GEMM4X24_START \
	BLOCK_ARGS; \
	LEAQ (SI)(R8*1), R10; \
	LEAQ (R10)(R8*1), R11; \
	LEAQ (R11)(R8*1), R12; \
	VMOVUPS (AX), Y0; \
	VMOVUPS 32(AX), Y1; \
	VMOVUPS 64(AX), Y2; \
	VMOVAPS Y0, Y3; \
	VMOVAPS Y1, Y4; \
	VMOVAPS Y2, Y5; \
	VMOVAPS Y0, Y6; \
	VMOVAPS Y1, Y7; \
	VMOVAPS Y2, Y8; \
	VMOVAPS Y0, Y9; \
	VMOVAPS Y1, Y10; \
	VMOVAPS Y2, Y11;

#define GEMM4X24_FMA \
	VBROADCASTSS (SI), Y15; \
	VFMADD231PS  Y12, Y15, Y0; \
	VFMADD231PS  Y13, Y15, Y1; \
	VFMADD231PS  Y14, Y15, Y2; \
	VBROADCASTSS (R10), Y15; \
	VFMADD231PS  Y12, Y15, Y3; \
	VFMADD231PS  Y13, Y15, Y4; \
	VFMADD231PS  Y14, Y15, Y5; \
	VBROADCASTSS (R11), Y15; \
	VFMADD231PS  Y12, Y15, Y6; \
	VFMADD231PS  Y13, Y15, Y7; \
	VFMADD231PS  Y14, Y15, Y8; \
	VBROADCASTSS (R12), Y15; \
	VFMADD231PS  Y12, Y15, Y9; \
	VFMADD231PS  Y13, Y15, Y10; \
	VFMADD231PS  Y14, Y15, Y11;

#define GEMM4X24_NEXT_X \
	ADDQ         $4, SI; \
	ADDQ         $4, R10; \
	ADDQ         $4, R11; \
	ADDQ         $4, R12;

#define GEMM4X24_STORE_RET \
	VMOVUPS Y0, (DX); \
	VMOVUPS Y1, 32(DX); \
	VMOVUPS Y2, 64(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Y3, (DX); \
	VMOVUPS Y4, 32(DX); \
	VMOVUPS Y5, 64(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Y6, (DX); \
	VMOVUPS Y7, 32(DX); \
	VMOVUPS Y8, 64(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Y9, (DX); \
	VMOVUPS Y10, 32(DX); \
	VMOVUPS Y11, 64(DX); \
	VZEROUPPER; \
	RET;

// GEMM1X24_START loads the arguments of gemm1x24 and gemm1x24h and starts the 24 sums
// from the bias.
#define GEMM1X24_START \
	MOVQ x+0(FP), SI; \
	MOVQ p+8(FP), DI; \
	MOVQ k+16(FP), CX; \
	MOVQ bias+24(FP), AX; \
	MOVQ y+32(FP), DX; \
	VMOVUPS (AX), Y0; \
	VMOVUPS 32(AX), Y1; \
	VMOVUPS 64(AX), Y2;

// The parts that gemm1x96 and gemm1x96h share: their arguments (the panels' stride
// ps in floats or halves, 1<<shift bytes each), the 96 sums started from the bias,
// and their stores.
#define GEMM1X96_START(shift) \
	GROUP_ARGS(shift); \
	VMOVUPS (AX), Y0; \
	VMOVUPS 32(AX), Y1; \
	VMOVUPS 64(AX), Y2; \
	VMOVUPS 96(AX), Y3; \
	VMOVUPS 128(AX), Y4; \
	VMOVUPS 160(AX), Y5; \
	VMOVUPS 192(AX), Y6; \
	VMOVUPS 224(AX), Y7; \
	VMOVUPS 256(AX), Y8; \
	VMOVUPS 288(AX), Y9; \
	VMOVUPS 320(AX), Y10; \
	VMOVUPS 352(AX), Y11;

#define GEMM1X96_STORE_RET \
	VMOVUPS Y0, (DX); \
	VMOVUPS Y1, 32(DX); \
	VMOVUPS Y2, 64(DX); \
	VMOVUPS Y3, 96(DX); \
	VMOVUPS Y4, 128(DX); \
	VMOVUPS Y5, 160(DX); \
	VMOVUPS Y6, 192(DX); \
	VMOVUPS Y7, 224(DX); \
	VMOVUPS Y8, 256(DX); \
	VMOVUPS Y9, 288(DX); \
	VMOVUPS Y10, 320(DX); \
	VMOVUPS Y11, 352(DX); \
	VZEROUPPER; \
	RET;

// The parts that the block kernels of 4 and 8 rows share, over float32 or float16
// panels: their arguments; the sums of 4 rows x 48 outputs started from the bias
// (Z0-Z11) and of 4 more rows (Z12-Z23); the multiply-adds of one k of rows 0-3 and
// of rows 4-7, with the panel's 48 weights in Z24-Z26; the next k of x; the stores.
#define GEMM4X48Z_START \
	BLOCK_ARGS; \
	LEAQ (R8)(R8*2), R10; \
	LEAQ (SI)(R8*4), R11; \
	VMOVUPS (AX), Z0; \
	VMOVUPS 64(AX), Z1; \
	VMOVUPS 128(AX), Z2; \
	VMOVAPS Z0, Z3; \
	VMOVAPS Z1, Z4; \
	VMOVAPS Z2, Z5; \
	VMOVAPS Z0, Z6; \
	VMOVAPS Z1, Z7; \
	VMOVAPS Z2, Z8; \
	VMOVAPS Z0, Z9; \
	VMOVAPS Z1, Z10; \
	VMOVAPS Z2, Z11

#define GEMM8X48Z_MORE_SUMS \
	VMOVAPS Z0, Z12; \
	VMOVAPS Z1, Z13; \
	VMOVAPS Z2, Z14; \
	VMOVAPS Z0, Z15; \
	VMOVAPS Z1, Z16; \
	VMOVAPS Z2, Z17; \
	VMOVAPS Z0, Z18; \
	VMOVAPS Z1, Z19; \
	VMOVAPS Z2, Z20; \
	VMOVAPS Z0, Z21; \
	VMOVAPS Z1, Z22; \
	VMOVAPS Z2, Z23

#define GEMM4X48Z_FMA \
	VFMADD231PS.BCST (SI), Z24, Z0; \
	VFMADD231PS.BCST (SI), Z25, Z1; \
	VFMADD231PS.BCST (SI), Z26, Z2; \
	VFMADD231PS.BCST (SI)(R8*1), Z24, Z3; \
	VFMADD231PS.BCST (SI)(R8*1), Z25, Z4; \
	VFMADD231PS.BCST (SI)(R8*1), Z26, Z5; \
	VFMADD231PS.BCST (SI)(R8*2), Z24, Z6; \
	VFMADD231PS.BCST (SI)(R8*2), Z25, Z7; \
	VFMADD231PS.BCST (SI)(R8*2), Z26, Z8; \
	VFMADD231PS.BCST (SI)(R10*1), Z24, Z9; \
	VFMADD231PS.BCST (SI)(R10*1), Z25, Z10; \
	VFMADD231PS.BCST (SI)(R10*1), Z26, Z11

#define GEMM8X48Z_FMA_MORE \
	VFMADD231PS.BCST (R11), Z24, Z12; \
	VFMADD231PS.BCST (R11), Z25, Z13; \
	VFMADD231PS.BCST (R11), Z26, Z14; \
	VFMADD231PS.BCST (R11)(R8*1), Z24, Z15; \
	VFMADD231PS.BCST (R11)(R8*1), Z25, Z16; \
	VFMADD231PS.BCST (R11)(R8*1), Z26, Z17; \
	VFMADD231PS.BCST (R11)(R8*2), Z24, Z18; \
	VFMADD231PS.BCST (R11)(R8*2), Z25, Z19; \
	VFMADD231PS.BCST (R11)(R8*2), Z26, Z20; \
	VFMADD231PS.BCST (R11)(R10*1), Z24, Z21; \
	VFMADD231PS.BCST (R11)(R10*1), Z25, Z22; \
	VFMADD231PS.BCST (R11)(R10*1), Z26, Z23

#define GEMM4X48Z_STORE \
	VMOVUPS Z0, (DX); \
	VMOVUPS Z1, 64(DX); \
	VMOVUPS Z2, 128(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Z3, (DX); \
	VMOVUPS Z4, 64(DX); \
	VMOVUPS Z5, 128(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Z6, (DX); \
	VMOVUPS Z7, 64(DX); \
	VMOVUPS Z8, 128(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Z9, (DX); \
	VMOVUPS Z10, 64(DX); \
	VMOVUPS Z11, 128(DX)

#define GEMM8X48Z_STORE_MORE \
	ADDQ    R9, DX; \
	VMOVUPS Z12, (DX); \
	VMOVUPS Z13, 64(DX); \
	VMOVUPS Z14, 128(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Z15, (DX); \
	VMOVUPS Z16, 64(DX); \
	VMOVUPS Z17, 128(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Z18, (DX); \
	VMOVUPS Z19, 64(DX); \
	VMOVUPS Z20, 128(DX); \
	ADDQ    R9, DX; \
	VMOVUPS Z21, (DX); \
	VMOVUPS Z22, 64(DX); \
	VMOVUPS Z23, 128(DX)

// GEMM1X48Z_START loads the arguments of gemm1x48z and gemm1x48zh and starts the 48
// sums from the bias.
#define GEMM1X48Z_START \
	MOVQ x+0(FP), SI; \
	MOVQ p+8(FP), DI; \
	MOVQ k+16(FP), CX; \
	MOVQ bias+24(FP), AX; \
	MOVQ y+32(FP), DX; \
	VMOVUPS (AX), Z0; \
	VMOVUPS 64(AX), Z1; \
	VMOVUPS 128(AX), Z2

// The parts that gemm1x192z and gemm1x192zh share: their arguments (the panels'
// stride ps in floats or halves, 1<<shift bytes each), the 192 sums started from the
// bias, and their stores.
#define GEMM1X192Z_START(shift) \
	GROUP_ARGS(shift); \
	VMOVUPS (AX), Z0; \
	VMOVUPS 64(AX), Z1; \
	VMOVUPS 128(AX), Z2; \
	VMOVUPS 192(AX), Z3; \
	VMOVUPS 256(AX), Z4; \
	VMOVUPS 320(AX), Z5; \
	VMOVUPS 384(AX), Z6; \
	VMOVUPS 448(AX), Z7; \
	VMOVUPS 512(AX), Z8; \
	VMOVUPS 576(AX), Z9; \
	VMOVUPS 640(AX), Z10; \
	VMOVUPS 704(AX), Z11

#define GEMM1X192Z_STORE_RET \
	VMOVUPS Z0, (DX); \
	VMOVUPS Z1, 64(DX); \
	VMOVUPS Z2, 128(DX); \
	VMOVUPS Z3, 192(DX); \
	VMOVUPS Z4, 256(DX); \
	VMOVUPS Z5, 320(DX); \
	VMOVUPS Z6, 384(DX); \
	VMOVUPS Z7, 448(DX); \
	VMOVUPS Z8, 512(DX); \
	VMOVUPS Z9, 576(DX); \
	VMOVUPS Z10, 640(DX); \
	VMOVUPS Z11, 704(DX); \
	VZEROUPPER; \
	RET

// func gemm4x24(x *float32, ldx int, p *float32, k int, bias *float32, y *float32, ldy int)
TEXT ·gemm4x24(SB), NOSPLIT, $0-56
	GEMM4X24_START

loop4:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	VMOVUPS 64(DI), Y14
	GEMM4X24_FMA
	GEMM4X24_NEXT_X
	ADDQ    $96, DI
	DECQ    CX
	JNZ     loop4
	GEMM4X24_STORE_RET

// func gemm1x24(x *float32, p *float32, k int, bias *float32, y *float32)
TEXT ·gemm1x24(SB), NOSPLIT, $0-40
	GEMM1X24_START

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
	GEMM1X96_START(2)

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

	GEMM1X96_STORE_RET

// The float16 kernels: gemm4x24, gemm1x24 and gemm1x96 over panels of float16
// weights (F16C's VCVTPH2PS widens them to float32 exactly), for models whose weights
// are all float16 values: the same multiply-adds in the same order, so bitwise the
// same numbers from half the bytes.

// func gemm4x24h(x *float32, ldx int, p *uint16, k int, bias *float32, y *float32, ldy int)
TEXT ·gemm4x24h(SB), NOSPLIT, $0-56
	GEMM4X24_START

loop4h:
	VCVTPH2PS (DI), Y12
	VCVTPH2PS 16(DI), Y13
	VCVTPH2PS 32(DI), Y14
	GEMM4X24_FMA
	GEMM4X24_NEXT_X
	ADDQ      $48, DI
	DECQ      CX
	JNZ       loop4h
	GEMM4X24_STORE_RET

// func gemm1x24h(x *float32, p *uint16, k int, bias *float32, y *float32)
TEXT ·gemm1x24h(SB), NOSPLIT, $0-40
	GEMM1X24_START

loop1h:
	VBROADCASTSS (SI), Y15
	VCVTPH2PS    (DI), Y12
	VCVTPH2PS    16(DI), Y13
	VCVTPH2PS    32(DI), Y14
	VFMADD231PS  Y12, Y15, Y0
	VFMADD231PS  Y13, Y15, Y1
	VFMADD231PS  Y14, Y15, Y2
	ADDQ         $4, SI
	ADDQ         $48, DI
	DECQ         CX
	JNZ          loop1h

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VZEROUPPER
	RET

// func gemm1x96h(x *float32, p *uint16, ps int, k int, bias *float32, y *float32)
TEXT ·gemm1x96h(SB), NOSPLIT, $0-48
	GEMM1X96_START(1)

loop96h:
	VBROADCASTSS (SI), Y15
	VCVTPH2PS    (DI), Y12
	VFMADD231PS  Y12, Y15, Y0
	VCVTPH2PS    16(DI), Y13
	VFMADD231PS  Y13, Y15, Y1
	VCVTPH2PS    32(DI), Y14
	VFMADD231PS  Y14, Y15, Y2
	VCVTPH2PS    (R10), Y12
	VFMADD231PS  Y12, Y15, Y3
	VCVTPH2PS    16(R10), Y13
	VFMADD231PS  Y13, Y15, Y4
	VCVTPH2PS    32(R10), Y14
	VFMADD231PS  Y14, Y15, Y5
	VCVTPH2PS    (R11), Y12
	VFMADD231PS  Y12, Y15, Y6
	VCVTPH2PS    16(R11), Y13
	VFMADD231PS  Y13, Y15, Y7
	VCVTPH2PS    32(R11), Y14
	VFMADD231PS  Y14, Y15, Y8
	VCVTPH2PS    (R12), Y12
	VFMADD231PS  Y12, Y15, Y9
	VCVTPH2PS    16(R12), Y13
	VFMADD231PS  Y13, Y15, Y10
	VCVTPH2PS    32(R12), Y14
	VFMADD231PS  Y14, Y15, Y11
	ADDQ         $4, SI
	ADDQ         $48, DI
	ADDQ         $48, R10
	ADDQ         $48, R11
	ADDQ         $48, R12
	DECQ         CX
	JNZ          loop96h

	GEMM1X96_STORE_RET

// func attnScores(q *float32, k *float32, n int, hd int, scale float32, s *float32) (mx float32)
TEXT ·attnScores(SB), NOSPLIT, $0-52
	MOVQ         q+0(FP), SI
	MOVQ         k+8(FP), DI
	MOVQ         n+16(FP), CX
	MOVQ         hd+24(FP), R9
	VBROADCASTSS scale+32(FP), X14
	MOVQ         s+40(FP), DX
	MOVQ         R9, R8
	SHLQ         $2, R8
	MOVL         $0xff800000, AX // -Inf: the running maximum in X5
	VMOVD        AX, X5
	VBROADCASTSS X5, X5

scores4:
	CMPQ   CX, $4
	JL     scores1
	LEAQ   (DI)(R8*1), R10
	LEAQ   (R10)(R8*1), R11
	LEAQ   (R11)(R8*1), R12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX
	MOVQ   R9, BX

scores4Loop:
	VMOVUPS     (SI)(AX*1), Y4
	VFMADD231PS (DI)(AX*1), Y4, Y0
	VFMADD231PS (R10)(AX*1), Y4, Y1
	VFMADD231PS (R11)(AX*1), Y4, Y2
	VFMADD231PS (R12)(AX*1), Y4, Y3
	ADDQ        $32, AX
	SUBQ        $8, BX
	JNZ         scores4Loop

	// [Σ0 Σ1 Σ2 Σ3] from the four vectors of sums
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMULPS       X14, X0, X0
	VMOVUPS      X0, (DX)
	VMAXPS       X0, X5, X5
	ADDQ         $16, DX
	LEAQ         (DI)(R8*4), DI
	SUBQ         $4, CX
	JMP          scores4

scores1:
	TESTQ  CX, CX
	JZ     scoresEnd
	VXORPS Y0, Y0, Y0
	XORQ   AX, AX
	MOVQ   R9, BX

scores1Loop:
	VMOVUPS     (SI)(AX*1), Y4
	VFMADD231PS (DI)(AX*1), Y4, Y0
	ADDQ        $32, AX
	SUBQ        $8, BX
	JNZ         scores1Loop

	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMULSS       X14, X0, X0
	VMOVSS       X0, (DX)
	VMAXSS       X0, X5, X5
	ADDQ         $4, DX
	ADDQ         R8, DI
	DECQ         CX
	JMP          scores1

scoresEnd:
	VMOVHLPS  X5, X5, X6
	VMAXPS    X6, X5, X5
	VMOVSHDUP X5, X6
	VMAXSS    X6, X5, X5
	VMOVSS    X5, mx+48(FP)
	VZEROUPPER
	RET

// func attnMix(a *float32, v *float32, n int, hd int, inv float32, y *float32)
// Column chunks of 32, 16 and 8; in each, keys in pairs, one set of sums per key of
// the pair, added at the end.
TEXT ·attnMix(SB), NOSPLIT, $0-48
	MOVQ         v+8(FP), DI
	MOVQ         hd+24(FP), R9
	MOVQ         R9, R8
	SHLQ         $2, R8
	VBROADCASTSS inv+32(FP), Y14
	MOVQ         y+40(FP), DX

mix32:
	CMPQ R9, $32
	JL   mix16
	MOVQ a+0(FP), SI
	MOVQ n+16(FP), CX
	MOVQ DI, R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

mix32Pair:
	CMPQ CX, $2
	JL   mix32One
	VBROADCASTSS (SI), Y12
	VBROADCASTSS 4(SI), Y13
	VFMADD231PS (R10), Y12, Y0
	VFMADD231PS 32(R10), Y12, Y1
	VFMADD231PS 64(R10), Y12, Y2
	VFMADD231PS 96(R10), Y12, Y3
	VFMADD231PS (R10)(R8*1), Y13, Y4
	VFMADD231PS 32(R10)(R8*1), Y13, Y5
	VFMADD231PS 64(R10)(R8*1), Y13, Y6
	VFMADD231PS 96(R10)(R8*1), Y13, Y7
	ADDQ $8, SI
	LEAQ (R10)(R8*2), R10
	SUBQ $2, CX
	JMP  mix32Pair

mix32One:
	TESTQ CX, CX
	JZ    mix32Store
	VBROADCASTSS (SI), Y12
	VFMADD231PS (R10), Y12, Y0
	VFMADD231PS 32(R10), Y12, Y1
	VFMADD231PS 64(R10), Y12, Y2
	VFMADD231PS 96(R10), Y12, Y3

mix32Store:
	VADDPS  Y4, Y0, Y0
	VMULPS  Y14, Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS  Y5, Y1, Y1
	VMULPS  Y14, Y1, Y1
	VMOVUPS Y1, 32(DX)
	VADDPS  Y6, Y2, Y2
	VMULPS  Y14, Y2, Y2
	VMOVUPS Y2, 64(DX)
	VADDPS  Y7, Y3, Y3
	VMULPS  Y14, Y3, Y3
	VMOVUPS Y3, 96(DX)
	ADDQ $128, DX
	ADDQ $128, DI
	SUBQ $32, R9
	JMP  mix32

mix16:
	CMPQ R9, $16
	JL   mix8
	MOVQ a+0(FP), SI
	MOVQ n+16(FP), CX
	MOVQ DI, R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

mix16Pair:
	CMPQ CX, $2
	JL   mix16One
	VBROADCASTSS (SI), Y12
	VBROADCASTSS 4(SI), Y13
	VFMADD231PS (R10), Y12, Y0
	VFMADD231PS 32(R10), Y12, Y1
	VFMADD231PS (R10)(R8*1), Y13, Y2
	VFMADD231PS 32(R10)(R8*1), Y13, Y3
	ADDQ $8, SI
	LEAQ (R10)(R8*2), R10
	SUBQ $2, CX
	JMP  mix16Pair

mix16One:
	TESTQ CX, CX
	JZ    mix16Store
	VBROADCASTSS (SI), Y12
	VFMADD231PS (R10), Y12, Y0
	VFMADD231PS 32(R10), Y12, Y1

mix16Store:
	VADDPS  Y2, Y0, Y0
	VMULPS  Y14, Y0, Y0
	VMOVUPS Y0, (DX)
	VADDPS  Y3, Y1, Y1
	VMULPS  Y14, Y1, Y1
	VMOVUPS Y1, 32(DX)
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, R9
	JMP  mix16

mix8:
	CMPQ R9, $8
	JL   mixEnd
	MOVQ a+0(FP), SI
	MOVQ n+16(FP), CX
	MOVQ DI, R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

mix8Pair:
	CMPQ CX, $2
	JL   mix8One
	VBROADCASTSS (SI), Y12
	VBROADCASTSS 4(SI), Y13
	VFMADD231PS (R10), Y12, Y0
	VFMADD231PS (R10)(R8*1), Y13, Y1
	ADDQ $8, SI
	LEAQ (R10)(R8*2), R10
	SUBQ $2, CX
	JMP  mix8Pair

mix8One:
	TESTQ CX, CX
	JZ    mix8Store
	VBROADCASTSS (SI), Y12
	VFMADD231PS (R10), Y12, Y0

mix8Store:
	VADDPS  Y1, Y0, Y0
	VMULPS  Y14, Y0, Y0
	VMOVUPS Y0, (DX)
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, R9
	JMP  mix8

mixEnd:
	VZEROUPPER
	RET

// SCORES8_STORE turns the sums of 8 keys (8 sums each, in Y0-Y7) into their 8 scores,
// [Σ0 .. Σ7]·scale (scale in Y14), stores them at DX, keeps their maxima in Y15 and
// moves DX, DI (keys of 48 floats) and CX (keys left) past the 8 keys.
#define SCORES8_STORE \
	VHADDPS    Y1, Y0, Y0; \
	VHADDPS    Y3, Y2, Y2; \
	VHADDPS    Y5, Y4, Y4; \
	VHADDPS    Y7, Y6, Y6; \
	VHADDPS    Y2, Y0, Y0; \
	VHADDPS    Y6, Y4, Y4; \
	VPERM2F128 $0x20, Y4, Y0, Y1; \
	VPERM2F128 $0x31, Y4, Y0, Y2; \
	VADDPS     Y2, Y1, Y0; \
	VMULPS     Y14, Y0, Y0; \
	VMOVUPS    Y0, (DX); \
	VMAXPS     Y0, Y15, Y15; \
	ADDQ       $32, DX; \
	ADDQ       $1536, DI; \
	SUBQ       $8, CX;

// func attnScores48(q *float32, k *float32, n int, scale float32, s *float32) (mx float32)
// attnScores for heads of 48 floats, with AVX2: 8 keys at a time, each a chain of 6
// multiply-adds, then one reduction of the 8 keys' sums, as attnScores48z's.
TEXT ·attnScores48(SB), NOSPLIT, $0-44
	MOVQ         q+0(FP), SI
	MOVQ         k+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS scale+24(FP), Y14
	MOVQ         s+32(FP), DX
	VMOVUPS      0(SI), Y8
	VMOVUPS      32(SI), Y9
	VMOVUPS      64(SI), Y10
	VMOVUPS      96(SI), Y11
	VMOVUPS      128(SI), Y12
	VMOVUPS      160(SI), Y13
	MOVL         $0xff800000, AX // -Inf: the running maximum in Y15
	VMOVD        AX, X15
	VBROADCASTSS X15, Y15

scores48x8:
	CMPQ CX, $8
	JL   scores48x1
	VMULPS      0(DI), Y8, Y0
	VMULPS      192(DI), Y8, Y1
	VMULPS      384(DI), Y8, Y2
	VMULPS      576(DI), Y8, Y3
	VMULPS      768(DI), Y8, Y4
	VMULPS      960(DI), Y8, Y5
	VMULPS      1152(DI), Y8, Y6
	VMULPS      1344(DI), Y8, Y7
	VFMADD231PS 32(DI), Y9, Y0
	VFMADD231PS 224(DI), Y9, Y1
	VFMADD231PS 416(DI), Y9, Y2
	VFMADD231PS 608(DI), Y9, Y3
	VFMADD231PS 800(DI), Y9, Y4
	VFMADD231PS 992(DI), Y9, Y5
	VFMADD231PS 1184(DI), Y9, Y6
	VFMADD231PS 1376(DI), Y9, Y7
	VFMADD231PS 64(DI), Y10, Y0
	VFMADD231PS 256(DI), Y10, Y1
	VFMADD231PS 448(DI), Y10, Y2
	VFMADD231PS 640(DI), Y10, Y3
	VFMADD231PS 832(DI), Y10, Y4
	VFMADD231PS 1024(DI), Y10, Y5
	VFMADD231PS 1216(DI), Y10, Y6
	VFMADD231PS 1408(DI), Y10, Y7
	VFMADD231PS 96(DI), Y11, Y0
	VFMADD231PS 288(DI), Y11, Y1
	VFMADD231PS 480(DI), Y11, Y2
	VFMADD231PS 672(DI), Y11, Y3
	VFMADD231PS 864(DI), Y11, Y4
	VFMADD231PS 1056(DI), Y11, Y5
	VFMADD231PS 1248(DI), Y11, Y6
	VFMADD231PS 1440(DI), Y11, Y7
	VFMADD231PS 128(DI), Y12, Y0
	VFMADD231PS 320(DI), Y12, Y1
	VFMADD231PS 512(DI), Y12, Y2
	VFMADD231PS 704(DI), Y12, Y3
	VFMADD231PS 896(DI), Y12, Y4
	VFMADD231PS 1088(DI), Y12, Y5
	VFMADD231PS 1280(DI), Y12, Y6
	VFMADD231PS 1472(DI), Y12, Y7
	VFMADD231PS 160(DI), Y13, Y0
	VFMADD231PS 352(DI), Y13, Y1
	VFMADD231PS 544(DI), Y13, Y2
	VFMADD231PS 736(DI), Y13, Y3
	VFMADD231PS 928(DI), Y13, Y4
	VFMADD231PS 1120(DI), Y13, Y5
	VFMADD231PS 1312(DI), Y13, Y6
	VFMADD231PS 1504(DI), Y13, Y7

	SCORES8_STORE
	JMP        scores48x8

scores48x1:
	TESTQ        CX, CX
	JZ           scores48End
	VMULPS       (DI), Y8, Y0
	VFMADD231PS  32(DI), Y9, Y0
	VFMADD231PS  64(DI), Y10, Y0
	VFMADD231PS  96(DI), Y11, Y0
	VFMADD231PS  128(DI), Y12, Y0
	VFMADD231PS  160(DI), Y13, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMULSS       X14, X0, X0
	VMOVSS       X0, (DX)
	VBROADCASTSS X0, Y1
	VMAXPS       Y1, Y15, Y15
	ADDQ         $4, DX
	ADDQ         $192, DI
	DECQ         CX
	JMP          scores48x1

scores48End:
	VEXTRACTF128 $1, Y15, X6
	VMAXPS       X6, X15, X5
	VMOVHLPS     X5, X5, X6
	VMAXPS       X6, X5, X5
	VMOVSHDUP    X5, X6
	VMAXSS       X6, X5, X5
	VMOVSS       X5, mx+40(FP)
	VZEROUPPER
	RET

// func attnMix48(a *float32, v *float32, n int, inv float32, y *float32)
// attnMix for heads of 48 floats in one pass: keys in pairs, one set of 6 sums a key
// of the pair, added at the end; a last odd key goes to the first set. The same sums
// in the same order as attnMix's passes of 32 and 16 columns.
TEXT ·attnMix48(SB), NOSPLIT, $0-40
	MOVQ         a+0(FP), SI
	MOVQ         v+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS inv+24(FP), Y15
	MOVQ         y+32(FP), DX
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	VXORPS       Y4, Y4, Y4
	VXORPS       Y5, Y5, Y5
	VXORPS       Y6, Y6, Y6
	VXORPS       Y7, Y7, Y7
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9
	VXORPS       Y10, Y10, Y10
	VXORPS       Y11, Y11, Y11

mix48Pair:
	CMPQ         CX, $2
	JL           mix48One
	VBROADCASTSS (SI), Y12
	VBROADCASTSS 4(SI), Y13
	VFMADD231PS  0(DI), Y12, Y0
	VFMADD231PS  32(DI), Y12, Y1
	VFMADD231PS  64(DI), Y12, Y2
	VFMADD231PS  96(DI), Y12, Y3
	VFMADD231PS  128(DI), Y12, Y4
	VFMADD231PS  160(DI), Y12, Y5
	VFMADD231PS  192(DI), Y13, Y6
	VFMADD231PS  224(DI), Y13, Y7
	VFMADD231PS  256(DI), Y13, Y8
	VFMADD231PS  288(DI), Y13, Y9
	VFMADD231PS  320(DI), Y13, Y10
	VFMADD231PS  352(DI), Y13, Y11
	ADDQ         $8, SI
	ADDQ         $384, DI
	SUBQ         $2, CX
	JMP          mix48Pair

mix48One:
	TESTQ        CX, CX
	JZ           mix48Store
	VBROADCASTSS (SI), Y12
	VFMADD231PS  0(DI), Y12, Y0
	VFMADD231PS  32(DI), Y12, Y1
	VFMADD231PS  64(DI), Y12, Y2
	VFMADD231PS  96(DI), Y12, Y3
	VFMADD231PS  128(DI), Y12, Y4
	VFMADD231PS  160(DI), Y12, Y5

mix48Store:
	VADDPS       Y6, Y0, Y0
	VMULPS       Y15, Y0, Y0
	VMOVUPS      Y0, 0(DX)
	VADDPS       Y7, Y1, Y1
	VMULPS       Y15, Y1, Y1
	VMOVUPS      Y1, 32(DX)
	VADDPS       Y8, Y2, Y2
	VMULPS       Y15, Y2, Y2
	VMOVUPS      Y2, 64(DX)
	VADDPS       Y9, Y3, Y3
	VMULPS       Y15, Y3, Y3
	VMOVUPS      Y3, 96(DX)
	VADDPS       Y10, Y4, Y4
	VMULPS       Y15, Y4, Y4
	VMOVUPS      Y4, 128(DX)
	VADDPS       Y11, Y5, Y5
	VMULPS       Y15, Y5, Y5
	VMOVUPS      Y5, 160(DX)
	VZEROUPPER
	RET

// func layerNormSIMD(y *float32, x *float32, w *float32, b *float32, d int)
// One row: float32 sums in 8 lanes; y = (x - mean)·rstd·w + b.
TEXT ·layerNormSIMD(SB), NOSPLIT, $0-40
	MOVQ   y+0(FP), DX
	MOVQ   x+8(FP), SI
	MOVQ   w+16(FP), R10
	MOVQ   b+24(FP), R11
	MOVQ   d+32(FP), R9
	VXORPS Y0, Y0, Y0
	XORQ   AX, AX
	MOVQ   R9, CX

lnSum:
	VADDPS (SI)(AX*1), Y0, Y0
	ADDQ   $32, AX
	SUBQ   $8, CX
	JNZ    lnSum

	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VCVTSI2SSQ   R9, X3, X3
	VDIVSS       X3, X0, X0
	VBROADCASTSS X0, Y2
	VXORPS       Y0, Y0, Y0
	XORQ         AX, AX
	MOVQ         R9, CX

lnVar:
	VMOVUPS     (SI)(AX*1), Y1
	VSUBPS      Y2, Y1, Y1
	VFMADD231PS Y1, Y1, Y0
	ADDQ        $32, AX
	SUBQ        $8, CX
	JNZ         lnVar

	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VDIVSS       X3, X0, X0
	MOVL         $0x3727c5ac, AX // 1e-5
	VMOVD        AX, X4
	VADDSS       X4, X0, X0
	VSQRTSS      X0, X0, X0
	MOVL         $0x3f800000, AX // 1
	VMOVD        AX, X4
	VDIVSS       X0, X4, X0
	VBROADCASTSS X0, Y3
	XORQ         AX, AX
	MOVQ         R9, CX

lnOut:
	VMOVUPS     (SI)(AX*1), Y1
	VSUBPS      Y2, Y1, Y1
	VMULPS      Y3, Y1, Y1
	VMOVUPS     (R11)(AX*1), Y4
	VFMADD231PS (R10)(AX*1), Y1, Y4
	VMOVUPS     Y4, (DX)(AX*1)
	ADDQ        $32, AX
	SUBQ        $8, CX
	JNZ         lnOut

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

// The AVX-512 kernels: the same sums as the AVX2 ones (one chain of fused multiply-adds
// per output, in input order, from the bias) on panels of 48 outputs (three ZMM).

// func gemm8x48z(x *float32, ldx int, p *float32, k int, bias *float32, y *float32, ldy int)
TEXT ·gemm8x48z(SB), NOSPLIT, $0-56
	GEMM4X48Z_START
	GEMM8X48Z_MORE_SUMS

loop8z:
	VMOVUPS (DI), Z24
	VMOVUPS 64(DI), Z25
	VMOVUPS 128(DI), Z26
	GEMM4X48Z_FMA
	GEMM8X48Z_FMA_MORE
	ADDQ    $4, SI
	ADDQ    $4, R11
	ADDQ    $192, DI
	DECQ    CX
	JNZ     loop8z

	GEMM4X48Z_STORE
	GEMM8X48Z_STORE_MORE
	VZEROUPPER
	RET

// func gemm4x48z(x *float32, ldx int, p *float32, k int, bias *float32, y *float32, ldy int)
TEXT ·gemm4x48z(SB), NOSPLIT, $0-56
	GEMM4X48Z_START

loop4z:
	VMOVUPS (DI), Z24
	VMOVUPS 64(DI), Z25
	VMOVUPS 128(DI), Z26
	GEMM4X48Z_FMA
	ADDQ    $4, SI
	ADDQ    $192, DI
	DECQ    CX
	JNZ     loop4z

	GEMM4X48Z_STORE
	VZEROUPPER
	RET

// func gemm1x48z(x *float32, p *float32, k int, bias *float32, y *float32)
TEXT ·gemm1x48z(SB), NOSPLIT, $0-40
	GEMM1X48Z_START

loop1z:
	VBROADCASTSS (SI), Z15
	VFMADD231PS  (DI), Z15, Z0
	VFMADD231PS  64(DI), Z15, Z1
	VFMADD231PS  128(DI), Z15, Z2
	ADDQ         $4, SI
	ADDQ         $192, DI
	DECQ         CX
	JNZ          loop1z

	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VZEROUPPER
	RET

// func gemm1x192z(x *float32, p *float32, ps int, k int, bias *float32, y *float32)
TEXT ·gemm1x192z(SB), NOSPLIT, $0-48
	GEMM1X192Z_START(2)

loop192z:
	VBROADCASTSS (SI), Z15
	VFMADD231PS  (DI), Z15, Z0
	VFMADD231PS  64(DI), Z15, Z1
	VFMADD231PS  128(DI), Z15, Z2
	VFMADD231PS  (R10), Z15, Z3
	VFMADD231PS  64(R10), Z15, Z4
	VFMADD231PS  128(R10), Z15, Z5
	VFMADD231PS  (R11), Z15, Z6
	VFMADD231PS  64(R11), Z15, Z7
	VFMADD231PS  128(R11), Z15, Z8
	VFMADD231PS  (R12), Z15, Z9
	VFMADD231PS  64(R12), Z15, Z10
	VFMADD231PS  128(R12), Z15, Z11
	ADDQ         $4, SI
	ADDQ         $192, DI
	ADDQ         $192, R10
	ADDQ         $192, R11
	ADDQ         $192, R12
	DECQ         CX
	JNZ          loop192z

	GEMM1X192Z_STORE_RET

// The AVX-512 float16 kernels: gemm8x48z, gemm4x48z, gemm1x48z and gemm1x192z over
// panels of float16 weights (VCVTPH2PS widens them exactly), as the AVX2 ones.

// func gemm8x48zh(x *float32, ldx int, p *uint16, k int, bias *float32, y *float32, ldy int)
TEXT ·gemm8x48zh(SB), NOSPLIT, $0-56
	GEMM4X48Z_START
	GEMM8X48Z_MORE_SUMS

loop8zh:
	VCVTPH2PS (DI), Z24
	VCVTPH2PS 32(DI), Z25
	VCVTPH2PS 64(DI), Z26
	GEMM4X48Z_FMA
	GEMM8X48Z_FMA_MORE
	ADDQ      $4, SI
	ADDQ      $4, R11
	ADDQ      $96, DI
	DECQ      CX
	JNZ       loop8zh

	GEMM4X48Z_STORE
	GEMM8X48Z_STORE_MORE
	VZEROUPPER
	RET

// func gemm4x48zh(x *float32, ldx int, p *uint16, k int, bias *float32, y *float32, ldy int)
TEXT ·gemm4x48zh(SB), NOSPLIT, $0-56
	GEMM4X48Z_START

loop4zh:
	VCVTPH2PS (DI), Z24
	VCVTPH2PS 32(DI), Z25
	VCVTPH2PS 64(DI), Z26
	GEMM4X48Z_FMA
	ADDQ      $4, SI
	ADDQ      $96, DI
	DECQ      CX
	JNZ       loop4zh

	GEMM4X48Z_STORE
	VZEROUPPER
	RET

// func gemm1x48zh(x *float32, p *uint16, k int, bias *float32, y *float32)
TEXT ·gemm1x48zh(SB), NOSPLIT, $0-40
	GEMM1X48Z_START

loop1zh:
	VBROADCASTSS (SI), Z15
	VCVTPH2PS    (DI), Z24
	VCVTPH2PS    32(DI), Z25
	VCVTPH2PS    64(DI), Z26
	VFMADD231PS  Z24, Z15, Z0
	VFMADD231PS  Z25, Z15, Z1
	VFMADD231PS  Z26, Z15, Z2
	ADDQ         $4, SI
	ADDQ         $96, DI
	DECQ         CX
	JNZ          loop1zh

	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VZEROUPPER
	RET

// func gemm1x192zh(x *float32, p *uint16, ps int, k int, bias *float32, y *float32)
TEXT ·gemm1x192zh(SB), NOSPLIT, $0-48
	GEMM1X192Z_START(1)

loop192zh:
	VBROADCASTSS (SI), Z15
	VCVTPH2PS    (DI), Z16
	VFMADD231PS  Z16, Z15, Z0
	VCVTPH2PS    32(DI), Z17
	VFMADD231PS  Z17, Z15, Z1
	VCVTPH2PS    64(DI), Z18
	VFMADD231PS  Z18, Z15, Z2
	VCVTPH2PS    (R10), Z19
	VFMADD231PS  Z19, Z15, Z3
	VCVTPH2PS    32(R10), Z20
	VFMADD231PS  Z20, Z15, Z4
	VCVTPH2PS    64(R10), Z21
	VFMADD231PS  Z21, Z15, Z5
	VCVTPH2PS    (R11), Z22
	VFMADD231PS  Z22, Z15, Z6
	VCVTPH2PS    32(R11), Z23
	VFMADD231PS  Z23, Z15, Z7
	VCVTPH2PS    64(R11), Z24
	VFMADD231PS  Z24, Z15, Z8
	VCVTPH2PS    (R12), Z25
	VFMADD231PS  Z25, Z15, Z9
	VCVTPH2PS    32(R12), Z26
	VFMADD231PS  Z26, Z15, Z10
	VCVTPH2PS    64(R12), Z27
	VFMADD231PS  Z27, Z15, Z11
	ADDQ         $4, SI
	ADDQ         $96, DI
	ADDQ         $96, R10
	ADDQ         $96, R11
	ADDQ         $96, R12
	DECQ         CX
	JNZ          loop192zh

	GEMM1X192Z_STORE_RET

// func attnScores48z(q *float32, k *float32, n int, scale float32, s *float32) (mx float32)
// Heads of 48 with AVX-512: 8 keys at a time, each key's 48 products in one
// vector of 16 sums (3 multiply-adds), then the 8 vectors reduced together.
TEXT ·attnScores48z(SB), NOSPLIT, $0-44
	MOVQ         q+0(FP), SI
	MOVQ         k+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS scale+24(FP), Y14
	MOVQ         s+32(FP), DX
	VMOVUPS      (SI), Z28
	VMOVUPS      64(SI), Z29
	VMOVUPS      128(SI), Z30
	MOVL         $0xff800000, AX // -Inf: the running maxima, of 8 keys in Y15 and of single keys in X13
	VMOVD        AX, X15
	VBROADCASTSS X15, Y15
	VMOVAPS      X15, X13

scores48z8:
	CMPQ CX, $8
	JL   scores48z1
	VMULPS      0(DI), Z28, Z0
	VMULPS      192(DI), Z28, Z1
	VMULPS      384(DI), Z28, Z2
	VMULPS      576(DI), Z28, Z3
	VMULPS      768(DI), Z28, Z4
	VMULPS      960(DI), Z28, Z5
	VMULPS      1152(DI), Z28, Z6
	VMULPS      1344(DI), Z28, Z7
	VFMADD231PS 64(DI), Z29, Z0
	VFMADD231PS 256(DI), Z29, Z1
	VFMADD231PS 448(DI), Z29, Z2
	VFMADD231PS 640(DI), Z29, Z3
	VFMADD231PS 832(DI), Z29, Z4
	VFMADD231PS 1024(DI), Z29, Z5
	VFMADD231PS 1216(DI), Z29, Z6
	VFMADD231PS 1408(DI), Z29, Z7
	VFMADD231PS 128(DI), Z30, Z0
	VFMADD231PS 320(DI), Z30, Z1
	VFMADD231PS 512(DI), Z30, Z2
	VFMADD231PS 704(DI), Z30, Z3
	VFMADD231PS 896(DI), Z30, Z4
	VFMADD231PS 1088(DI), Z30, Z5
	VFMADD231PS 1280(DI), Z30, Z6
	VFMADD231PS 1472(DI), Z30, Z7

	// 16 sums a key -> 8
	VEXTRACTF64X4 $1, Z0, Y8
	VADDPS        Y8, Y0, Y0
	VEXTRACTF64X4 $1, Z1, Y9
	VADDPS        Y9, Y1, Y1
	VEXTRACTF64X4 $1, Z2, Y10
	VADDPS        Y10, Y2, Y2
	VEXTRACTF64X4 $1, Z3, Y11
	VADDPS        Y11, Y3, Y3
	VEXTRACTF64X4 $1, Z4, Y8
	VADDPS        Y8, Y4, Y4
	VEXTRACTF64X4 $1, Z5, Y9
	VADDPS        Y9, Y5, Y5
	VEXTRACTF64X4 $1, Z6, Y10
	VADDPS        Y10, Y6, Y6
	VEXTRACTF64X4 $1, Z7, Y11
	VADDPS        Y11, Y7, Y7

	SCORES8_STORE
	JMP        scores48z8

scores48z1:
	TESTQ         CX, CX
	JZ            scores48zEnd
	VMULPS        (DI), Z28, Z0
	VFMADD231PS   64(DI), Z29, Z0
	VFMADD231PS   128(DI), Z30, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	VMULSS        X14, X0, X0
	VMOVSS        X0, (DX)
	VMAXSS        X0, X13, X13
	ADDQ          $4, DX
	ADDQ          $192, DI
	DECQ          CX
	JMP           scores48z1

scores48zEnd:
	VEXTRACTF128 $1, Y15, X6
	VMAXPS       X6, X15, X5
	VMOVHLPS     X5, X5, X6
	VMAXPS       X6, X5, X5
	VMOVSHDUP    X5, X6
	VMAXSS       X6, X5, X5
	VMAXSS       X13, X5, X5
	VMOVSS       X5, mx+40(FP)
	VZEROUPPER
	RET

// func attnMix48z(a *float32, v *float32, n int, inv float32, y *float32)
// Heads of 48 with AVX-512: 4 keys at a time, one set of 3 sums a key of the four,
// the sets added at the end ((0+1)+(2+3)); the last n%4 keys go to the first set.
TEXT ·attnMix48z(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ v+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ y+32(FP), DX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11

mix48z4:
	CMPQ         CX, $4
	JL           mix48z1
	VBROADCASTSS (SI), Z12
	VBROADCASTSS 4(SI), Z13
	VBROADCASTSS 8(SI), Z14
	VBROADCASTSS 12(SI), Z15
	VFMADD231PS  0(DI), Z12, Z0
	VFMADD231PS  64(DI), Z12, Z1
	VFMADD231PS  128(DI), Z12, Z2
	VFMADD231PS  192(DI), Z13, Z3
	VFMADD231PS  256(DI), Z13, Z4
	VFMADD231PS  320(DI), Z13, Z5
	VFMADD231PS  384(DI), Z14, Z6
	VFMADD231PS  448(DI), Z14, Z7
	VFMADD231PS  512(DI), Z14, Z8
	VFMADD231PS  576(DI), Z15, Z9
	VFMADD231PS  640(DI), Z15, Z10
	VFMADD231PS  704(DI), Z15, Z11
	ADDQ         $16, SI
	ADDQ         $768, DI
	SUBQ         $4, CX
	JMP          mix48z4

mix48z1:
	TESTQ        CX, CX
	JZ           mix48zEnd
	VBROADCASTSS (SI), Z12
	VFMADD231PS  (DI), Z12, Z0
	VFMADD231PS  64(DI), Z12, Z1
	VFMADD231PS  128(DI), Z12, Z2
	ADDQ         $4, SI
	ADDQ         $192, DI
	DECQ         CX
	JMP          mix48z1

mix48zEnd:
	VADDPS       Z3, Z0, Z0
	VADDPS       Z9, Z6, Z6
	VADDPS       Z6, Z0, Z0
	VADDPS       Z4, Z1, Z1
	VADDPS       Z10, Z7, Z7
	VADDPS       Z7, Z1, Z1
	VADDPS       Z5, Z2, Z2
	VADDPS       Z11, Z8, Z8
	VADDPS       Z8, Z2, Z2
	VBROADCASTSS inv+24(FP), Z12
	VMULPS       Z12, Z0, Z0
	VMOVUPS      Z0, 0(DX)
	VMULPS       Z12, Z1, Z1
	VMOVUPS      Z1, 64(DX)
	VMULPS       Z12, Z2, Z2
	VMOVUPS      Z2, 128(DX)
	VZEROUPPER
	RET
