;; @fileoverview WebAssembly kernels for the simulator's tile reads (xbarc crossbar spec; Diware, Yaldagard, Bishnoi,
;; ICCAD 2024, §2.2.2: bit-sliced weights, bit-serial inputs, ADC, shift-and-add). Compiled at build time by
;; packages/backend-sim/scripts/build-wasm.mjs (wabt, features simd + bulk memory) into kernels.generated.ts, after
;; replacing each `;; @insert <family>` line with that family's specialised kernels (or function-body fragment), unrolled by the templates in
;; packages/backend-sim/scripts/wat-kernels.mjs (so this file alone is not the whole module).
;;
;; The module owns no layout: the TypeScript wrappers (src/sim/wasm/*.ts) place every array in the exported memory
;; and pass byte addresses. All three kernels are bit-identical to the plain TypeScript reference they name:
;;   pack_inputs + read_int  = bitSerialReadImpl(noiseSigma = 0) for integer level-index cells (kernel a); read_c<cb>
;;                             and read_c<cb>w<W> compute the same, specialised for 1..4-bit cells (and 1-bit DAC
;;                             steps with ≤ 128 rows), which is where the time goes; read_sparse computes the
;;                             same from the non-zero input digits only (i16x8 sums of level rows), its cost scaling
;;                             with them: WasmIntegerCellTile counts them per call (count_active) and runs whichever
;;                             kernel its measured cost model expects to be faster (kernel a, sparse form, at the end)
;;   read_float              = bitSerialReadImpl(noiseSigma = 0) for any finite cells           (kernel b); read_float32
;;                             computes the same from f32 column sums, recomputing in f64 the rare ones too close
;;                             to a rounding boundary to decide (exact by a rounding-error bound per column)
;;   mvm (= narrow_inputs + mvm_i16) = integerMvmImpl for integer weights whose worst-case sum fits i32 (kernel c);
;;                             mvm_i16_pairs computes mvm_i16's fused sums from each vector's non-zero row pairs;
;;                             conv_i16 gives a stride-1 convolution tile's same sums from its padded input, without
;;                             the im2col (pad_inputs pads it; gather_padded gathers from it for either path,
;;                             gather_padded_i16 for mvm_i16 eight positions at a time)
;; Per 128×128 tile of 8-bit weights (512 physical 2-bit columns, 8 input bit-planes) read_c2w2 does 512·8·4 AND +
;; popcnt on i64 words. SIMD does not help there: i8x16.popcnt has no x64 instruction below AVX-512 BITALG, and V8
;; emulates it with byte shuffles (~9 instructions per 128 bits against two scalar popcnt).
(module
  (memory (export "memory") 1)

  ;; ---------------------------------------------------------------------------------------------------------------
  ;; Kernel (a), phase 2a: pack_inputs(x, outer, rows, planes, words, dst)
  ;; x: i32 [outer, rows] offset-encoded crossbar inputs x_u. dst: i64 [outer, planes, words]; bit r of plane i of
  ;; vector o is bit i of x_u[o, r] read as an unsigned 32-bit word (JS `x >>> i & 1`), for i < planes (≤ 32).
  ;; Only set bits are visited (MNIST inputs are mostly 0).
  (func (export "pack_inputs")
    (param $x i32) (param $outer i32) (param $rows i32) (param $planes i32) (param $words i32) (param $dst i32)
    (local $mask i32) (local $vecBytes i32) (local $o i32) (local $r i32) (local $v i32) (local $base i32)
    (local $addr i32) (local $rowWord i32) (local $rowBit i64)
    (local.set $mask
      (select (i32.const -1)
              (i32.sub (i32.shl (i32.const 1) (local.get $planes)) (i32.const 1))
              (i32.ge_u (local.get $planes) (i32.const 32))))
    (local.set $vecBytes (i32.shl (i32.mul (local.get $planes) (local.get $words)) (i32.const 3)))
    (memory.fill (local.get $dst) (i32.const 0) (i32.mul (local.get $outer) (local.get $vecBytes)))
    (local.set $base (local.get $dst))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $r (i32.const 0))
        (block $doneR
          (loop $loopR
            (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $v (i32.and (i32.load (local.get $x)) (local.get $mask)))
            (local.set $rowWord (i32.shl (i32.shr_u (local.get $r) (i32.const 6)) (i32.const 3)))
            (local.set $rowBit (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $r))))
            (block $doneBits
              (loop $loopBits
                (br_if $doneBits (i32.eqz (local.get $v)))
                ;; plane = ctz(v): address of (plane, word r/64)
                (local.set $addr
                  (i32.add (local.get $base)
                    (i32.add (i32.shl (i32.mul (i32.ctz (local.get $v)) (local.get $words)) (i32.const 3))
                             (local.get $rowWord))))
                (i64.store (local.get $addr) (i64.or (i64.load (local.get $addr)) (local.get $rowBit)))
                (local.set $v (i32.and (local.get $v) (i32.sub (local.get $v) (i32.const 1))))
                (br $loopBits)))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $loopR)))
        (local.set $base (i32.add (local.get $base) (local.get $vecBytes)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO))))

  ;; ---------------------------------------------------------------------------------------------------------------
  ;; Kernel (a), phase 2b: read_int(g, physCols, cellBits, words, xp, outer, steps, dacBits, lut, out) — the general
  ;; kernel, one column at a time with a loop over the cell bits (the wrapper uses it for cell widths 5..8; the
  ;; specialised read_c* below compute the same for 1..4-bit cells, four columns per pass).
  ;; g: i64 [physCols/4, words, 4, cellBits] — the tile packed once, in blocks of four columns (physCols a multiple
  ;;   of 4; padding columns all 0): bit r of word (c, w, b) is bit b of column c's level index at row 64·w + r
  ;;   (cellBits 1..8). Word (c, w, b) is at byte ((c >> 2)·words + w)·32·cellBits + (c & 3)·8·cellBits + 8·b.
  ;; xp: i64 [outer, steps·dacBits, words] from pack_inputs.
  ;; lut: i32 [maxSum + 1], ADC code of each integer column sum I (maxSum = rows·(2^dacBits − 1)·(2^cellBits − 1)).
  ;; out: f64 [outer, physCols] (physCols counting the padding columns):
  ;;   out[o, c] = Σ_t 2^(t·db) · lut[Σ_j 2^j Σ_b 2^b popcnt(X[o, t·db + j] & G[c, b])]
  ;; shift-added in an i64 register and converted once; exact (so equal to the float64 reference) while every
  ;; |out| < 2^53, which the wrapper checks when it builds the table.
  (func (export "read_int")
    (param $g i32) (param $physCols i32) (param $cellBits i32) (param $words i32) (param $xp i32) (param $outer i32)
    (param $steps i32) (param $dacBits i32) (param $lut i32) (param $out i32)
    (local $o i32) (local $c i32) (local $t i32) (local $j i32)
    (local $colBytes i32) (local $planeBytes i32) (local $vecBytes i32) (local $xVec i32) (local $gCol i32)
    (local $xPlane i32) (local $xw i32) (local $gw i32) (local $cellStride i32) (local $wordStride i32) (local $xEnd i32) (local $b i32)
    (local $acc i64) (local $sum i64) (local $s i64) (local $x i64) (local $shift i64)
    (local.set $cellStride (i32.shl (local.get $cellBits) (i32.const 3)))
    (local.set $wordStride (i32.shl (local.get $cellStride) (i32.const 2)))
    (local.set $colBytes (i32.mul (local.get $wordStride) (local.get $words)))
    (local.set $planeBytes (i32.shl (local.get $words) (i32.const 3)))
    (local.set $vecBytes (i32.mul (local.get $planeBytes) (i32.mul (local.get $steps) (local.get $dacBits))))
    (local.set $xVec (local.get $xp))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $c (i32.const 0))
        (block $doneC
          (loop $loopC
            (br_if $doneC (i32.ge_u (local.get $c) (local.get $physCols)))
            (local.set $gCol (i32.add (local.get $g) (i32.add
              (i32.mul (i32.shr_u (local.get $c) (i32.const 2)) (local.get $colBytes))
              (i32.mul (i32.and (local.get $c) (i32.const 3)) (local.get $cellStride)))))
            (local.set $acc (i64.const 0))
            (local.set $xPlane (local.get $xVec))
            (local.set $t (i32.const 0))
            (local.set $shift (i64.const 0))
            (block $doneT
              (loop $loopT
                (br_if $doneT (i32.ge_u (local.get $t) (local.get $steps)))
                (local.set $sum (i64.const 0))
                (local.set $j (i32.const 0))
                (block $doneJ
                  (loop $loopJ
                    (br_if $doneJ (i32.ge_u (local.get $j) (local.get $dacBits)))
                    (local.set $s (i64.const 0))
                    (local.set $xw (local.get $xPlane))
                    (local.set $xEnd (i32.add (local.get $xPlane) (local.get $planeBytes)))
                    (local.set $gw (local.get $gCol))
                    ;; s = Σ_w Σ_{b < cellBits} popcnt(x_w & G_{w,b}) << b
                    (loop $wN
                      (local.set $x (i64.load (local.get $xw)))
                      (local.set $b (i32.const 0))
                      (loop $bN
                        (local.set $s (i64.add (local.get $s)
                          (i64.shl (i64.popcnt (i64.and (local.get $x) (i64.load (local.get $gw)))) (i64.extend_i32_u (local.get $b)))))
                        (local.set $gw (i32.add (local.get $gw) (i32.const 8)))
                        (local.set $b (i32.add (local.get $b) (i32.const 1)))
                        (br_if $bN (i32.lt_u (local.get $b) (local.get $cellBits))))
                      ;; on to the next word of this column: past the other three columns of the block
                      (local.set $gw (i32.add (local.get $gw) (i32.mul (local.get $cellStride) (i32.const 3))))
                      (local.set $xw (i32.add (local.get $xw) (i32.const 8)))
                      (br_if $wN (i32.lt_u (local.get $xw) (local.get $xEnd))))
                    (local.set $sum (i64.add (local.get $sum) (i64.shl (local.get $s) (i64.extend_i32_u (local.get $j)))))
                    (local.set $xPlane (i32.add (local.get $xPlane) (local.get $planeBytes)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $loopJ)))
                ;; ADC: code = lut[I]; shift-add: acc += code · 2^(t·db)
                (local.set $acc (i64.add (local.get $acc)
                  (i64.shl
                    (i64.extend_i32_s (i32.load (i32.add (local.get $lut) (i32.shl (i32.wrap_i64 (local.get $sum)) (i32.const 2)))))
                    (local.get $shift))))
                (local.set $shift (i64.add (local.get $shift) (i64.extend_i32_u (local.get $dacBits))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $loopT)))
            (f64.store (local.get $out) (f64.convert_i64_s (local.get $acc)))
            (local.set $out (i32.add (local.get $out) (i32.const 8)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $loopC)))
        (local.set $xVec (i32.add (local.get $xVec) (local.get $vecBytes)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO))))

  ;; Kernel (a), phase 2b, for 1..4-bit cells and any DAC width: read_c<cb>(g, blocks, words, xp, outer, steps, dacBits,
  ;; lut, out) — the same result as read_int(g, 4·blocks, cb, words, xp, outer, steps, dacBits, lut, out), four columns
  ;; per pass: each input word is loaded once and ANDed with the four columns' cell-bit words at constant offsets (the
  ;; cell bits unrolled, no per-plane dispatch), the four column sums and shift-add accumulators in locals. Planes run
  ;; from the last down, so both the DAC bits of a step (I = 2·I + plane sum) and the steps (acc = 2^dacBits·acc +
  ;; lut[I]) combine by Horner's rule with constant shifts; all integer, exact, so the order is free.
  ;; The four functions (cb = 1..4) are generated at build time from blockReadKernel in scripts/wat-kernels.mjs:
  ;; @insert block-read-kernels

  ;; Kernel (a), phase 2b, for the common case — 1-bit DAC steps, 1..4-bit cells, at most 128 rows (1 or 2 words):
  ;; read_c<cb>w<W>(g, blocks, xp, outer, steps, lut, out) = read_int(g, 4·blocks, cb, W, xp, outer, steps, 1, lut, out).
  ;; One column at a time with its cb·W cell-bit words held in locals (registers) through all steps, so the inner
  ;; loop only loads the step's W input words: I = Σ_b 2^b Σ_w popcnt(x_w & g_wb), acc = 2·acc + lut[I] (Horner's rule
  ;; from the last step down).
  ;; The eight functions (cb = 1..4, W = 1..2) are generated at build time from registerReadKernel in
  ;; scripts/wat-kernels.mjs:
  ;; @insert register-read-kernels

  ;; ---------------------------------------------------------------------------------------------------------------
  ;; Kernel (b): read_float(cells, stride, xu, outer, rows, steps, dacBits, adcMin, adcMax, counts, idx, vals, sums, out)
  ;; cells: f64 [rows, stride] (stride = physCols rounded up to a multiple of 12, padding columns 0): twelve columns per
  ;; pass in six f64x2 accumulators (six independent add chains; more would spill to the stack), each block of
  ;; columns through all steps while its cells are in the L1 cache.
  ;; xu: i32 [outer, rows]. Scratch: counts i32 [steps], idx i32 [steps, rows], vals f64 [steps, rows], sums f64 [12].
  ;; out: f64 [outer, stride]. Same as bitSerialReadImpl with noiseSigma = 0, to the bit:
  ;;   I[t, c] = Σ_r v_t[r]·G[r, c] over the rows with v_t[r] = (x_u[r] >>> t·db) & (2^db − 1) ≠ 0, ascending r,
  ;;   each term one f64 multiply then one f64 add (f64x2 lanes round like scalar JS; wasm has no implicit FMA);
  ;;   code = clamp(Math.round(I), adcMin, adcMax) with Math.round(I) = floor(I) + (I − floor(I) ≥ 0.5) (I − floor(I)
  ;;   is exact); out[o, c] = (((+0) + 2^0·code_0) + 2^db·code_1) + … in step order.
  ;; A JS code of −0 (Math.round of [−0.5, −0)) comes out +0 here; both add to `out` (which starts at +0) alike.
  (func (export "read_float")
    (param $cells i32) (param $stride i32) (param $xu i32) (param $outer i32) (param $rows i32) (param $steps i32)
    (param $dacBits i32) (param $adcMin f64) (param $adcMax f64) (param $counts i32) (param $idx i32) (param $vals i32)
    (param $sums i32) (param $out i32)
    (local $o i32) (local $r i32) (local $t i32) (local $k i32) (local $n i32) (local $x i32) (local $v i32)
    (local $mask i32) (local $cb i32) (local $p i32) (local $q i32) (local $rowBytes i32) (local $listBase i32)
    (local $outRow i32) (local $slot i32) (local $kEnd i32) (local $zeroReadsZero i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128)
    (local $vv v128) (local $weight v128) (local $f v128) (local $code v128)
    (local $minV v128) (local $maxV v128)
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $dacBits)) (i32.const 1)))
    (local.set $rowBytes (i32.shl (local.get $stride) (i32.const 3)))
    (local.set $zeroReadsZero (i32.and (f64.le (local.get $adcMin) (f64.const 0)) (f64.ge (local.get $adcMax) (f64.const 0))))
    (local.set $minV (f64x2.splat (local.get $adcMin)))
    (local.set $maxV (f64x2.splat (local.get $adcMax)))
    (local.set $outRow (local.get $out))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        ;; the rows each step drives at a non-zero DAC value, ascending, with that value (byte offset of the row kept)
        (memory.fill (local.get $counts) (i32.const 0) (i32.shl (local.get $steps) (i32.const 2)))
        (local.set $r (i32.const 0))
        (block $doneR
          (loop $loopR
            (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $x (i32.load (local.get $xu)))
            (local.set $xu (i32.add (local.get $xu) (i32.const 4)))
            (if (local.get $x)
              (then
                (local.set $t (i32.const 0))
                (block $doneT
                  (loop $loopT
                    (br_if $doneT (i32.ge_u (local.get $t) (local.get $steps)))
                    (local.set $v (i32.and (i32.shr_u (local.get $x) (i32.mul (local.get $t) (local.get $dacBits))) (local.get $mask)))
                    (if (local.get $v)
                      (then
                        (local.set $k (i32.load (i32.add (local.get $counts) (i32.shl (local.get $t) (i32.const 2)))))
                        (local.set $slot (i32.add (i32.mul (local.get $t) (local.get $rows)) (local.get $k)))
                        (i32.store (i32.add (local.get $idx) (i32.shl (local.get $slot) (i32.const 2)))
                                   (i32.mul (local.get $r) (local.get $rowBytes)))
                        (f64.store (i32.add (local.get $vals) (i32.shl (local.get $slot) (i32.const 3)))
                                   (f64.convert_i32_u (local.get $v)))
                        (i32.store (i32.add (local.get $counts) (i32.shl (local.get $t) (i32.const 2)))
                                   (i32.add (local.get $k) (i32.const 1)))))
                    (local.set $t (i32.add (local.get $t) (i32.const 1)))
                    (br $loopT)))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $loopR)))
        (memory.fill (local.get $outRow) (i32.const 0) (local.get $rowBytes))
        ;; a block of twelve columns at a time through all steps: the block's cells (rows × 96 bytes) stay in the L1
        ;; cache across the steps, and each column still gets its steps in ascending order
        (local.set $cb (i32.const 0))
        (block $doneCB
          (loop $loopCB
            (br_if $doneCB (i32.ge_u (local.get $cb) (local.get $stride)))
            (local.set $t (i32.const 0))
            (block $doneT2
              (loop $loopT2
                (br_if $doneT2 (i32.ge_u (local.get $t) (local.get $steps)))
                ;; 2^(t·db) exactly (t·db ≤ 31, checked by the wrapper)
                (local.set $weight (f64x2.splat (f64.convert_i64_u (i64.shl (i64.const 1)
                  (i64.extend_i32_u (i32.mul (local.get $t) (local.get $dacBits)))))))
                (local.set $n (i32.load (i32.add (local.get $counts) (i32.shl (local.get $t) (i32.const 2)))))
                ;; a step that drives no row reads 0 on every column; when the ADC converts 0 to 0 it adds nothing to
                ;; `out` (which never holds −0), so the step is skipped — same result, far fewer conversions on sparse inputs
                (if (i32.and (i32.eqz (local.get $n)) (local.get $zeroReadsZero))
                  (then
                    (local.set $t (i32.add (local.get $t) (i32.const 1)))
                    (br $loopT2)))
                (local.set $listBase (i32.mul (local.get $t) (local.get $rows)))
                (local.set $a0 (v128.const i64x2 0 0))
                (local.set $a1 (v128.const i64x2 0 0))
                (local.set $a2 (v128.const i64x2 0 0))
                (local.set $a3 (v128.const i64x2 0 0))
                (local.set $a4 (v128.const i64x2 0 0))
                (local.set $a5 (v128.const i64x2 0 0))
                (local.set $p (i32.add (local.get $cells) (i32.shl (local.get $cb) (i32.const 3))))
                (local.set $k (local.get $listBase))
                (local.set $kEnd (i32.add (local.get $listBase) (local.get $n)))
                (if (i32.eq (local.get $dacBits) (i32.const 1))
                  (then
                    ;; 1-bit DAC: every listed value is 1 and 1·G = G exactly, so the multiply is skipped
                    (block $doneK1
                      (loop $loopK1
                        (br_if $doneK1 (i32.ge_u (local.get $k) (local.get $kEnd)))
                        (local.set $q (i32.add (local.get $p)
                          (i32.load (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2))))))
                        (local.set $a0 (f64x2.add (local.get $a0) (v128.load offset=0 (local.get $q))))
                        (local.set $a1 (f64x2.add (local.get $a1) (v128.load offset=16 (local.get $q))))
                        (local.set $a2 (f64x2.add (local.get $a2) (v128.load offset=32 (local.get $q))))
                        (local.set $a3 (f64x2.add (local.get $a3) (v128.load offset=48 (local.get $q))))
                        (local.set $a4 (f64x2.add (local.get $a4) (v128.load offset=64 (local.get $q))))
                        (local.set $a5 (f64x2.add (local.get $a5) (v128.load offset=80 (local.get $q))))
                        (local.set $k (i32.add (local.get $k) (i32.const 1)))
                        (br $loopK1))))
                  (else
                    (block $doneK
                      (loop $loopK
                        (br_if $doneK (i32.ge_u (local.get $k) (local.get $kEnd)))
                        (local.set $q (i32.add (local.get $p)
                          (i32.load (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2))))))
                        (local.set $vv (v128.load64_splat (i32.add (local.get $vals) (i32.shl (local.get $k) (i32.const 3)))))
                        (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $vv) (v128.load offset=0 (local.get $q)))))
                        (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $vv) (v128.load offset=16 (local.get $q)))))
                        (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $vv) (v128.load offset=32 (local.get $q)))))
                        (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $vv) (v128.load offset=48 (local.get $q)))))
                        (local.set $a4 (f64x2.add (local.get $a4) (f64x2.mul (local.get $vv) (v128.load offset=64 (local.get $q)))))
                        (local.set $a5 (f64x2.add (local.get $a5) (f64x2.mul (local.get $vv) (v128.load offset=80 (local.get $q)))))
                        (local.set $k (i32.add (local.get $k) (i32.const 1)))
                        (br $loopK)))))
                ;; ADC and shift-add of the block's twelve columns, two at a time: out += 2^(t·db)·clamp(round(I))
                (v128.store offset=0 (local.get $sums) (local.get $a0))
                (v128.store offset=16 (local.get $sums) (local.get $a1))
                (v128.store offset=32 (local.get $sums) (local.get $a2))
                (v128.store offset=48 (local.get $sums) (local.get $a3))
                (v128.store offset=64 (local.get $sums) (local.get $a4))
                (v128.store offset=80 (local.get $sums) (local.get $a5))
                (local.set $q (i32.add (local.get $outRow) (i32.shl (local.get $cb) (i32.const 3))))
                (local.set $k (i32.const 0))
                (loop $loopAdc
                  (local.set $vv (v128.load (i32.add (local.get $sums) (local.get $k))))
                  ;; Math.round(I) = floor(I) + (I − floor(I) ≥ 0.5), then the clamp like the JS if / else if: below
                  ;; min → min, else above max → max (NaN passes through)
                  (local.set $f (f64x2.floor (local.get $vv)))
                  (local.set $code (v128.bitselect
                    (f64x2.add (local.get $f) (v128.const f64x2 1 1))
                    (local.get $f)
                    (f64x2.ge (f64x2.sub (local.get $vv) (local.get $f)) (v128.const f64x2 0.5 0.5))))
                  (local.set $f (v128.bitselect (local.get $maxV) (local.get $code) (f64x2.gt (local.get $code) (local.get $maxV))))
                  (local.set $f (v128.bitselect (local.get $minV) (local.get $f) (f64x2.lt (local.get $code) (local.get $minV))))
                  (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (f64x2.mul (local.get $weight) (local.get $f))))
                  (local.set $q (i32.add (local.get $q) (i32.const 16)))
                  (local.set $k (i32.add (local.get $k) (i32.const 16)))
                  (br_if $loopAdc (i32.lt_u (local.get $k) (i32.const 96))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $loopT2)))
            (local.set $cb (i32.add (local.get $cb) (i32.const 12)))
            (br $loopCB)))
        (local.set $outRow (i32.add (local.get $outRow) (local.get $rowBytes)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO))))

  ;; ---------------------------------------------------------------------------------------------------------------
  ;; Kernel (b), float32 form: read_float32(cells, cells32, stride, cols, thresholds, xu, outer, rows, steps, dacBits,
  ;; adcMin, adcMax, counts, idx, vals, sums, out, outI32, groups, planeCache, cacheMask) → how many (o, t, c) column
  ;; sums it recomputed in f64 (as f64).
  ;; Writes what read_float (same cells, stride, xu, …, out) writes in columns c < cols, bit for bit (columns
  ;; cols..stride come out 0), about twice as fast: column sums in f32x4 (28 columns per pass in seven accumulators,
  ;; where read_float sums 12 in six f64x2), recomputed exactly only where the result could differ; ADC and shift-add in i32.
  ;; cells: f64 [rows, stride] as read_float's; cells32: the same cells rounded to f32 (cols a multiple of 4, ≤ stride;
  ;; padding columns 0). thresholds: f32 [8, cols], per column 0.5 − B[c] rounded down (0 when B[c] ≥ 0.5), B[c] a bound
  ;; on |F − R| (float-cell-tile.ts derives it), F the f32 column sum, R the reference's f64 one, for a step that drives
  ;; at most 2^k rows in table k < 7, any number in table 7 (each step takes the tightest table that holds for it);
  ;; then the second look's H, f32 [8, cols], and K, f32 [8]: a sum the first test leaves ambiguous is decided after
  ;; all when |F − Rn| + K·|F| < H[c] (a bound from the step's own sum; float-cell-tile.ts derives it too); the
  ;; wrapper checks (2^db − 1)·Σ_r |G[r, c]| < 2^21, so |F|, |R| < 2^22, and every |out| < 2^31. adcMin ≤ adcMax: the
  ;; ADC's range as i32 (beyond i32, e.g. ±Infinity, passed as −2^31 / 2^31 − 1). xu: i32 [outer, rows] + 64 readable
  ;; bytes. Scratch: counts i32 [steps], idx i32 [steps, rows] (f32 row byte offsets), vals f32 [steps, rows] (1-bit
  ;; DAC: the steps' bit-planes u64 [steps] when rows ≤ 64, else unused), sums 112 + 4·cols bytes. out: f64 [outer, stride], or
  ;; (outI32 ≠ 0) the same exact integers as i32 [outer, stride], for finish_slices_i32.
  ;; groups ≠ 0 (used with a 1-bit DAC and ≤ 8 steps): group_rows_f32's tables of cells32, f32
  ;; [⌈rows/8⌉·256, stride]; a step then adds one table row per group of eight rows it drives (the f32 sum of those
  ;; rows) instead of each row: inputs from neighbouring pixels share their bits, so a convolution's steps drive far
  ;; fewer groups than rows. counts then holds 16 i32 and idx [steps + 1, rows].
  ;; planeCache ≠ 0 (used where the steps' bit-planes are walked: a 1-bit DAC, ≤ 8 steps, ≤ 64 rows): cacheMask + 1
  ;; (a power of two) slots of 16 + 4·cols bytes, cleared here; a step's codes depend only on its plane (the rows it
  ;; drives), so each plane read is kept in the slot its hash picks (the latest one there wins), and a step whose
  ;; plane is found there adds its codes instead of reading. Fallbacks are counted for the reads made.
  ;; Why it is exact: the result depends on R only through Math.round(R) = floor(R + 0.5), which changes only where R
  ;; crosses a half-integer. F + 1.5·2^23 rounds F to the nearest integer Rn (|F| < 2^22 keeps the sum in [2^23, 2^24),
  ;; where f32 spacing is 1) and holds Rn in its low mantissa bits: Rn = bits(F + 1.5·2^23) − bits(1.5·2^23). Off
  ;; half-integers Rn = floor(F + 0.5). F − Rn is exact (Sterbenz), so |F − Rn| < 0.5 − B[c] says exactly that F is more
  ;; than B[c] from every half-integer: then no half-integer lies between F and R, and Rn is the reference's code.
  ;; Otherwise (ambiguous, about 2·B[c] of the sums) $adcExact recomputes R as the reference forms it. F may add the rows
  ;; in any order and grouping (its bound holds for any), so also as sums of group table rows. The clamped codes are
  ;; integers, so out[o, c] = Σ_t 2^(t·db)·code_t is exact in any order while |out| < 2^31: it is summed in i32 and
  ;; converted once (the reference's f64 sum of those integers is exact too, and never −0).
  ;; Each step reads its rows (or table rows) for every block of 28 columns in turn (the last 4 to 24 wide: one block
  ;; per 28 columns, as each row of a block costs about as much however narrow): the step's rows stay in the cache from
  ;; one block to the next, and its row loop runs as many times for each (measured 5–13 % faster on the fixtures than
  ;; each block going through every step). A block's step takes one vector test for ambiguous lanes; the shift-add
  ;; sums stay in the scratch. An all-zero input vector skips all of it when the ADC reads 0 as 0.
  ;; The unrolled parts (each block width's step, the transpose's eight planes and step lists, $adcExact's four
  ;; lanes) come from float32ColumnBlocks, float32InputPlanes, float32StepLists (and their helpers) and adcExactLanes in
  ;; scripts/wat-kernels.mjs, at the `;; @insert` lines.
  (func (export "read_float32")
    (param $cells i32) (param $cells32 i32) (param $stride i32) (param $cols i32) (param $thresholds i32) (param $xu i32)
    (param $outer i32) (param $rows i32) (param $steps i32) (param $dacBits i32) (param $adcMin i32) (param $adcMax i32)
    (param $counts i32) (param $idx i32) (param $vals i32) (param $sums i32) (param $out i32) (param $outI32 i32) (param $groups i32)
    (param $planeCache i32) (param $cacheMask i32) (result f64)
    (local $o i32) (local $r i32) (local $t i32) (local $k i32) (local $n i32) (local $x i32) (local $y i32) (local $bit i32)
    (local $mask i32) (local $low i32) (local $recip i32) (local $cb i32) (local $left i32) (local $width i32) (local $p i32)
    (local $outShift i32)
    (local $q i32) (local $rowBytes32 i32) (local $listBase i32) (local $outRow i32) (local $slot i32) (local $kEnd i32)
    (local $zeroReadsZero i32) (local $oneBit i32) (local $shift i32) (local $j i32) (local $thr i32) (local $col i32)
    (local $codes i32) (local $rowAt i32) (local $transpose i32) (local $planeRows i32) (local $thrStep i32) (local $tableBytes i32)
    (local $any i32) (local $word i64) (local $rowShift i64) (local $fallbacks f64)
    (local $grouped i32) (local $rowCounts i32) (local $m i32) (local $groupAt i32) (local $exactFrom i32) (local $exactTo i32)
    (local $sumRows i32) (local $groupBits i64) (local $bitAt i64) (local $blockCodes i32) (local $table i32) (local $secondK v128)
    (local $slotBytes i32) (local $slotAt i32) (local $cacheCodes i32) (local $blockCache i32) (local $plane i64) (local $planeGroups i32)
    (local $k0 i32) (local $k1 i32) (local $k2 i32) (local $k3 i32) (local $k4 i32) (local $k5 i32) (local $k6 i32) (local $k7 i32)
    (local $p0 i64) (local $p1 i64) (local $p2 i64) (local $p3 i64) (local $p4 i64) (local $p5 i64) (local $p6 i64) (local $p7 i64)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128)
    (local $vv v128) (local $amb v128) (local $code v128) (local $magic v128) (local $magicBits v128) (local $minV v128)
    (local $maxV v128)
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $dacBits)) (i32.const 1)))
    (local.set $low (call $digitLowBits (local.get $steps) (local.get $dacBits)))
    (local.set $oneBit (i32.eq (local.get $dacBits) (i32.const 1)))
    ;; t = bit / db for bit = t·db < 32 as (bit·⌈2^16 / db⌉) >> 16, exact (the excess t·db·(⌈2^16/db⌉ − 2^16/db) < 32)
    (local.set $recip (i32.div_u (i32.add (i32.const 65535) (local.get $dacBits)) (local.get $dacBits)))
    (local.set $rowBytes32 (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $tableBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $transpose (i32.and (local.get $oneBit) (i32.le_u (local.get $steps) (i32.const 8))))
    ;; ≤ 64 rows: one plane word per step, which the block loops walk themselves (no step lists)
    (local.set $planeRows (i32.and (local.get $transpose) (i32.le_u (local.get $rows) (i32.const 64))))
    ;; group tables: the step lists name table rows (groups of eight rows), counts[8 + t] the rows behind them
    (local.set $grouped (i32.and (i32.ne (local.get $groups) (i32.const 0)) (i32.and (local.get $transpose) (i32.eqz (local.get $planeRows)))))
    (local.set $rowCounts (select (i32.add (local.get $counts) (i32.const 32)) (local.get $counts) (local.get $grouped)))
    ;; ≤ 64 rows with group tables: each block's step walks its plane's non-zero bytes (groups) instead of its bits
    (local.set $planeGroups (i32.and (i32.ne (local.get $groups) (i32.const 0)) (local.get $planeRows)))
    (local.set $sumRows (select (local.get $groups) (local.get $cells32) (i32.or (local.get $grouped) (local.get $planeGroups))))
    (local.set $zeroReadsZero (i32.and (i32.le_s (local.get $adcMin) (i32.const 0)) (i32.ge_s (local.get $adcMax) (i32.const 0))))
    (local.set $minV (i32x4.splat (local.get $adcMin)))
    (local.set $maxV (i32x4.splat (local.get $adcMax)))
    (local.set $magic (v128.const f32x4 12582912 12582912 12582912 12582912))
    (local.set $magicBits (v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000))
    ;; every column's i32 shift-add sums follow a block's f32 sums in the scratch
    (local.set $codes (i32.add (local.get $sums) (i32.const 112)))
    ;; the plane cache's slots: an i64 tag (the plane; 0 empty), 8 bytes unused, the plane's codes i32 [cols]
    (local.set $slotBytes (i32.add (local.get $tableBytes) (i32.const 16)))
    (if (i32.and (local.get $planeRows) (i32.ne (local.get $planeCache) (i32.const 0)))
      (then
        (local.set $slotAt (local.get $planeCache))
        (loop $loopSlots
          (i64.store (local.get $slotAt) (i64.const 0))
          (local.set $slotAt (i32.add (local.get $slotAt) (local.get $slotBytes)))
          (br_if $loopSlots (i32.le_u (local.get $slotAt) (i32.add (local.get $planeCache) (i32.mul (local.get $cacheMask) (local.get $slotBytes)))))))
      (else (local.set $planeCache (i32.const 0))))
    (local.set $outRow (local.get $out))
    ;; log2 of the bytes per output value: 2 for i32, 3 for f64
    (local.set $outShift (i32.sub (i32.const 3) (i32.ne (local.get $outI32) (i32.const 0))))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        ;; an all-zero input vector (over half of a first convolution's, on blank image borders) whose 0 the ADC reads
        ;; as 0: its row is all +0, found with one OR per four inputs instead of the transpose and the step lists
        (if (local.get $zeroReadsZero)
          (then
            (local.set $vv (v128.const i64x2 0 0))
            (local.set $r (i32.const 0))
            (loop $loopZ
              ;; four inputs, those past the vector's last masked off (the next vector's, or the 64 readable bytes)
              (local.set $vv (v128.or (local.get $vv) (v128.and
                (v128.load (i32.add (local.get $xu) (i32.shl (local.get $r) (i32.const 2))))
                (i32x4.gt_s (i32x4.splat (i32.sub (local.get $rows) (local.get $r))) (v128.const i32x4 0 1 2 3)))))
              (local.set $r (i32.add (local.get $r) (i32.const 4)))
              (br_if $loopZ (i32.lt_u (local.get $r) (local.get $rows))))
            (if (i32.eqz (v128.any_true (local.get $vv)))
              (then
                (call $zeroWords (local.get $outRow) (i32.shl (local.get $stride) (local.get $outShift)))
                (local.set $xu (i32.add (local.get $xu) (i32.shl (local.get $rows) (i32.const 2))))
                (local.set $outRow (i32.add (local.get $outRow) (i32.shl (local.get $stride) (local.get $outShift))))
                (local.set $o (i32.add (local.get $o) (i32.const 1)))
                (br $loopO)))))
        ;; the rows each step drives at a non-zero DAC value, ascending, with that value (f32 row byte offset kept;
        ;; values only for db > 1): only the non-zero digits are visited, lowest first — digit t is non-zero iff bit
        ;; t·db of y = x | x >>> 1 | … | x >>> (db − 1) is set (as count_active)
        (call $zeroWords (local.get $counts) (select (i32.const 64) (i32.shl (local.get $steps) (i32.const 2)) (local.get $grouped)))
        (local.set $r (i32.const 0))
        (local.set $rowAt (i32.const 0))
        (local.set $any (i32.const 0))
        (if (local.get $transpose)
          (then
            ;; 1-bit DAC, ≤ 8 steps: per 64 rows, their input bit-planes in registers $p0..$p7 (sixteen rows at once:
            ;; their bytes' bit t by i8x16.bitmask), then each step's rows appended to its list from its plane's set
            ;; bits — one unpredictable loop exit per (step, 64 rows) instead of one per row. $k<t>: where step t's
            ;; list goes on. With ≤ 64 rows there are no lists: the planes are kept (in `vals`) and each block's step
            ;; loop walks its plane's bits itself, a pass and a loop exit per step fewer.
            ;; @insert read-float32-list-starts
            (block $doneWord
              (loop $loopWord
                (br_if $doneWord (i32.ge_u (local.get $r) (local.get $rows)))
                ;; @insert read-float32-clear-planes
                (local.set $rowShift (i64.const 0))
                (loop $loopG
                  ;; the low bytes of rows r..r + 15, those past the last row masked to 0 (the wrapper leaves 64
                  ;; readable bytes after the inputs)
                  (local.set $vv (v128.and
                    (i8x16.narrow_i16x8_u
                      (i16x8.narrow_i32x4_u
                        (v128.and (v128.load offset=0 (local.get $xu)) (v128.const i32x4 255 255 255 255))
                        (v128.and (v128.load offset=16 (local.get $xu)) (v128.const i32x4 255 255 255 255)))
                      (i16x8.narrow_i32x4_u
                        (v128.and (v128.load offset=32 (local.get $xu)) (v128.const i32x4 255 255 255 255))
                        (v128.and (v128.load offset=48 (local.get $xu)) (v128.const i32x4 255 255 255 255))))
                    (i8x16.gt_u (i8x16.splat (select (i32.const 16) (i32.sub (local.get $rows) (local.get $r))
                        (i32.gt_u (i32.sub (local.get $rows) (local.get $r)) (i32.const 16))))
                      (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15))))
                  ;; bit t of the sixteen bytes into plane t at bit $rowShift (float32InputPlanes)
                  ;; @insert read-float32-input-planes
                  (local.set $xu (i32.add (local.get $xu) (i32.const 64)))
                  (local.set $r (i32.add (local.get $r) (i32.const 16)))
                  (local.set $rowShift (i64.add (local.get $rowShift) (i64.const 16)))
                  (br_if $loopG (i32.and (i64.lt_u (local.get $rowShift) (i64.const 64)) (i32.lt_u (local.get $r) (local.get $rows)))))
                ;; each step t < steps: its rows among these 64, ascending (float32StepLists; none with planes)
                (if (i32.eqz (local.get $planeRows))
                  (then
                    (if (local.get $grouped)
                      (then
                        ;; where the word's first group's table rows start: 256 table rows per group of 8 input rows
                        (local.set $groupAt (i32.shl (local.get $rowAt) (i32.const 5)))
                        ;; @insert read-float32-group-lists
                        )
                      (else
                        ;; @insert read-float32-step-lists
                        ))))
                (local.set $rowAt (i32.add (local.get $rowAt) (i32.shl (local.get $rowBytes32) (i32.const 6))))
                (br $loopWord)))
            ;; the next vector's inputs start `rows` after this one's
            (local.set $xu (i32.sub (local.get $xu) (i32.shl (i32.sub (local.get $r) (local.get $rows)) (i32.const 2))))
            (if (local.get $planeRows)
              (then
                ;; @insert read-float32-plane-counts
                )
              (else
                ;; @insert read-float32-list-counts
                )))
          (else
        (if (local.get $oneBit)
          (then
            ;; 1-bit DAC: digit t is bit t, its value 1 (no values stored)
            (block $doneR1
              (loop $loopR1
                (br_if $doneR1 (i32.ge_u (local.get $r) (local.get $rows)))
                (local.set $y (i32.and (i32.load (local.get $xu)) (local.get $low)))
                (local.set $any (i32.or (local.get $any) (local.get $y)))
                (local.set $xu (i32.add (local.get $xu) (i32.const 4)))
                (block $doneBits1
                  (loop $loopBits1
                    (br_if $doneBits1 (i32.eqz (local.get $y)))
                    (local.set $t (i32.ctz (local.get $y)))
                    (local.set $k (i32.load (i32.add (local.get $counts) (i32.shl (local.get $t) (i32.const 2)))))
                    (i32.store (i32.add (local.get $idx) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $rows)) (local.get $k)) (i32.const 2)))
                               (local.get $rowAt))
                    (i32.store (i32.add (local.get $counts) (i32.shl (local.get $t) (i32.const 2)))
                               (i32.add (local.get $k) (i32.const 1)))
                    (local.set $y (i32.and (local.get $y) (i32.sub (local.get $y) (i32.const 1))))
                    (br $loopBits1)))
                (local.set $rowAt (i32.add (local.get $rowAt) (local.get $rowBytes32)))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $loopR1))))
          (else
            (block $doneR
              (loop $loopR
                (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
                (local.set $x (i32.load (local.get $xu)))
                (local.set $xu (i32.add (local.get $xu) (i32.const 4)))
                (local.set $y (local.get $x))
                (local.set $k (i32.const 1))
                (block $doneFold
                  (loop $fold
                    (br_if $doneFold (i32.ge_u (local.get $k) (local.get $dacBits)))
                    (local.set $y (i32.or (local.get $y) (i32.shr_u (local.get $x) (local.get $k))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $fold)))
                (local.set $y (i32.and (local.get $y) (local.get $low)))
                (local.set $any (i32.or (local.get $any) (local.get $y)))
                (block $doneBits
                  (loop $loopBits
                    (br_if $doneBits (i32.eqz (local.get $y)))
                    (local.set $bit (i32.ctz (local.get $y)))
                    (local.set $t (i32.shr_u (i32.mul (local.get $bit) (local.get $recip)) (i32.const 16)))
                    (local.set $k (i32.load (i32.add (local.get $counts) (i32.shl (local.get $t) (i32.const 2)))))
                    (local.set $slot (i32.add (i32.mul (local.get $t) (local.get $rows)) (local.get $k)))
                    (i32.store (i32.add (local.get $idx) (i32.shl (local.get $slot) (i32.const 2))) (local.get $rowAt))
                    (f32.store (i32.add (local.get $vals) (i32.shl (local.get $slot) (i32.const 2)))
                               (f32.convert_i32_u (i32.and (i32.shr_u (local.get $x) (local.get $bit)) (local.get $mask))))
                    (i32.store (i32.add (local.get $counts) (i32.shl (local.get $t) (i32.const 2)))
                               (i32.add (local.get $k) (i32.const 1)))
                    (local.set $y (i32.and (local.get $y) (i32.sub (local.get $y) (i32.const 1))))
                    (br $loopBits)))
                (local.set $rowAt (i32.add (local.get $rowAt) (local.get $rowBytes32)))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $loopR)))))))
        ;; no row driven at all (common: blank image regions) and the ADC converts 0 to 0: the row is all +0, as the
        ;; blocks below would make it
        (if (i32.and (i32.eqz (local.get $any)) (local.get $zeroReadsZero))
          (then (call $zeroWords (local.get $outRow) (i32.shl (local.get $stride) (local.get $outShift))))
          (else
        ;; every column's i32 shift-add sums zeroed; then step by step, block by block: a step's list (and its table
        ;; rows) serves each block in turn while it is in the cache
        (call $zeroWords (local.get $codes) (local.get $tableBytes))
        (local.set $t (i32.const 0))
        (block $doneT
          (loop $loopT
            (br_if $doneT (i32.ge_u (local.get $t) (local.get $steps)))
            (local.set $n (i32.load (i32.add (local.get $counts) (i32.shl (local.get $t) (i32.const 2)))))
            ;; a step that drives no row is skipped when the ADC converts 0 to 0, as in read_float
            (if (i32.or (local.get $n) (i32.eqz (local.get $zeroReadsZero)))
              (then
                (local.set $shift (i32.mul (local.get $t) (local.get $dacBits)))
                ;; the thresholds of the tightest bound that holds for the step's m rows: table k for m ≤ 2^k (k =
                ;; ⌈log2 m⌉ = 32 − clz(m − 1) for m ≥ 2, 0 for m ≤ 1), table 7 for any m; m = n but with group tables,
                ;; whose n list entries each add up to eight rows
                (local.set $m (i32.load (i32.add (local.get $rowCounts) (i32.shl (local.get $t) (i32.const 2)))))
                (local.set $table (i32.sub (i32.const 32) (i32.clz (i32.sub (local.get $m) (i32.const 1)))))
                (local.set $table (select
                  (select (local.get $table) (i32.const 7) (i32.lt_u (local.get $table) (i32.const 7)))
                  (i32.const 0)
                  (i32.gt_u (local.get $m) (i32.const 1))))
                (local.set $thr (i32.add (local.get $thresholds) (i32.mul (local.get $tableBytes) (local.get $table))))
                ;; the second look's K for this table (after the eight threshold tables and the eight H tables), loaded
                ;; per step though only the rare second look reads it: loaded there instead, the CNN's faithful pass
                ;; measured 5 % slower
                (local.set $secondK (f32x4.splat (f32.load (i32.add (i32.add (local.get $thresholds) (i32.shl (local.get $tableBytes) (i32.const 4)))
                  (i32.shl (local.get $table) (i32.const 2))))))
                (local.set $listBase (i32.mul (local.get $t) (local.get $rows)))
                (local.set $kEnd (i32.add (local.get $listBase) (local.get $n)))
                (local.set $cacheCodes (i32.const 0))
                (block $doneCB
                  ;; ≤ 64 rows: a plane read before (by this vector or an earlier one, at any step) gave these codes, the
                  ;; clamped ADC outputs of every column, which depend on nothing else: added from the plane cache; a
                  ;; plane not found there is read and its codes stored in its slot (a conv's small tiles repeat most
                  ;; planes: neighbouring positions, and low and high bits of the same inputs)
                  (if (local.get $planeCache)
                    (then
                      (local.set $plane (i64.load (i32.add (local.get $vals) (i32.shl (local.get $t) (i32.const 3)))))
                      (if (i64.ne (local.get $plane) (i64.const 0))
                        (then
                          (local.set $slotAt (i32.add (local.get $planeCache) (i32.mul (local.get $slotBytes) (i32.and (local.get $cacheMask)
                            (i32.wrap_i64 (i64.shr_u (i64.mul (local.get $plane) (i64.const 0x9e3779b97f4a7c15)) (i64.const 40)))))))
                          (if (i64.eq (i64.load (local.get $slotAt)) (local.get $plane))
                            (then
                              (local.set $j (i32.const 0))
                              (loop $loopHit
                                (v128.store (i32.add (local.get $codes) (local.get $j)) (i32x4.add (v128.load (i32.add (local.get $codes) (local.get $j)))
                                  (i32x4.shl (v128.load offset=16 (i32.add (local.get $slotAt) (local.get $j))) (local.get $shift))))
                                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                                (br_if $loopHit (i32.lt_u (local.get $j) (local.get $tableBytes))))
                              (br $doneCB)))
                          (i64.store (local.get $slotAt) (local.get $plane))
                          (local.set $cacheCodes (i32.add (local.get $slotAt) (i32.const 16)))))))
                  (local.set $cb (i32.const 0))
                  (loop $loopCB
                    (br_if $doneCB (i32.ge_u (local.get $cb) (local.get $cols)))
                    (local.set $left (i32.sub (local.get $cols) (local.get $cb)))
                    (local.set $p (i32.add (local.get $sumRows) (i32.shl (local.get $cb) (i32.const 2))))
                    (local.set $thrStep (i32.add (local.get $thr) (i32.shl (local.get $cb) (i32.const 2))))
                    (local.set $col (i32.add (local.get $cells) (i32.shl (local.get $cb) (i32.const 3))))
                    (local.set $blockCodes (i32.add (local.get $codes) (i32.shl (local.get $cb) (i32.const 2))))
                    (local.set $blockCache (i32.add (local.get $cacheCodes) (i32.shl (local.get $cb) (i32.const 2))))
                    ;; the step on the widest block (28, 24, …, 4 columns) that fits the $left columns, $width set to
                    ;; its width (float32ColumnBlocks)
                    ;; @insert read-float32-column-blocks
                    (local.set $cb (i32.add (local.get $cb) (local.get $width)))
                    (br $loopCB)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $loopT)))
        ;; the sums, exact integers: as i32, or converted to f64
        (local.set $q (local.get $outRow))
        (local.set $j (i32.const 0))
        (if (local.get $outI32)
          (then
            (loop $loopOut32
              (v128.store (i32.add (local.get $q) (local.get $j)) (v128.load (i32.add (local.get $codes) (local.get $j))))
              (local.set $j (i32.add (local.get $j) (i32.const 16)))
              (br_if $loopOut32 (i32.lt_u (local.get $j) (local.get $tableBytes)))))
          (else
            (loop $loopOut
              (local.set $code (v128.load (i32.add (local.get $codes) (local.get $j))))
              (v128.store offset=0 (local.get $q) (f64x2.convert_low_i32x4_s (local.get $code)))
              (v128.store offset=16 (local.get $q) (f64x2.convert_low_i32x4_s
                (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $code) (local.get $code))))
              (local.set $q (i32.add (local.get $q) (i32.const 32)))
              (local.set $j (i32.add (local.get $j) (i32.const 16)))
              (br_if $loopOut (i32.lt_u (local.get $j) (local.get $tableBytes))))))
        (call $zeroWords (i32.add (local.get $outRow) (i32.shl (local.get $cols) (local.get $outShift)))
          (i32.shl (i32.sub (local.get $stride) (local.get $cols)) (local.get $outShift)))))
        (local.set $outRow (i32.add (local.get $outRow) (i32.shl (local.get $stride) (local.get $outShift))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO)))
    (local.get $fallbacks))

;; Zeroes `bytes` (a multiple of 4) from `at`: read_float32's per-vector clearing, too small for memory.fill, which
  ;; leaves the compiled code for a runtime call each time.
  (func $zeroWords (param $at i32) (param $bytes i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $at) (local.get $bytes)))
    (block $doneV
      (loop $loopV
        (br_if $doneV (i32.gt_u (i32.add (local.get $at) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $at) (v128.const i64x2 0 0))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $loopV)))
    (block $doneW
      (loop $loopW
        (br_if $doneW (i32.ge_u (local.get $at) (local.get $end)))
        (i32.store (local.get $at) (i32.const 0))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $loopW))))

    ;; read_float32's ADC of a block step with ambiguous lanes: for the block's `width` columns (f32 sums F at `sums`,
  ;; thresholds at `thr`, f64 cells from `col`), codes[c] += clamp(code)·2^shift, code = Rn where |F − Rn| < 0.5 − B,
  ;; else Math.round(R) from $exactCode, and clamp(code) stored at cache[c] when cache ≠ 0 (the plane cache's slot);
  ;; returns how many it recomputed.
  (func $adcExact
    (param $sums i32) (param $codes i32) (param $thr i32) (param $col i32) (param $width i32) (param $listBase i32)
    (param $kEnd i32) (param $idx i32) (param $vals i32) (param $oneBit i32) (param $shift i32) (param $minV v128)
    (param $maxV v128) (param $cache i32) (result i32)
    (local $j i32) (local $lanes i32) (local $count i32) (local $vv v128) (local $rounded v128) (local $code v128) (local $amb v128)
    (loop $loopAdc
      (local.set $vv (v128.load (i32.add (local.get $sums) (local.get $j))))
      (local.set $rounded (f32x4.add (local.get $vv) (v128.const f32x4 12582912 12582912 12582912 12582912)))
      (local.set $code (i32x4.sub (local.get $rounded) (v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000)))
      (local.set $amb (f32x4.ge
        (f32x4.abs (f32x4.sub (local.get $vv) (f32x4.sub (local.get $rounded) (v128.const f32x4 12582912 12582912 12582912 12582912))))
        (v128.load (i32.add (local.get $thr) (local.get $j)))))
      (local.set $lanes (i32x4.bitmask (local.get $amb)))
      ;; each ambiguous lane's code from $exactCode (replace_lane takes a constant lane: adcExactLanes)
      ;; @insert adc-exact-lanes
      (local.set $count (i32.add (local.get $count) (i32.popcnt (local.get $lanes))))
      (local.set $code (i32x4.max_s (i32x4.min_s (local.get $code) (local.get $maxV)) (local.get $minV)))
      (if (local.get $cache) (then (v128.store (i32.add (local.get $cache) (local.get $j)) (local.get $code))))
      (v128.store (i32.add (local.get $codes) (local.get $j))
        (i32x4.add (v128.load (i32.add (local.get $codes) (local.get $j))) (i32x4.shl (local.get $code) (local.get $shift))))
      (local.set $col (i32.add (local.get $col) (i32.const 32)))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br_if $loopAdc (i32.lt_u (local.get $j) (i32.shl (local.get $width) (i32.const 2)))))
    (local.get $count))

  ;; read_float32's list of rows for $adcExact from a step's group entries idx[from .. to) (table row byte offsets
  ;; (256·g + b)·rowBytes): for each bit i of b, ascending, the row 8·g + i's byte offset, written from idx[out];
  ;; returns the index past the last. The entries ascend, so the rows do.
  (func $groupEntryRows (param $idx i32) (param $from i32) (param $to i32) (param $rowBytes i32) (param $out i32) (result i32)
    (local $entry i32) (local $bits i32)
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
        (local.set $entry (i32.div_u (i32.load (i32.add (local.get $idx) (i32.shl (local.get $from) (i32.const 2)))) (local.get $rowBytes)))
        (local.set $bits (i32.and (local.get $entry) (i32.const 255)))
        (block $doneBits
          (loop $loopBits
            (br_if $doneBits (i32.eqz (local.get $bits)))
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $out) (i32.const 2)))
              (i32.mul (i32.add (i32.shl (i32.shr_u (local.get $entry) (i32.const 8)) (i32.const 3)) (i32.ctz (local.get $bits))) (local.get $rowBytes)))
            (local.set $out (i32.add (local.get $out) (i32.const 1)))
            (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
            (br $loopBits)))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (br $loop)))
    (local.get $out))

  ;; group_rows_f32(cells32, rows, stride, dst): read_float32's group tables. For each group g of eight rows (8g ..
  ;; 8g + 7) and b in 0..255, table row 256g + b (stride f32 each) = the sum of the group's rows that b's bits select,
  ;; added as dst[256g + b] = dst[256g + (b & (b − 1))] + cells32[8g + ctz(b)]; row 256g is 0, and a row past the last
  ;; adds nothing (no input drives it).
  (func (export "group_rows_f32") (param $cells32 i32) (param $rows i32) (param $stride i32) (param $dst i32)
    (local $rowBytes i32) (local $g i32) (local $b i32) (local $r i32) (local $to i32) (local $from i32) (local $add i32) (local $j i32)
    (local.set $rowBytes (i32.shl (local.get $stride) (i32.const 2)))
    (block $doneG
      (loop $loopG
        (br_if $doneG (i32.ge_u (i32.shl (local.get $g) (i32.const 3)) (local.get $rows)))
        (call $zeroWords (local.get $dst) (local.get $rowBytes))
        (local.set $b (i32.const 1))
        (loop $loopB
          (local.set $to (i32.add (local.get $dst) (i32.mul (local.get $b) (local.get $rowBytes))))
          (local.set $from (i32.add (local.get $dst) (i32.mul (i32.and (local.get $b) (i32.sub (local.get $b) (i32.const 1))) (local.get $rowBytes))))
          (local.set $r (i32.add (i32.shl (local.get $g) (i32.const 3)) (i32.ctz (local.get $b))))
          (if (i32.lt_u (local.get $r) (local.get $rows))
            (then
              (local.set $add (i32.add (local.get $cells32) (i32.mul (local.get $r) (local.get $rowBytes))))
              (local.set $j (i32.const 0))
              (loop $loopJ
                (v128.store (i32.add (local.get $to) (local.get $j))
                  (f32x4.add (v128.load (i32.add (local.get $from) (local.get $j))) (v128.load (i32.add (local.get $add) (local.get $j)))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br_if $loopJ (i32.lt_u (local.get $j) (local.get $rowBytes)))))
            (else (memory.copy (local.get $to) (local.get $from) (local.get $rowBytes))))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $loopB (i32.lt_u (local.get $b) (i32.const 256))))
        (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $rowBytes) (i32.const 8))))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $loopG))))

  ;; The reference's code for one column of one step: R = Σ_k v_k·G[r_k, c] over the step's list entries k ∈ [k,
  ;; kEnd) (ascending rows) from +0, each term one f64 multiply then one f64 add (none for a 1-bit DAC, whose values are
  ;; all 1: 1·G = G), i.e. bitSerialReadImpl's sum; returns Math.round(R) = floor(R) + (R − floor(R) ≥ 0.5) as i32
  ;; (exact: |R| < 2^21 by the wrapper's check). col: address of G[0, c] in the f64 cells; idx holds f32 row byte
  ;; offsets, so the f64 row is at twice that.
  (func $exactCode
    (param $col i32) (param $k i32) (param $kEnd i32) (param $idx i32) (param $vals i32) (param $oneBit i32) (result i32)
    (local $sum f64) (local $g f64) (local $fl f64)
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $k) (local.get $kEnd)))
        (local.set $g (f64.load (i32.add (local.get $col)
          (i32.shl (i32.load (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2)))) (i32.const 1)))))
        (if (i32.eqz (local.get $oneBit))
          (then (local.set $g (f64.mul
            (f64.promote_f32 (f32.load (i32.add (local.get $vals) (i32.shl (local.get $k) (i32.const 2)))))
            (local.get $g)))))
        (local.set $sum (f64.add (local.get $sum) (local.get $g)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $loop)))
    (local.set $fl (f64.floor (local.get $sum)))
    (i32.trunc_f64_s (select
      (f64.add (local.get $fl) (f64.const 1))
      (local.get $fl)
      (f64.ge (f64.sub (local.get $sum) (local.get $fl)) (f64.const 0.5)))))

  ;; ---------------------------------------------------------------------------------------------------------------
  ;; Kernel (c), phase 2a: narrow_inputs(x, outer, rows, rowsPadded, dst) → max |x|
  ;; x: i32 [outer, rows] → dst: i16 [outer, rowsPadded] (padding 0; values wrap to 16 bits — the wrapper uses the
  ;; result only when the returned max |x| fits). Returns max |x| as an unsigned 32-bit value (|−2^31| = 2^31).
  (func $narrowInputs (export "narrow_inputs")
    (param $x i32) (param $outer i32) (param $rows i32) (param $rowsPadded i32) (param $dst i32) (result i32)
    (local $o i32) (local $r i32) (local $v i32) (local $max i32) (local $row i32)
    (memory.fill (local.get $dst) (i32.const 0) (i32.shl (i32.mul (local.get $outer) (local.get $rowsPadded)) (i32.const 1)))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $row (local.get $dst))
        (local.set $r (i32.const 0))
        (block $doneR
          (loop $loopR
            (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $v (i32.load (local.get $x)))
            (i32.store16 (local.get $row) (local.get $v))
            ;; |v| as unsigned: (v xor (v >> 31)) − (v >> 31)
            (local.set $v (i32.sub (i32.xor (local.get $v) (i32.shr_s (local.get $v) (i32.const 31)))
                                   (i32.shr_s (local.get $v) (i32.const 31))))
            (if (i32.gt_u (local.get $v) (local.get $max)) (then (local.set $max (local.get $v))))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (local.set $row (i32.add (local.get $row) (i32.const 2)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $loopR)))
        (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $rowsPadded) (i32.const 1))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO)))
    (local.get $max))

;; Kernel (c), phase 2b: mvm_i16(w, rowsPadded, colsPadded, x, outer, out, asI32, list, correction, dL, wrapShift, acc,
  ;; accStride, colBase, saved)
  ;; w: i16 [colsPadded/8, rowsPadded/8, 8, 8] — the weight matrix in blocks of 8 columns × 8 rows, each column's 8
  ;;   rows contiguous (zero-padded; rowsPadded a multiple of 8, colsPadded of 8): w[r, c] is at i16 index
  ;;   ((c >> 3)·rowsPadded/8 + (r >> 3))·64 + (c & 7)·8 + (r & 7), so one block-row of 8 columns is 128 contiguous bytes.
  ;; x: i16 [outer, rowsPadded]; out: f64 [outer, colsPadded] (asI32 ≠ 0: i32 [outer, colsPadded], the exact sums),
  ;;   out[o, c] = Σ_r x[o, r]·w[r, c] with i32x4.dot_i16x8_s and wrapping i32 adds: exact (and so equal to the float64
  ;;   reference) when the true sum fits in i32, which the wrapper guarantees by rows·max|x|·max|w| ≤ 2^31 − 1.
  ;; list: scratch i32 [rowsPadded/8].
  ;; acc ≠ 0 (asI32 ≠ 0): finish_i32 fused in, out unused — each vector's sums less correction [colsPadded] (0 past the
  ;;   tile's columns), truncated and wrapped (dL, wrapShift), are added into acc at o·accStride + colBase (the columns
  ;;   past the tile's add 0 there, up to 28 bytes past the last row: the caller leaves room); saved: scratch i32
  ;;   [2, colsPadded], the last computed pair's finished sums.
  ;; Two vectors and four columns per pass (eight i32x4 accumulators): each weight load serves both vectors, each input
  ;; chunk load four columns (one vector and eight columns measured 1.2–1.3× slower per multiply: the kernel is bound
  ;; by the loads and instructions issued). An odd last vector pairs with itself and keeps one result. The chunks that
  ;; are all 0 in both vectors add nothing, so they are skipped: activations after a ReLU, and images' blank regions,
  ;; leave a third to a half of the chunks 0 (the pair's non-zero chunks are listed once, then every pass walks the
  ;; list; a pair with few zero chunks takes the plain loop). The dot products of a chunk, and the fused finish, come
  ;; from mvmI16Chunk and mvmI16FinishQuad in scripts/wat-kernels.mjs, at the `;; @insert` lines.
  (func $mvmI16 (export "mvm_i16")
    (param $w i32) (param $rowsPadded i32) (param $colsPadded i32) (param $x i32) (param $outer i32) (param $out i32) (param $asI32 i32)
    (param $list i32) (param $correction i32) (param $dL i32) (param $wrapShift i32) (param $acc i32) (param $accStride i32) (param $colBase i32)
    (param $saved i32)
    (local $compared i32) (local $repeated i32) (local $accRow i32) (local $corrAt i32) (local $h0 v128) (local $h1 v128) (local $o i32) (local $c i32) (local $rowBytes i32) (local $blockBytes i32) (local $wp i32) (local $xp i32) (local $xEnd i32)
    (local $e i32) (local $listEnd i32) (local $off i32) (local $wk i32) (local $pair i32) (local $dy i32) (local $outRow i32) (local $outBytes i32) (local $at i32)
    (local $xv v128) (local $yv v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local.set $rowBytes (i32.shl (local.get $rowsPadded) (i32.const 1)))
    (local.set $blockBytes (i32.shl (local.get $rowsPadded) (i32.const 4)))
    (local.set $outBytes (i32.shl (local.get $colsPadded) (select (i32.const 2) (i32.const 3) (local.get $asI32))))
    (local.set $outRow (local.get $out))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        ;; the second vector of the pair at x + dy (dy = 0: the last vector, alone)
        (local.set $pair (i32.lt_u (i32.add (local.get $o) (i32.const 1)) (local.get $outer)))
        (local.set $dy (select (local.get $rowBytes) (i32.const 0) (local.get $pair)))
        (local.set $xEnd (i32.add (local.get $x) (local.get $rowBytes)))
        ;; a pair equal to the previous pair (a blank image region's patches) takes its results: its rows of out, or
        ;; its finished sums kept in saved, added into this pair's accumulators. Pairs are compared while at least 1 in
        ;; 16 of those compared repeated, or for the first 256 (measured on the ideal pass: LeNet-5's, whose convolutions
        ;; repeat no pair, 1.5–3 % slower comparing every pair; the CNN fixture's, whose second convolution repeats a
        ;; quarter of its pairs, 5 % faster)
        (if (i32.and (i32.and (local.get $pair) (i32.ge_u (local.get $o) (i32.const 2)))
                     (i32.or (i32.lt_u (local.get $compared) (i32.const 256)) (i32.ge_u (i32.shl (local.get $repeated) (i32.const 4)) (local.get $compared))))
          (then
            (local.set $compared (i32.add (local.get $compared) (i32.const 1)))
            (if (call $sameWords (i32.sub (local.get $x) (i32.shl (local.get $rowBytes) (i32.const 1))) (local.get $x) (i32.shl (local.get $rowBytes) (i32.const 1)))
              (then
                (local.set $repeated (i32.add (local.get $repeated) (i32.const 1)))
                (if (local.get $acc)
                  (then
                    (local.set $accRow (i32.add (local.get $acc) (i32.shl (i32.add (i32.mul (local.get $o) (local.get $accStride)) (local.get $colBase)) (i32.const 2))))
                    (local.set $at (i32.add (local.get $accRow) (i32.shl (local.get $accStride) (i32.const 2))))
                    (local.set $c (i32.const 0))
                    (loop $loopSaved
                      (v128.store (local.get $accRow) (i32x4.add (v128.load (local.get $accRow))
                        (v128.load (i32.add (local.get $saved) (i32.shl (local.get $c) (i32.const 2))))))
                      (v128.store (local.get $at) (i32x4.add (v128.load (local.get $at))
                        (v128.load (i32.add (local.get $saved) (i32.shl (i32.add (local.get $c) (local.get $colsPadded)) (i32.const 2))))))
                      (local.set $accRow (i32.add (local.get $accRow) (i32.const 16)))
                      (local.set $at (i32.add (local.get $at) (i32.const 16)))
                      (local.set $c (i32.add (local.get $c) (i32.const 4)))
                      (br_if $loopSaved (i32.lt_u (local.get $c) (local.get $colsPadded)))))
                  (else (memory.copy (local.get $outRow) (i32.sub (local.get $outRow) (i32.shl (local.get $outBytes) (i32.const 1)))
                    (i32.shl (local.get $outBytes) (i32.const 1)))))
                (local.set $x (i32.add (local.get $xEnd) (local.get $rowBytes)))
                (local.set $outRow (i32.add (local.get $outRow) (i32.shl (local.get $outBytes) (i32.const 1))))
                (local.set $o (i32.add (local.get $o) (i32.const 2)))
                (br $loopO)))))
        ;; the chunks non-zero in either vector, as byte offsets in the row, branch-free (each offset is stored, the
        ;; end moves past it only when the chunk is not 0)
        (local.set $listEnd (local.get $list))
        (local.set $off (i32.const 0))
        (loop $loopL
          (i32.store (local.get $listEnd) (local.get $off))
          (local.set $listEnd (i32.add (local.get $listEnd) (i32.shl (v128.any_true (v128.or
            (v128.load (i32.add (local.get $x) (local.get $off)))
            (v128.load (i32.add (i32.add (local.get $x) (local.get $dy)) (local.get $off))))) (i32.const 2))))
          (local.set $off (i32.add (local.get $off) (i32.const 16)))
          (br_if $loopL (i32.lt_u (local.get $off) (local.get $rowBytes))))
        (local.set $c (i32.const 0))
        (block $doneC
          (loop $loopC
            (br_if $doneC (i32.ge_u (local.get $c) (local.get $colsPadded)))
            ;; the pass's four columns: the first or the second half of an 8-column block
            (local.set $wp (i32.add (local.get $w) (i32.add
              (i32.mul (i32.shr_u (local.get $c) (i32.const 3)) (local.get $blockBytes))
              (i32.shl (i32.and (local.get $c) (i32.const 4)) (i32.const 4)))))
            (local.set $a0 (v128.const i64x2 0 0))
            (local.set $a1 (v128.const i64x2 0 0))
            (local.set $a2 (v128.const i64x2 0 0))
            (local.set $a3 (v128.const i64x2 0 0))
            (local.set $a4 (v128.const i64x2 0 0))
            (local.set $a5 (v128.const i64x2 0 0))
            (local.set $a6 (v128.const i64x2 0 0))
            (local.set $a7 (v128.const i64x2 0 0))
            ;; the listed loop's address arithmetic costs about an eighth more per chunk than the plain loop (the
            ;; kernel is bound by instructions issued), so it runs only when at least an eighth of the chunks are 0
            (if (i32.lt_u (i32.shl (i32.sub (local.get $rowBytes) (i32.shl (i32.sub (local.get $listEnd) (local.get $list)) (i32.const 2))) (i32.const 3))
                          (local.get $rowBytes))
              (then
                ;; few zero chunks: every chunk in order
                (local.set $xp (local.get $x))
                (local.set $wk (local.get $wp))
                (loop $loopK
                  (local.set $xv (v128.load (local.get $xp)))
                  (local.set $yv (v128.load (i32.add (local.get $xp) (local.get $dy))))
                  ;; @insert mvm-i16-dense-chunk
                  (local.set $wk (i32.add (local.get $wk) (i32.const 128)))
                  (local.set $xp (i32.add (local.get $xp) (i32.const 16)))
                  (br_if $loopK (i32.lt_u (local.get $xp) (local.get $xEnd)))))
              (else
                ;; the listed chunks: inputs at x + off and x + dy + off, weights at wp + 8·off
                (local.set $e (local.get $list))
                (block $doneE
                  (loop $loopE
                    (br_if $doneE (i32.ge_u (local.get $e) (local.get $listEnd)))
                    (local.set $xp (i32.add (local.get $x) (i32.load (local.get $e))))
                    (local.set $xv (v128.load (local.get $xp)))
                    (local.set $yv (v128.load (i32.add (local.get $xp) (local.get $dy))))
                    (local.set $wk (i32.add (local.get $wp) (i32.shl (i32.load (local.get $e)) (i32.const 3))))
                    ;; @insert mvm-i16-listed-chunk
                    (local.set $e (i32.add (local.get $e) (i32.const 4)))
                    (br $loopE)))))
            ;; lane sums of accumulators 0..3 (the first vector) and 4..7 (the second): finished into acc, as i32
            ;; (asI32), or converted to f64 two lanes at a time
            (if (local.get $acc)
              (then
                (local.set $accRow (i32.add (local.get $acc)
                  (i32.shl (i32.add (i32.add (i32.mul (local.get $o) (local.get $accStride)) (local.get $colBase)) (local.get $c)) (i32.const 2))))
                (local.set $corrAt (i32.add (local.get $correction) (i32.shl (local.get $c) (i32.const 2))))
                ;; inline (a call per quad cost as much as the finish itself): hsum4, then finish_i32's window
                ;; @insert mvm-i16-finish-first
                (if (local.get $pair)
                  (then
                    (local.set $accRow (i32.add (local.get $accRow) (i32.shl (local.get $accStride) (i32.const 2))))
                    ;; @insert mvm-i16-finish-second
                    )))
              (else
                (local.set $at (i32.add (local.get $outRow) (i32.shl (local.get $c) (select (i32.const 2) (i32.const 3) (local.get $asI32)))))
                (call $storeSums (local.get $at) (local.get $asI32) (call $hsum4 (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))
                (if (local.get $pair)
                  (then (call $storeSums (i32.add (local.get $at) (local.get $outBytes)) (local.get $asI32)
                    (call $hsum4 (local.get $a4) (local.get $a5) (local.get $a6) (local.get $a7)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $loopC)))
        (local.set $x (i32.add (local.get $xEnd) (local.get $rowBytes)))
        (local.set $outRow (i32.add (local.get $outRow) (i32.shl (local.get $outBytes) (i32.const 1))))
        (local.set $o (i32.add (local.get $o) (i32.const 2)))
        (br $loopO))))

  ;; mvm_i16_pairs(w, pairCols, x, rowsPadded, outer, list, table, cols, correction, dL, wrapShift, acc, accStride, colBase):
  ;; mvm_i16's sums and fused finish (acc ≠ 0 there) from each vector's non-zero pairs of rows only, where mvm_i16 skips
  ;; 8-row chunks that are 0 in both vectors of a pair: fewer products when the zeros are scattered (the CNN fixture's
  ;; third convolution: 35 % of the row pairs against 56 % of the chunks), at a higher cost per product (each splat
  ;; input pair meets its own weight load). WasmIntegerMvm picks one per call (nonzero_counts).
  ;; w: i32 [rowsPadded/2, pairCols], pairCols a multiple of 16: w[r, c] in the low half of pair r/2's column c for even r,
  ;;   the high half for odd r (0 past the tile's rows and columns); x: i16 [outer, rowsPadded]; cols: the columns
  ;;   finished (the group's, rounded up to 4; ≤ pairCols), as mvm_i16 does: less correction [cols], truncated, wrapped,
  ;;   added into acc at o·accStride + colBase; list: scratch i32 [rowsPadded/2]; table: i32x4 [16], entry m the byte
  ;;   offsets 4·l of the set bits l of m in order (the rest any).
  ;; One vector at a time: its pairs not both 0 listed four at a time (their non-zero mask looks up the offsets to
  ;; store), then per pass of 16 columns four accumulators that are the columns themselves (no lane sums): each listed
  ;; pair's two inputs splat into every lane, dot with four columns' interleaved weight pairs (mvmI16PairsPass in
  ;; scripts/wat-kernels.mjs).
  (func $mvmI16Pairs (export "mvm_i16_pairs")
    (param $w i32) (param $pairCols i32) (param $x i32) (param $rowsPadded i32) (param $outer i32) (param $list i32) (param $table i32)
    (param $cols i32) (param $correction i32) (param $dL i32) (param $wrapShift i32) (param $acc i32) (param $accStride i32) (param $colBase i32)
    (local $o i32) (local $xRow i32) (local $rowBytes i32) (local $off i32) (local $listEnd i32) (local $m i32) (local $e i32) (local $c i32)
    (local $wBase i32) (local $wq i32) (local $accRow i32) (local $accAt i32) (local $corrAt i32) (local $xs v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $rowBytes (i32.shl (local.get $rowsPadded) (i32.const 1)))
    (local.set $xRow (local.get $x))
    (local.set $accRow (i32.add (local.get $acc) (i32.shl (local.get $colBase) (i32.const 2))))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $listEnd (local.get $list))
        (local.set $off (i32.const 0))
        (loop $loopL
          (local.set $m (i32x4.bitmask (i32x4.ne (v128.load (i32.add (local.get $xRow) (local.get $off))) (v128.const i64x2 0 0))))
          (v128.store (local.get $listEnd) (i32x4.add (i32x4.splat (local.get $off))
            (v128.load (i32.add (local.get $table) (i32.shl (local.get $m) (i32.const 4))))))
          (local.set $listEnd (i32.add (local.get $listEnd) (i32.shl (i32.popcnt (local.get $m)) (i32.const 2))))
          (local.set $off (i32.add (local.get $off) (i32.const 16)))
          (br_if $loopL (i32.lt_u (local.get $off) (local.get $rowBytes))))
        (local.set $c (i32.const 0))
        (loop $loopC
          (local.set $wBase (i32.add (local.get $w) (i32.shl (local.get $c) (i32.const 2))))
          ;; @insert mvm-i16-pairs-pass
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $loopC (i32.lt_u (local.get $c) (local.get $cols))))
        (local.set $xRow (i32.add (local.get $xRow) (local.get $rowBytes)))
        (local.set $accRow (i32.add (local.get $accRow) (i32.shl (local.get $accStride) (i32.const 2))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO))))

  ;; nonzero_counts(x, rowsPadded, outer, every, out): of x i16 [outer, rowsPadded] (rowsPadded a multiple of 8), every
  ;; every-th pair of vectors (vectors 2k, 2k + 1 for k = 0, every, 2·every, … while 2k + 1 < outer) counted: out[0] +=
  ;; its 8-row chunks not 0 in both (what mvm_i16 multiplies), out[1] += its two vectors' pairs of rows not both 0
  ;; (what mvm_i16_pairs multiplies).
  (func (export "nonzero_counts") (param $x i32) (param $rowsPadded i32) (param $outer i32) (param $every i32) (param $out i32)
    (local $o i32) (local $p i32) (local $q i32) (local $end i32) (local $u v128) (local $v v128) (local $chunks i32) (local $pairs i32)
    (local.set $o (i32.const 1))
    (block $done
      (loop $loopO
        (br_if $done (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $p (i32.add (local.get $x) (i32.shl (i32.mul (i32.sub (local.get $o) (i32.const 1)) (local.get $rowsPadded)) (i32.const 1))))
        (local.set $q (i32.add (local.get $p) (i32.shl (local.get $rowsPadded) (i32.const 1))))
        (local.set $end (local.get $q))
        (loop $loopK
          (local.set $u (v128.load (local.get $p)))
          (local.set $v (v128.load (local.get $q)))
          (local.set $chunks (i32.add (local.get $chunks) (v128.any_true (v128.or (local.get $u) (local.get $v)))))
          (local.set $pairs (i32.add (local.get $pairs) (i32.add
            (i32.popcnt (i32x4.bitmask (i32x4.ne (local.get $u) (v128.const i64x2 0 0))))
            (i32.popcnt (i32x4.bitmask (i32x4.ne (local.get $v) (v128.const i64x2 0 0)))))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br_if $loopK (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $o (i32.add (local.get $o) (i32.shl (local.get $every) (i32.const 1))))
        (br $loopO)))
    (i32.store (local.get $out) (i32.add (i32.load (local.get $out)) (local.get $chunks)))
    (i32.store offset=4 (local.get $out) (i32.add (i32.load offset=4 (local.get $out)) (local.get $pairs))))

  ;; Four i32 sums stored at `at`: as i32 (asI32 ≠ 0), or converted to f64.
  (func $storeSums (param $at i32) (param $asI32 i32) (param $v v128)
    (if (local.get $asI32)
      (then (v128.store (local.get $at) (local.get $v)))
      (else
        (v128.store (local.get $at) (f64x2.convert_low_i32x4_s (local.get $v)))
        (v128.store offset=16 (local.get $at) (f64x2.convert_low_i32x4_s (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))))

  ;; Kernel (c), both phases in one call: mvm(w, rows, rowsPadded, colsPadded, x, outer, narrow, maxInput, out, list) → 1
  ;; when narrow_inputs(x, outer, rows, rowsPadded, narrow) ≤ maxInput (unsigned) and then mvm_i16(w, rowsPadded,
  ;; colsPadded, narrow, outer, out, 0, list) has run; else 0 with `out` untouched.
  (func (export "mvm")
    (param $w i32) (param $rows i32) (param $rowsPadded i32) (param $colsPadded i32) (param $x i32) (param $outer i32)
    (param $narrow i32) (param $maxInput i32) (param $out i32) (param $list i32) (result i32)
    (if (i32.gt_u (call $narrowInputs (local.get $x) (local.get $outer) (local.get $rows) (local.get $rowsPadded) (local.get $narrow))
                  (local.get $maxInput))
      (then (return (i32.const 0))))
    (call $mvmI16 (local.get $w) (local.get $rowsPadded) (local.get $colsPadded) (local.get $narrow) (local.get $outer) (local.get $out) (i32.const 0)
      (local.get $list) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (i32.const 1))

;; Stride-1 convolutions read from padded inputs: pad_inputs, then gather_padded (either path) or conv_i16 (the fast
  ;; path's small tiles, without the im2col).
  ;; pad_inputs(x, planes, height, width, padTop, padLeft, paddedHeight, paddedWidth, inputOffset, dst, narrow): x i32
  ;; [planes, height, width] (a pass's images' channel planes, one after the other) into dst [planes, paddedHeight,
  ;; paddedWidth], i16 (narrow ≠ 0; the caller has checked that the values fit) or i32: x + inputOffset at
  ;; (padTop + y, padLeft + x), inputOffset (what gather reads in the padding) everywhere else. Reads up to 28 bytes
  ;; past x's last row.
  (func (export "pad_inputs")
    (param $x i32) (param $planes i32) (param $height i32) (param $width i32) (param $padTop i32) (param $padLeft i32)
    (param $paddedHeight i32) (param $paddedWidth i32) (param $inputOffset i32) (param $dst i32) (param $narrow i32)
    (local $i i32) (local $end i32) (local $y i32) (local $src i32) (local $row i32) (local $k i32) (local $offV v128) (local $padV v128)
    (local $shift i32)
    ;; element bytes as a shift: 1 (i16) or 2 (i32)
    (local.set $shift (select (i32.const 1) (i32.const 2) (local.get $narrow)))
    (local.set $offV (i32x4.splat (local.get $inputOffset)))
    (local.set $padV (select (i16x8.splat (local.get $inputOffset)) (local.get $offV) (local.get $narrow)))
    ;; the padding's value everywhere first (sixteen bytes at a time, then element by element)
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $planes) (i32.mul (local.get $paddedHeight) (local.get $paddedWidth))) (local.get $shift))))
    (local.set $i (local.get $dst))
    (block $doneF
      (loop $loopF
        (br_if $doneF (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $i) (local.get $padV))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $loopF)))
    (block $doneT
      (loop $loopT
        (br_if $doneT (i32.ge_u (local.get $i) (local.get $end)))
        (if (local.get $narrow)
          (then (i32.store16 (local.get $i) (local.get $inputOffset)))
          (else (i32.store (local.get $i) (local.get $inputOffset))))
        (local.set $i (i32.add (local.get $i) (i32.shl (i32.const 1) (local.get $shift))))
        (br $loopT)))
    ;; then each input row into its place: whole groups (eight as i16x8, four as i32x4), the rest one by one, so
    ;; that no store reaches the padding on its right
    (local.set $src (local.get $x))
    (local.set $row (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $padTop) (local.get $paddedWidth)) (local.get $padLeft)) (local.get $shift))))
    (local.set $end (i32.mul (local.get $planes) (local.get $height)))
    (block $doneY
      (loop $loopY
        (br_if $doneY (i32.ge_u (local.get $y) (local.get $end)))
        (local.set $k (i32.const 0))
        (if (local.get $narrow)
          (then
            (block $doneK
              (loop $loopK
                (br_if $doneK (i32.gt_u (i32.add (local.get $k) (i32.const 8)) (local.get $width)))
                (v128.store (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 1)))
                  (i16x8.narrow_i32x4_s
                    (i32x4.add (v128.load (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2)))) (local.get $offV))
                    (i32x4.add (v128.load offset=16 (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2)))) (local.get $offV))))
                (local.set $k (i32.add (local.get $k) (i32.const 8)))
                (br $loopK))))
          (else
            (block $doneK4
              (loop $loopK4
                (br_if $doneK4 (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $width)))
                (v128.store (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 2)))
                  (i32x4.add (v128.load (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2)))) (local.get $offV)))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $loopK4)))))
        (block $doneR
          (loop $loopR
            (br_if $doneR (i32.ge_u (local.get $k) (local.get $width)))
            (local.set $i (i32.add (i32.load (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2)))) (local.get $inputOffset)))
            (if (local.get $narrow)
              (then (i32.store16 (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 1))) (local.get $i)))
              (else (i32.store (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 2))) (local.get $i))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $loopR)))
        (local.set $src (i32.add (local.get $src) (i32.shl (local.get $width) (i32.const 2))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        ;; the next row: a row down, or past the bottom and top padding into the next plane
        (local.set $row (i32.add (local.get $row) (i32.shl (select
          (i32.mul (i32.sub (local.get $paddedHeight) (i32.sub (local.get $height) (i32.const 1))) (local.get $paddedWidth))
          (local.get $paddedWidth)
          (i32.eqz (i32.rem_u (local.get $y) (local.get $height)))) (local.get $shift))))
        (br $loopY))))

  ;; gather_padded(x, images, imageStride, outHeight, outWidth, paddedWidth, runs, runCount, rows, biasRow, biasInput,
  ;; rowsPadded, dst): gather_runs for a stride-1 convolution on its padded input (pad_inputs' dst; image b at element
  ;; b·imageStride), where every output position reads the same runs from its own window: runs i32 [runCount, 2] =
  ;; (first row, offset of its first input from the window's corner), the window of output (y, x) of image b at
  ;; element b·imageStride + y·paddedWidth + x. rowsPadded ≠ 0: x and dst i16, dst [images·outHeight·outWidth,
  ;; rowsPadded], one i16x8 per run; else i32, dst [images·outHeight·outWidth, rows + biasRow], two i32x4 per run.
  ;; The lanes past a run are overwritten, or lie in the padding rows, as gather_runs's; then biasInput on the bias
  ;; row. Reads up to 28 bytes past the last image and writes up to 28 past the last row (the caller leaves room).
  (func (export "gather_padded")
    (param $x i32) (param $images i32) (param $imageStride i32) (param $outHeight i32) (param $outWidth i32) (param $paddedWidth i32)
    (param $runs i32) (param $runCount i32) (param $rows i32) (param $biasRow i32) (param $biasInput i32) (param $rowsPadded i32) (param $dst i32)
    (local $b i32) (local $y i32) (local $xo i32) (local $base i32) (local $k i32) (local $runsEnd i32) (local $rowBytes i32)
    (local.set $runsEnd (i32.add (local.get $runs) (i32.shl (local.get $runCount) (i32.const 3))))
    (local.set $rowBytes (select
      (i32.shl (local.get $rowsPadded) (i32.const 1))
      (i32.shl (i32.add (local.get $rows) (local.get $biasRow)) (i32.const 2))
      (local.get $rowsPadded)))
    (block $doneB
      (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $images)))
        (local.set $y (i32.const 0))
        (block $doneY
          (loop $loopY
            (br_if $doneY (i32.ge_u (local.get $y) (local.get $outHeight)))
            (local.set $xo (i32.const 0))
            (block $doneX
              (loop $loopX
                (br_if $doneX (i32.ge_u (local.get $xo) (local.get $outWidth)))
                (local.set $base (i32.add (i32.mul (local.get $b) (local.get $imageStride))
                  (i32.add (i32.mul (local.get $y) (local.get $paddedWidth)) (local.get $xo))))
                (local.set $k (local.get $runs))
                (if (local.get $rowsPadded)
                  (then
                    (local.set $base (i32.add (local.get $x) (i32.shl (local.get $base) (i32.const 1))))
                    (loop $loopK
                      (v128.store (i32.add (local.get $dst) (i32.shl (i32.load (local.get $k)) (i32.const 1)))
                        (v128.load (i32.add (local.get $base) (i32.shl (i32.load offset=4 (local.get $k)) (i32.const 1)))))
                      (local.set $k (i32.add (local.get $k) (i32.const 8)))
                      (br_if $loopK (i32.lt_u (local.get $k) (local.get $runsEnd))))
                    (if (local.get $biasRow) (then (i32.store16 (i32.add (local.get $dst) (i32.shl (local.get $rows) (i32.const 1))) (local.get $biasInput)))))
                  (else
                    (local.set $base (i32.add (local.get $x) (i32.shl (local.get $base) (i32.const 2))))
                    (loop $loopK4
                      (v128.store (i32.add (local.get $dst) (i32.shl (i32.load (local.get $k)) (i32.const 2)))
                        (v128.load (i32.add (local.get $base) (i32.shl (i32.load offset=4 (local.get $k)) (i32.const 2)))))
                      (v128.store offset=16 (i32.add (local.get $dst) (i32.shl (i32.load (local.get $k)) (i32.const 2)))
                        (v128.load offset=16 (i32.add (local.get $base) (i32.shl (i32.load offset=4 (local.get $k)) (i32.const 2)))))
                      (local.set $k (i32.add (local.get $k) (i32.const 8)))
                      (br_if $loopK4 (i32.lt_u (local.get $k) (local.get $runsEnd))))
                    (if (local.get $biasRow) (then (i32.store (i32.add (local.get $dst) (i32.shl (local.get $rows) (i32.const 2))) (local.get $biasInput))))))
                (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
                (local.set $xo (i32.add (local.get $xo) (i32.const 1)))
                (br $loopX)))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $loopY)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB))))

;; gather_padded_i16(x, images, imageStride, outHeight, outWidth, paddedWidth, taps, groups, full, masks, dst): the i16
  ;; rows gather_padded gives, for output rows at least 8 wide, eight positions at a time: each group of eight rows
  ;; loaded as eight positions per row (row r of the position at window corner base reads base + taps[r]) and
  ;; transposed (gatherPaddedI16Group in scripts/wat-kernels.mjs), where gather_padded moves a run of a kernel row per
  ;; load (the CNN fixture's 128-row tiles: 43 runs of 2–3 rows). A row's last block is moved back to end at the
  ;; row's end, writing some positions twice with the same rows. taps i32 [8·groups] (rows past the tile's: any
  ;; offset within the window, e.g. 0); masks, for groups full..groups − 1, two i16x8 each: keep and fill, stored
  ;; (v & keep) | fill (0 past the tile's rows, the bias row's input on it). dst i16 [images·outHeight·outWidth,
  ;; 8·groups]. Reads only inside the output positions' windows.
  (func (export "gather_padded_i16")
    (param $x i32) (param $images i32) (param $imageStride i32) (param $outHeight i32) (param $outWidth i32) (param $paddedWidth i32)
    (param $taps i32) (param $groups i32) (param $full i32) (param $masks i32) (param $dst i32)
    (local $b i32) (local $y i32) (local $x0 i32) (local $image i32) (local $row i32) (local $dstRow i32) (local $base i32) (local $d i32)
    (local $g i32) (local $tp i32) (local $mk i32) (local $rowBytes i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $r4 v128) (local $r5 v128) (local $r6 v128) (local $r7 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $s4 v128) (local $s5 v128) (local $s6 v128) (local $s7 v128)
    (local.set $rowBytes (i32.shl (local.get $groups) (i32.const 4)))
    (local.set $dstRow (local.get $dst))
    (block $doneB
      (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $images)))
        (local.set $image (i32.add (local.get $x) (i32.shl (i32.mul (local.get $b) (local.get $imageStride)) (i32.const 1))))
        (local.set $y (i32.const 0))
        (block $doneY
          (loop $loopY
            (br_if $doneY (i32.ge_u (local.get $y) (local.get $outHeight)))
            (local.set $row (i32.add (local.get $image) (i32.shl (i32.mul (local.get $y) (local.get $paddedWidth)) (i32.const 1))))
            (local.set $x0 (i32.const 0))
            (loop $loopX
              ;; the row's last block ends at its end
              (if (i32.gt_u (i32.add (local.get $x0) (i32.const 8)) (local.get $outWidth))
                (then (local.set $x0 (i32.sub (local.get $outWidth) (i32.const 8)))))
              (local.set $base (i32.add (local.get $row) (i32.shl (local.get $x0) (i32.const 1))))
              (local.set $d (i32.add (local.get $dstRow) (i32.mul (local.get $x0) (local.get $rowBytes))))
              (local.set $tp (local.get $taps))
              (local.set $mk (local.get $masks))
              (local.set $g (i32.const 0))
              (loop $loopG
                ;; @insert gather-padded-i16-group
                (local.set $d (i32.add (local.get $d) (i32.const 16)))
                (local.set $tp (i32.add (local.get $tp) (i32.const 32)))
                (local.set $g (i32.add (local.get $g) (i32.const 1)))
                (br_if $loopG (i32.lt_u (local.get $g) (local.get $groups))))
              (local.set $x0 (i32.add (local.get $x0) (i32.const 8)))
              (br_if $loopX (i32.lt_u (local.get $x0) (local.get $outWidth))))
            (local.set $dstRow (i32.add (local.get $dstRow) (i32.mul (local.get $outWidth) (local.get $rowBytes))))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $loopY)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB))))

    ;; conv_i16(x, images, imageStride, outHeight, outWidth, paddedWidth, taps, pairs, w, init, colsPadded, out,
  ;;          correction, dL, wrapShift, acc, accStride, colBase): the sums of a stride-1 convolution tile straight from
  ;; its padded i16 input (pad_inputs' narrowed dst; image b at element b·imageStride), as mvm_i16 gives them from gathered
  ;; rows: out i32 [images·outHeight·outWidth, colsPadded], out[o, c] = init[c] + Σ_r x[base(o) + taps[r]]·w[r, c],
  ;; base(o) = b·imageStride + y·paddedWidth + x for output position (y, x) of image b (the tile's rows r are its
  ;; taps: taps[r] the element offset of row r's channel plane and kernel tap from the window's corner; init the bias
  ;; row's input times its weights), exact when the true sums fit i32 (the same bound); or (acc ≠ 0) finished into the
  ;; accumulators as mvm_i16's fused finish does (correction [colsPadded], out unused).
  ;; Rows come in pairs: taps i32 [2·pairs], w i32 [pairs, colsPadded] with w[r, c] in the low and w[r + 1, c] in the
  ;; high half (an odd last row paired with a zero weight); colsPadded a multiple of 4, init i32 [colsPadded].
  ;; Eight positions of an output row at a time (i16 lanes): a pair's two rows' inputs interleaved, so that one
  ;; i32x4.dot_i16x8_s with the pair's weights splat gives four positions' two products each; four columns per pass
  ;; (eight i32x4 accumulators), a pair whose sixteen inputs are all 0 skipped; the 4×4 blocks of sums transposed to
  ;; each position's (convI16Pair and convI16Store in scripts/wat-kernels.mjs). Positions past a row's end are
  ;; computed too: stored over the next positions (which are written later) or up to seven rows past out's end (the
  ;; caller leaves room), not finished. Reads stay within x's images + 16 bytes.
  (func (export "conv_i16")
    (param $x i32) (param $images i32) (param $imageStride i32) (param $outHeight i32) (param $outWidth i32) (param $paddedWidth i32)
    (param $taps i32) (param $pairs i32) (param $w i32) (param $init i32) (param $colsPadded i32) (param $out i32)
    (param $correction i32) (param $dL i32) (param $wrapShift i32) (param $acc i32) (param $accStride i32) (param $colBase i32)
    (local $b i32) (local $y i32) (local $x0 i32) (local $c i32) (local $j i32) (local $base i32) (local $wc i32) (local $tp i32)
    (local $o i32) (local $rowBytes i32) (local $image i32) (local $corrAt i32) (local $accRow i32)
    (local $u v128) (local $v v128) (local $lo v128) (local $hi v128) (local $wv v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local.set $rowBytes (i32.shl (local.get $colsPadded) (i32.const 2)))
    (block $doneB
      (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $images)))
        (local.set $image (i32.add (local.get $x) (i32.shl (i32.mul (local.get $b) (local.get $imageStride)) (i32.const 1))))
        (local.set $y (i32.const 0))
        (block $doneY
          (loop $loopY
            (br_if $doneY (i32.ge_u (local.get $y) (local.get $outHeight)))
            (local.set $x0 (i32.const 0))
            (block $doneX
              (loop $loopX
                (br_if $doneX (i32.ge_u (local.get $x0) (local.get $outWidth)))
                (local.set $base (i32.add (local.get $image) (i32.shl (i32.add (i32.mul (local.get $y) (local.get $paddedWidth)) (local.get $x0)) (i32.const 1))))
                (local.set $c (i32.const 0))
                (block $doneC
                  (loop $loopC
                    (br_if $doneC (i32.ge_u (local.get $c) (local.get $colsPadded)))
                    (local.set $a0 (i32x4.splat (i32.load (i32.add (local.get $init) (i32.shl (local.get $c) (i32.const 2))))))
                    (local.set $a1 (local.get $a0))
                    (local.set $a2 (i32x4.splat (i32.load offset=4 (i32.add (local.get $init) (i32.shl (local.get $c) (i32.const 2))))))
                    (local.set $a3 (local.get $a2))
                    (local.set $a4 (i32x4.splat (i32.load offset=8 (i32.add (local.get $init) (i32.shl (local.get $c) (i32.const 2))))))
                    (local.set $a5 (local.get $a4))
                    (local.set $a6 (i32x4.splat (i32.load offset=12 (i32.add (local.get $init) (i32.shl (local.get $c) (i32.const 2))))))
                    (local.set $a7 (local.get $a6))
                    (local.set $tp (local.get $taps))
                    (local.set $wc (i32.add (local.get $w) (i32.shl (local.get $c) (i32.const 2))))
                    (local.set $j (i32.const 0))
                    (block $doneJ
                      (loop $loopJ
                        (br_if $doneJ (i32.ge_u (local.get $j) (local.get $pairs)))
                        (local.set $u (v128.load (i32.add (local.get $base) (i32.shl (i32.load (local.get $tp)) (i32.const 1)))))
                        (local.set $v (v128.load (i32.add (local.get $base) (i32.shl (i32.load offset=4 (local.get $tp)) (i32.const 1)))))
                        (if (v128.any_true (v128.or (local.get $u) (local.get $v)))
                          (then
                            (local.set $lo (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $u) (local.get $v)))
                            (local.set $hi (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $u) (local.get $v)))
                            ;; @insert conv-i16-pair
                            ))
                        (local.set $tp (i32.add (local.get $tp) (i32.const 8)))
                        (local.set $wc (i32.add (local.get $wc) (local.get $rowBytes)))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br $loopJ)))
                    ;; @insert conv-i16-store
                    (local.set $c (i32.add (local.get $c) (i32.const 4)))
                    (br $loopC)))
                (local.set $o (i32.add (local.get $o) (i32.const 8)))
                (local.set $x0 (i32.add (local.get $x0) (i32.const 8)))
                (br $loopX)))
            ;; the row's last block went up to seven positions past its end: the next row starts at its end
            (local.set $o (i32.sub (local.get $o) (i32.sub (local.get $x0) (local.get $outWidth))))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $loopY)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB))))

  ;; [Σ lanes of a, Σ lanes of b, Σ lanes of c, Σ lanes of d] with wrapping i32 adds (laneSums in scripts/wat-kernels.mjs).
  (func $hsum4 (param $a v128) (param $b v128) (param $c v128) (param $d v128) (result v128)
    (local $ab v128) (local $cd v128)
    ;; @insert hsum4-body
    )

  ;; ---------------------------------------------------------------------------------------------------------------
  ;; Layer glue, so that a layer's tiles read their inputs from and add their results into WebAssembly memory.
  ;;
  ;; gather(x, images, imageStride, positions, offsets, rows, biasRow, biasInput, inputOffset, narrowPadded, dst) =
  ;; gatherTileInputsImpl: x i32 layer inputs x_int (image b starts at element b·imageStride); offsets i32 [positions,
  ;; rows]: where tile row r reads at output position p within an image (−1: padding). dst i32 [images·positions,
  ;; rows + biasRow]: x_int + inputOffset (padding: 0 + inputOffset), then biasInput on the bias row. narrowPadded ≠ 0:
  ;; dst is i16 [images·positions, narrowPadded] instead, zero-padded (mvm_i16's input; the caller has checked that
  ;; every value fits the MVM's bound). A linear layer is images = outer, positions = 1, offsets = row0 .. row0 + rows.
  ;; Padding is a select, not a branch: its load reads the 4 bytes before the image (x is never at address 0).
  (func (export "gather")
    (param $x i32) (param $images i32) (param $imageStride i32) (param $positions i32) (param $offsets i32) (param $rows i32)
    (param $biasRow i32) (param $biasInput i32) (param $inputOffset i32) (param $narrowPadded i32) (param $dst i32)
    (local $b i32) (local $p i32) (local $img i32) (local $off i32) (local $at i32) (local $end i32) (local $next i32)
    (local $rowBytes i32)
    (if (local.get $narrowPadded)
      (then (memory.fill (local.get $dst) (i32.const 0)
        (i32.shl (i32.mul (i32.mul (local.get $images) (local.get $positions)) (local.get $narrowPadded)) (i32.const 1)))))
    (local.set $rowBytes (select
      (i32.shl (local.get $narrowPadded) (i32.const 1))
      (i32.shl (i32.add (local.get $rows) (local.get $biasRow)) (i32.const 2))
      (local.get $narrowPadded)))
    (block $doneB
      (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $images)))
        (local.set $img (i32.add (local.get $x) (i32.shl (i32.mul (local.get $b) (local.get $imageStride)) (i32.const 2))))
        (local.set $at (local.get $offsets))
        (local.set $p (i32.const 0))
        (block $doneP
          (loop $loopP
            (br_if $doneP (i32.ge_u (local.get $p) (local.get $positions)))
            (local.set $next (i32.add (local.get $dst) (local.get $rowBytes)))
            (local.set $end (i32.add (local.get $at) (i32.shl (local.get $rows) (i32.const 2))))
            (if (local.get $narrowPadded)
              (then
                (block $doneN
                  (loop $loopN
                    (br_if $doneN (i32.ge_u (local.get $at) (local.get $end)))
                    (local.set $off (i32.load (local.get $at)))
                    (i32.store16 (local.get $dst) (i32.add (local.get $inputOffset) (select
                      (i32.load (i32.add (local.get $img) (i32.shl (local.get $off) (i32.const 2))))
                      (i32.const 0)
                      (i32.ge_s (local.get $off) (i32.const 0)))))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 2)))
                    (local.set $at (i32.add (local.get $at) (i32.const 4)))
                    (br $loopN)))
                (if (local.get $biasRow) (then (i32.store16 (local.get $dst) (local.get $biasInput)))))
              (else
                (block $doneW
                  (loop $loopW
                    (br_if $doneW (i32.ge_u (local.get $at) (local.get $end)))
                    (local.set $off (i32.load (local.get $at)))
                    (i32.store (local.get $dst) (i32.add (local.get $inputOffset) (select
                      (i32.load (i32.add (local.get $img) (i32.shl (local.get $off) (i32.const 2))))
                      (i32.const 0)
                      (i32.ge_s (local.get $off) (i32.const 0)))))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                    (local.set $at (i32.add (local.get $at) (i32.const 4)))
                    (br $loopW)))
                (if (local.get $biasRow) (then (i32.store (local.get $dst) (local.get $biasInput))))))
            (local.set $dst (local.get $next))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $loopP)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB))))

  ;; gather_runs(x, images, imageStride, positions, starts, runs, rows, biasRow, biasInput, inputOffset, rowsPadded, dst):
  ;; gather by runs of up to 8 tile rows whose inputs lie side by side in the image (a kernel row's taps, a linear
  ;; layer's rows): runs i32 [n, 2] = (first row, offset of its first input, −1: a run of padding rows), those of
  ;; position p at starts[p] .. starts[p + 1], in row order. Each run is 8 loads' worth: x + inputOffset as two i32x4,
  ;; stored whole, the lanes past the run overwritten by the next run, the bias row or the next position's row after
  ;; them, or lying in the padding rows, whose weights are 0. As gather, rowsPadded ≠ 0 narrows (dst i16
  ;; [images·positions, rowsPadded], the caller has checked that the values fit i16), else dst is i32 [images·positions,
  ;; rows + biasRow]. Reads up to 28 bytes past an image and writes up to 28 past the last row (the caller leaves room
  ;; after x and after dst). Equal to gather on every row and the bias row.
  (func (export "gather_runs")
    (param $x i32) (param $images i32) (param $imageStride i32) (param $positions i32) (param $starts i32) (param $runs i32)
    (param $rows i32) (param $biasRow i32) (param $biasInput i32) (param $inputOffset i32) (param $rowsPadded i32) (param $dst i32)
    (local $b i32) (local $p i32) (local $img i32) (local $k i32) (local $kEnd i32) (local $off i32) (local $src i32) (local $row i32)
    (local $rowBytes i32) (local $first i32) (local $at i32) (local $offV v128) (local $padV v128)
    (local.set $offV (i32x4.splat (local.get $inputOffset)))
    (local.set $padV (i16x8.splat (local.get $inputOffset)))
    (local.set $rowBytes (select
      (i32.shl (local.get $rowsPadded) (i32.const 1))
      (i32.shl (i32.add (local.get $rows) (local.get $biasRow)) (i32.const 2))
      (local.get $rowsPadded)))
    (local.set $row (local.get $dst))
    (block $doneB
      (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $images)))
        (local.set $img (i32.add (local.get $x) (i32.shl (i32.mul (local.get $b) (local.get $imageStride)) (i32.const 2))))
        (local.set $p (i32.const 0))
        (block $doneP
          (loop $loopP
            (br_if $doneP (i32.ge_u (local.get $p) (local.get $positions)))
            (local.set $k (i32.load (i32.add (local.get $starts) (i32.shl (local.get $p) (i32.const 2)))))
            (local.set $kEnd (i32.load offset=4 (i32.add (local.get $starts) (i32.shl (local.get $p) (i32.const 2)))))
            (block $doneK
              (loop $loopK
                (br_if $doneK (i32.ge_u (local.get $k) (local.get $kEnd)))
                (local.set $off (i32.load offset=4 (i32.add (local.get $runs) (i32.shl (local.get $k) (i32.const 3)))))
                (local.set $src (i32.add (local.get $img) (i32.shl (local.get $off) (i32.const 2))))
                (local.set $first (i32.load (i32.add (local.get $runs) (i32.shl (local.get $k) (i32.const 3)))))
                (if (local.get $rowsPadded)
                  (then
                    (v128.store (i32.add (local.get $row) (i32.shl (local.get $first) (i32.const 1)))
                      (select
                        (i16x8.narrow_i32x4_s
                          (i32x4.add (v128.load (local.get $src)) (local.get $offV))
                          (i32x4.add (v128.load offset=16 (local.get $src)) (local.get $offV)))
                        (local.get $padV)
                        (i32.ge_s (local.get $off) (i32.const 0)))))
                  (else
                    (local.set $at (i32.add (local.get $row) (i32.shl (local.get $first) (i32.const 2))))
                    (v128.store offset=0 (local.get $at)
                      (select (i32x4.add (v128.load (local.get $src)) (local.get $offV)) (local.get $offV) (i32.ge_s (local.get $off) (i32.const 0))))
                    (v128.store offset=16 (local.get $at)
                      (select (i32x4.add (v128.load offset=16 (local.get $src)) (local.get $offV)) (local.get $offV) (i32.ge_s (local.get $off) (i32.const 0))))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $loopK)))
            (if (local.get $biasRow)
              (then
                (if (local.get $rowsPadded)
                  (then (i32.store16 (i32.add (local.get $row) (i32.shl (local.get $rows) (i32.const 1))) (local.get $biasInput)))
                  (else (i32.store (i32.add (local.get $row) (i32.shl (local.get $rows) (i32.const 2))) (local.get $biasInput))))))
            (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $loopP)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB))))

  ;; finish(src, srcStride, outer, cols, scheme, slices, place, correction, truncate, down, m, acc, outBase, colBase,
  ;;        channelStride): a tile's reads into the layer's accumulators, = combineSlicesImpl (scheme 1 differential,
  ;; 2 offset column; 0: src already holds the tile's column values, the fast path) then subtractPerColumnImpl, then
  ;; (truncate ≠ 0) truncateWindowImpl with down = 2^−D_L and m = 2^O_RWL, then scatterAddImpl — scalar f64 in the
  ;; same order as the TypeScript, so bit for bit. src f64 rows of srcStride values; place f64 [slices] = 2^(s·cb);
  ;; correction f64 [cols]; acc f64; outBase i32 [outer]. JS's `a % m` on integers is a − trunc(a / m)·m, exactly.
  ;; m is a power of two, 2 ≤ m ≤ 2^53; truncate = 2: floor(v·down) only (a window wider than 53 bits wraps nothing).
  (func (export "finish")
    (param $src i32) (param $srcStride i32) (param $outer i32) (param $cols i32) (param $scheme i32) (param $slices i32)
    (param $place i32) (param $correction i32) (param $truncate i32) (param $down f64) (param $m f64) (param $acc i32)
    (param $outBase i32) (param $colBase i32) (param $channelStride i32) (param $rowMap i32)
    (local $o i32) (local $j i32) (local $s i32) (local $row i32) (local $c0 i32) (local $dst i32) (local $dstStep i32)
    (local $v f64) (local $offset f64) (local $a f64) (local $r f64) (local $half f64) (local $ps f64) (local $invM f64)
    (local.set $half (f64.mul (local.get $m) (f64.const 0.5)))
    (local.set $invM (f64.div (f64.const 1) (local.get $m)))
    (local.set $dstStep (i32.shl (local.get $channelStride) (i32.const 3)))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $row (i32.add (local.get $src) (i32.shl (i32.mul (call $mappedRow (local.get $rowMap) (local.get $o)) (local.get $srcStride)) (i32.const 3))))
        (local.set $offset (f64.const 0))
        (if (i32.eq (local.get $scheme) (i32.const 2))
          (then
            (local.set $c0 (i32.add (local.get $row) (i32.shl (i32.mul (local.get $cols) (local.get $slices)) (i32.const 3))))
            (local.set $s (i32.const 0))
            (block $doneS
              (loop $loopS
                (br_if $doneS (i32.ge_u (local.get $s) (local.get $slices)))
                (local.set $offset (f64.add (local.get $offset) (f64.mul
                  (f64.load (i32.add (local.get $place) (i32.shl (local.get $s) (i32.const 3))))
                  (f64.load (i32.add (local.get $c0) (i32.shl (local.get $s) (i32.const 3)))))))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (br $loopS)))))
        (local.set $dst (i32.add (local.get $acc) (i32.shl
          (i32.add (i32.load (i32.add (local.get $outBase) (i32.shl (local.get $o) (i32.const 2))))
                   (i32.mul (local.get $colBase) (local.get $channelStride)))
          (i32.const 3))))
        (local.set $j (i32.const 0))
        (block $doneJ
          (loop $loopJ
            (br_if $doneJ (i32.ge_u (local.get $j) (local.get $cols)))
            (if (i32.eqz (local.get $scheme))
              (then (local.set $v (f64.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3))))))
              (else
                (local.set $v (f64.const 0))
                (local.set $s (i32.const 0))
                (if (i32.eq (local.get $scheme) (i32.const 1))
                  (then
                    (local.set $c0 (i32.add (local.get $row) (i32.shl (i32.mul (local.get $j) (i32.shl (local.get $slices) (i32.const 1))) (i32.const 3))))
                    (block $doneD
                      (loop $loopD
                        (br_if $doneD (i32.ge_u (local.get $s) (local.get $slices)))
                        (local.set $v (f64.add (local.get $v) (f64.mul
                          (f64.load (i32.add (local.get $place) (i32.shl (local.get $s) (i32.const 3))))
                          (f64.sub
                            (f64.load (i32.add (local.get $c0) (i32.shl (local.get $s) (i32.const 3))))
                            (f64.load (i32.add (local.get $c0) (i32.shl (i32.add (local.get $s) (local.get $slices)) (i32.const 3))))))))
                        (local.set $s (i32.add (local.get $s) (i32.const 1)))
                        (br $loopD))))
                  (else
                    (local.set $c0 (i32.add (local.get $row) (i32.shl (i32.mul (local.get $j) (local.get $slices)) (i32.const 3))))
                    (block $doneU
                      (loop $loopU
                        (br_if $doneU (i32.ge_u (local.get $s) (local.get $slices)))
                        (local.set $v (f64.add (local.get $v) (f64.mul
                          (f64.load (i32.add (local.get $place) (i32.shl (local.get $s) (i32.const 3))))
                          (f64.load (i32.add (local.get $c0) (i32.shl (local.get $s) (i32.const 3)))))))
                        (local.set $s (i32.add (local.get $s) (i32.const 1)))
                        (br $loopU)))
                    (local.set $v (f64.sub (local.get $v) (local.get $offset)))))))
            (local.set $v (f64.sub (local.get $v) (f64.load (i32.add (local.get $correction) (i32.shl (local.get $j) (i32.const 3))))))
            (if (local.get $truncate)
              (then
                (local.set $a (f64.floor (f64.mul (local.get $v) (local.get $down))))
                (if (i32.eq (local.get $truncate) (i32.const 1))
                  (then
                    ;; a / m as a·(1/m): exact, m being a power of two
                    (local.set $r (f64.sub (local.get $a) (f64.mul (f64.trunc (f64.mul (local.get $a) (local.get $invM))) (local.get $m))))
                    (if (f64.lt (local.get $r) (f64.const 0)) (then (local.set $r (f64.add (local.get $r) (local.get $m)))))
                    (local.set $v (f64.add
                      (select (f64.sub (local.get $r) (local.get $m)) (local.get $r) (f64.ge (local.get $r) (local.get $half)))
                      (f64.const 0))))
                  (else (local.set $v (f64.add (local.get $a) (f64.const 0)))))))
            (f64.store (local.get $dst) (f64.add (f64.load (local.get $dst)) (local.get $v)))
            (local.set $dst (i32.add (local.get $dst) (local.get $dstStep)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loopJ)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO))))

  ;; epilogue(acc, accI32, batch, positions, channels, bias, moveScale, relu, tapStarts, taps, outPositions, qScale,
  ;;          lo, hi, out): a layer's digital tail on its position-major accumulators acc [batch, positions, channels]
  ;; (f64, or i32 when accI32): a = acc + bias[c] (bias 0: none), v = a·moveScale, ReLU (v < 0 → 0) when relu, the
  ;; maximum over the window taps[tapStarts[q] .. tapStarts[q + 1]) of positions when tapStarts ≠ 0 (else q = p),
  ;; then x = clamp(nearest(v·qScale) + 0, lo, hi) (f64.nearest is round half to even, + 0 turns −0 into +0, as
  ;; roundHalfEven) into out f64 [batch, channels, outPositions] — addPerChannelImpl, the move, reluImpl, maxPoolImpl
  ;; and quantizeActivationsImpl in one pass, with the same float64 operations on the element each window keeps.
  ;; The window's maximum is taken first, on the accumulators: adding a constant, multiplying by moveScale > 0 (a
  ;; power of two) and the ReLU are each monotone non-decreasing in float64, so the maximum of their results is their
  ;; result on the maximum (a −0 among the values ends as +0 either way). Four channels at a time (a position's
  ;; channels are adjacent in acc), i32x4 or two f64x2 — eight in the integer form, two i32x4, for four positions at a
  ;; time while four are left (epilogueFourPositions in scripts/wat-kernels.mjs); past the last channel
  ;; the lanes read up to 3 elements (7 in the integer form) past a row of acc and of bias (the caller leaves 32 bytes
  ;; after acc, 24 after an f64 bias and 28 after an i32 bias) and are not stored.
  ;; Integer form (shift k ≥ 0; i32 accumulators, bias i32 [channels] of integers, moveScale·qScale = 2^−k): the same
  ;; values in i32 — a = clamp(acc, aLo, aHi) + bias, clamped to [L, H], ReLU, then round half to even of a / 2^k as
  ;; (a + 2^(k−1) − 1 + ((a >> k) & 1)) >> k (a >> 0 for k = 0), clamped to [lo, hi]: (acc + b)·2^−fl·2^fq is exact in
  ;; float64 and nearest rounds it half to even; the caller picks L ≤ (lo − 1)·2^k and H ≥ (hi + 1)·2^k, beyond which
  ;; every a ends at lo or hi, and aLo = L − max|b|, aHi = H + max|b|, so that no i32 sum wraps. out is then i32
  ;; [batch, channels, outPositions] and range i32 [min, max] over 0 and the values (what to_i32 would report).
  (func (export "epilogue")
    (param $acc i32) (param $accI32 i32) (param $batch i32) (param $positions i32) (param $channels i32) (param $bias i32)
    (param $moveScale f64) (param $relu i32) (param $tapStarts i32) (param $taps i32) (param $outPositions i32)
    (param $qScale f64) (param $lo f64) (param $hi f64) (param $out i32)
    (param $shift i32) (param $aLo i32) (param $aHi i32) (param $L i32) (param $H i32) (param $range i32)
    (local $b i32) (local $c i32) (local $q i32) (local $k i32) (local $kStart i32) (local $kEnd i32) (local $p i32)
    (local $at i32) (local $image i32) (local $outImage i32) (local $dst i32) (local $planeBytes i32) (local $half i32)
    (local $v v128) (local $w v128) (local $bestI v128) (local $bestLo v128) (local $bestHi v128)
    (local $moveV v128) (local $qScaleV v128) (local $loV v128) (local $hiV v128)
    (local $lane i32) (local $minR v128) (local $maxR v128) (local $laneMask v128)
    (local $aLoV v128) (local $aHiV v128) (local $LV v128) (local $HV v128) (local $loI v128) (local $hiI v128) (local $roundV v128)
    (local $bestJ v128) (local $cq i32) (local $biasV v128) (local $biasW v128) (local $laneMaskW v128)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $moveV (f64x2.splat (local.get $moveScale)))
    (local.set $qScaleV (f64x2.splat (local.get $qScale)))
    (local.set $loV (f64x2.splat (local.get $lo)))
    (local.set $hiV (f64x2.splat (local.get $hi)))
    ;; the integer form's bounds and rounding constant, splat once (not per four channels)
    (if (i32.ge_s (local.get $shift) (i32.const 0))
      (then
        (local.set $aLoV (i32x4.splat (local.get $aLo)))
        (local.set $aHiV (i32x4.splat (local.get $aHi)))
        (local.set $LV (i32x4.splat (local.get $L)))
        (local.set $HV (i32x4.splat (local.get $H)))
        (local.set $loI (i32x4.splat (i32.trunc_f64_s (local.get $lo))))
        (local.set $hiI (i32x4.splat (i32.trunc_f64_s (local.get $hi))))
        (if (local.get $shift)
          (then (local.set $roundV (i32x4.splat (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $shift) (i32.const 1))) (i32.const 1))))))))
    ;; bytes per output value: 4 for the integer form's i32, 8 for f64
    (local.set $planeBytes (i32.shl (local.get $outPositions) (select (i32.const 2) (i32.const 3) (i32.ge_s (local.get $shift) (i32.const 0)))))
    (local.set $outImage (local.get $out))
    (block $doneB
      (loop $loopB
        (br_if $doneB (i32.ge_u (local.get $b) (local.get $batch)))
        (local.set $image (i32.mul (local.get $b) (local.get $positions)))
        (local.set $q (i32.const 0))
        (block $doneQ
          (loop $loopQ
            (br_if $doneQ (i32.ge_u (local.get $q) (local.get $outPositions)))
            (if (i32.and (i32.and (i32.ge_s (local.get $shift) (i32.const 0)) (local.get $accI32))
                         (i32.le_u (i32.add (local.get $q) (i32.const 4)) (local.get $outPositions)))
              (then
                ;; integer form: four positions at once, each channel's four values one store (measured on the ideal
                ;; pass, 2000 images: the CNN fixture's first convolution's epilogue 42 → 25 ms, LeNet-5's 6.4 → 4.1 ms,
                ;; against each position's scalar stores)
                ;; @insert epilogue-four-positions
                (local.set $q (i32.add (local.get $q) (i32.const 4)))
                (br $loopQ)))
            (if (local.get $tapStarts)
              (then
                (local.set $kStart (i32.load (i32.add (local.get $tapStarts) (i32.shl (local.get $q) (i32.const 2)))))
                (local.set $kEnd (i32.load (i32.add (local.get $tapStarts) (i32.shl (i32.add (local.get $q) (i32.const 1)) (i32.const 2))))))
              (else
                (local.set $kStart (local.get $q))
                (local.set $kEnd (i32.add (local.get $q) (i32.const 1)))))
            (local.set $c (i32.const 0))
            (block $doneC
              (loop $loopC
                (br_if $doneC (i32.ge_u (local.get $c) (local.get $channels)))
                ;; the window's maximum accumulators of channels c .. c + 3 (c .. c + 7 in i32: bestI, bestJ), as two
                ;; f64x2 pairs
                (local.set $bestI (v128.const i32x4 -2147483648 -2147483648 -2147483648 -2147483648))
                (local.set $bestJ (local.get $bestI))
                (local.set $bestLo (v128.const f64x2 -inf -inf))
                (local.set $bestHi (v128.const f64x2 -inf -inf))
                (local.set $k (local.get $kStart))
                (block $doneK
                  (loop $loopK
                    (br_if $doneK (i32.ge_u (local.get $k) (local.get $kEnd)))
                    (local.set $p (select
                      (i32.load (i32.add (local.get $taps) (i32.shl (local.get $k) (i32.const 2))))
                      (local.get $k)
                      (local.get $tapStarts)))
                    (local.set $at (i32.add (i32.mul (i32.add (local.get $image) (local.get $p)) (local.get $channels)) (local.get $c)))
                    (if (local.get $accI32)
                      (then
                        (local.set $bestI (i32x4.max_s (local.get $bestI) (v128.load (i32.add (local.get $acc) (i32.shl (local.get $at) (i32.const 2))))))
                        (local.set $bestJ (i32x4.max_s (local.get $bestJ) (v128.load offset=16 (i32.add (local.get $acc) (i32.shl (local.get $at) (i32.const 2)))))))
                      (else
                        (local.set $v (v128.load (i32.add (local.get $acc) (i32.shl (local.get $at) (i32.const 3)))))
                        (local.set $bestLo (v128.bitselect (local.get $v) (local.get $bestLo) (f64x2.gt (local.get $v) (local.get $bestLo))))
                        (local.set $v (v128.load offset=16 (i32.add (local.get $acc) (i32.shl (local.get $at) (i32.const 3)))))
                        (local.set $bestHi (v128.bitselect (local.get $v) (local.get $bestHi) (f64x2.gt (local.get $v) (local.get $bestHi))))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $loopK)))
                (if (i32.ge_s (local.get $shift) (i32.const 0))
                  (then
                    ;; integer form, eight channels per window (the window's bookkeeping once for both fours: LeNet-5's
                    ;; ideal pass measured 3 % faster): for each four, clamp, + bias, clamp, ReLU, round half to even by
                    ;; k bits, clamp (see above)
                    (local.set $half (i32.const 0))
                    (loop $loopFour
                      (local.set $cq (i32.add (local.get $c) (local.get $half)))
                      (local.set $v (select (local.get $bestJ) (local.get $bestI) (local.get $half)))
                      ;; @insert epilogue-integer-four
                      ;; lanes past the last channel: 0 in the range (which spans 0 anyway), not stored
                      (local.set $laneMask (i32x4.gt_s (i32x4.splat (i32.sub (local.get $channels) (local.get $cq))) (v128.const i32x4 0 1 2 3)))
                      (local.set $minR (i32x4.min_s (local.get $minR) (v128.and (local.get $v) (local.get $laneMask))))
                      (local.set $maxR (i32x4.max_s (local.get $maxR) (v128.and (local.get $v) (local.get $laneMask))))
                      (local.set $dst (i32.add (i32.add (local.get $outImage) (i32.mul (local.get $cq) (local.get $planeBytes)))
                        (i32.shl (local.get $q) (i32.const 2))))
                      (i32.store (local.get $dst) (i32x4.extract_lane 0 (local.get $v)))
                      (if (i32.lt_u (i32.add (local.get $cq) (i32.const 1)) (local.get $channels))
                        (then (i32.store (i32.add (local.get $dst) (local.get $planeBytes)) (i32x4.extract_lane 1 (local.get $v)))))
                      (if (i32.lt_u (i32.add (local.get $cq) (i32.const 2)) (local.get $channels))
                        (then (i32.store (i32.add (local.get $dst) (i32.shl (local.get $planeBytes) (i32.const 1))) (i32x4.extract_lane 2 (local.get $v)))))
                      (if (i32.lt_u (i32.add (local.get $cq) (i32.const 3)) (local.get $channels))
                        (then (i32.store (i32.add (local.get $dst) (i32.mul (local.get $planeBytes) (i32.const 3))) (i32x4.extract_lane 3 (local.get $v)))))
                      (local.set $half (i32.add (local.get $half) (i32.const 4)))
                      (br_if $loopFour (i32.and (i32.lt_u (local.get $half) (i32.const 8))
                                                (i32.lt_u (i32.add (local.get $c) (local.get $half)) (local.get $channels)))))
                    (local.set $c (i32.add (local.get $c) (i32.const 8)))
                    (br $loopC)))
                (if (local.get $accI32)
                  (then
                    (local.set $bestLo (f64x2.convert_low_i32x4_s (local.get $bestI)))
                    (local.set $bestHi (f64x2.convert_low_i32x4_s
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $bestI) (local.get $bestI))))))
                ;; each pair: + bias (only where non-zero: addPerChannelImpl skips a 0), · moveScale, ReLU, quantize
                (local.set $half (i32.const 0))
                (loop $loopHalf
                  (local.set $v (select (local.get $bestLo) (local.get $bestHi) (i32.eqz (local.get $half))))
                  (if (local.get $bias)
                    (then
                      (local.set $w (v128.load (i32.add (local.get $bias) (i32.shl (i32.add (local.get $c) (local.get $half)) (i32.const 3)))))
                      (local.set $v (v128.bitselect (f64x2.add (local.get $v) (local.get $w)) (local.get $v)
                        (f64x2.ne (local.get $w) (v128.const f64x2 0 0))))))
                  (local.set $v (f64x2.mul (local.get $v) (local.get $moveV)))
                  (if (local.get $relu)
                    (then (local.set $v (v128.bitselect (v128.const f64x2 0 0) (local.get $v)
                      (f64x2.lt (local.get $v) (v128.const f64x2 0 0))))))
                  (local.set $v (f64x2.add (f64x2.nearest (f64x2.mul (local.get $v) (local.get $qScaleV))) (v128.const f64x2 0 0)))
                  (local.set $v (v128.bitselect (local.get $loV)
                    (v128.bitselect (local.get $hiV) (local.get $v) (f64x2.gt (local.get $v) (local.get $hiV)))
                    (f64x2.lt (local.get $v) (local.get $loV))))
                  (local.set $dst (i32.add (i32.add (local.get $outImage) (i32.mul (i32.add (local.get $c) (local.get $half)) (local.get $planeBytes)))
                    (i32.shl (local.get $q) (i32.const 3))))
                  (if (i32.lt_u (i32.add (local.get $c) (local.get $half)) (local.get $channels))
                    (then (f64.store (local.get $dst) (f64x2.extract_lane 0 (local.get $v)))))
                  (if (i32.lt_u (i32.add (i32.add (local.get $c) (local.get $half)) (i32.const 1)) (local.get $channels))
                    (then (f64.store (i32.add (local.get $dst) (local.get $planeBytes)) (f64x2.extract_lane 1 (local.get $v)))))
                  (local.set $half (i32.add (local.get $half) (i32.const 2)))
                  (br_if $loopHalf (i32.lt_u (local.get $half) (i32.const 4))))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))
                (br $loopC)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $loopQ)))
        (local.set $outImage (i32.add (local.get $outImage) (i32.mul (local.get $channels) (local.get $planeBytes))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $loopB)))
    (if (i32.ge_s (local.get $shift) (i32.const 0))
      (then
        ;; the lanes' minimum and maximum: halves folded onto each other twice
        (local.set $minR (i32x4.min_s (local.get $minR) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $minR) (local.get $minR))))
        (local.set $minR (i32x4.min_s (local.get $minR) (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $minR) (local.get $minR))))
        (local.set $maxR (i32x4.max_s (local.get $maxR) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $maxR) (local.get $maxR))))
        (local.set $maxR (i32x4.max_s (local.get $maxR) (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $maxR) (local.get $maxR))))
        (i32.store (local.get $range) (i32x4.extract_lane 0 (local.get $minR)))
        (i32.store offset=4 (local.get $range) (i32x4.extract_lane 0 (local.get $maxR))))))

  ;; Four columns of finish_i32: dst[0..3] += wrap(window(v − correction[0..3])) — the window floor(·2^−D_L) as an
  ;; arithmetic shift right by dL (left by −dL), the wrap to O_RWL bits as (a << wrapShift) >> wrapShift
  ;; (finishColumns in scripts/wat-kernels.mjs).
  (func $finishQuad (param $v v128) (param $correction i32) (param $dL i32) (param $wrapShift i32) (param $dst i32)
    ;; @insert finish-quad-body
    )

  ;; finish_i32(src, outer, srcStride, cols, correction, dL, wrapShift, acc, accStride, colBase): finish for the fast
  ;; path on the MVM's exact i32 sums (mvm_i16 with asI32): v = src[o, j] − correction[j]; truncation window
  ;; floor(v·2^−D_L) = v >> D_L (or v << −D_L), wrapped to O_RWL bits by (a << wrapShift) >> wrapShift with
  ;; wrapShift = 32 − O_RWL (0: no wrap); acc[o·accStride + colBase + j] += it, in i32, four columns per i32x4 (the
  ;; last cols mod 4 one by one). Equal to finish on the same values whenever every v, every window and every
  ;; accumulator fits in i32 — the wrapper checks those bounds first.
  (func (export "finish_i32")
    (param $src i32) (param $outer i32) (param $srcStride i32) (param $cols i32) (param $correction i32) (param $dL i32)
    (param $wrapShift i32) (param $acc i32) (param $accStride i32) (param $colBase i32)
    (local $o i32) (local $j i32) (local $row i32) (local $dst i32) (local $v i32) (local $cols4 i32) (local $left i32)
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $left (i32.sub (i32.const 0) (local.get $dL)))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $row (i32.add (local.get $src) (i32.shl (i32.mul (local.get $o) (local.get $srcStride)) (i32.const 2))))
        (local.set $dst (i32.add (local.get $acc) (i32.shl (i32.add (i32.mul (local.get $o) (local.get $accStride)) (local.get $colBase)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $doneJ4
          (loop $loopJ4
            (br_if $doneJ4 (i32.ge_u (local.get $j) (local.get $cols4)))
            (call $finishQuad (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
              (i32.add (local.get $correction) (i32.shl (local.get $j) (i32.const 2))) (local.get $dL) (local.get $wrapShift) (local.get $dst))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $loopJ4)))
        (block $doneJ
          (loop $loopJ
            (br_if $doneJ (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $v (i32.sub
              (i32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
              (i32.load (i32.add (local.get $correction) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $v (select
              (i32.shr_s (local.get $v) (local.get $dL))
              (i32.shl (local.get $v) (local.get $left))
              (i32.ge_s (local.get $dL) (i32.const 0))))
            (local.set $v (i32.shr_s (i32.shl (local.get $v) (local.get $wrapShift)) (local.get $wrapShift)))
            (i32.store (local.get $dst) (i32.add (i32.load (local.get $dst)) (local.get $v)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loopJ)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO))))

  ;; finish_slices_i32(src, srcStride, outer, cols, scheme, slices, cellBits, correction, dL, wrapShift, acc, accStride,
  ;; colBase): finish for the faithful path on read_float32's exact i32 reads (outI32) — per logical column j,
  ;; v = Σ_s 2^(s·cb)·src[o, j·slices + s] − offset, offset = Σ_s 2^(s·cb)·src[o, cols·slices + s] (scheme 2, offset
  ;; column), or v = Σ_s 2^(s·cb)·(src[o, 2j·slices + s] − src[o, (2j + 1)·slices + s]) (scheme 1, differential pairs);
  ;; then v − correction[j], truncated and wrapped as finish_i32 does, added into acc[o·accStride + colBase + j], in i32.
  ;; Equal to finish (schemes 1 and 2) on the same values whenever every partial sum, window and accumulator fits i32
  ;; (all are integers then, exact in any order) — the wrapper checks those bounds first.
  (func (export "finish_slices_i32")
    (param $src i32) (param $srcStride i32) (param $outer i32) (param $cols i32) (param $scheme i32) (param $slices i32)
    (param $cellBits i32) (param $correction i32) (param $dL i32) (param $wrapShift i32) (param $acc i32) (param $accStride i32)
    (param $colBase i32)
    (local $o i32) (local $j i32) (local $s i32) (local $row i32) (local $c0 i32) (local $dst i32) (local $v i32)
    (local $offset i32) (local $left i32) (local $sliceBytes i32) (local $cols4 i32) (local $corrAt i32) (local $place v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128) (local $h0 v128) (local $h1 v128)
    (local.set $left (i32.sub (i32.const 0) (local.get $dL)))
    (local.set $sliceBytes (i32.shl (local.get $slices) (i32.const 2)))
    ;; four slices (8-bit weights in 2-bit cells): four columns at a time, one i32x4 of slices per column weighted by
    ;; place = 2^(s·cb) and summed across (hsum4); other slice counts take the scalar loop only
    (local.set $cols4 (select (i32.and (local.get $cols) (i32.const -4)) (i32.const 0) (i32.eq (local.get $slices) (i32.const 4))))
    (local.set $place (i32x4.replace_lane 3 (i32x4.replace_lane 2 (i32x4.replace_lane 1 (i32x4.splat (i32.const 1))
      (i32.shl (i32.const 1) (local.get $cellBits)))
      (i32.shl (i32.const 1) (i32.shl (local.get $cellBits) (i32.const 1))))
      (i32.shl (i32.const 1) (i32.mul (local.get $cellBits) (i32.const 3)))))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $row (i32.add (local.get $src) (i32.shl (i32.mul (local.get $o) (local.get $srcStride)) (i32.const 2))))
        (local.set $offset (i32.const 0))
        (if (i32.eq (local.get $scheme) (i32.const 2))
          (then
            (local.set $c0 (i32.add (local.get $row) (i32.mul (local.get $cols) (local.get $sliceBytes))))
            (local.set $s (i32.const 0))
            (block $doneS
              (loop $loopS
                (br_if $doneS (i32.ge_u (local.get $s) (local.get $slices)))
                (local.set $offset (i32.add (local.get $offset) (i32.shl
                  (i32.load (i32.add (local.get $c0) (i32.shl (local.get $s) (i32.const 2))))
                  (i32.mul (local.get $s) (local.get $cellBits)))))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (br $loopS)))))
        (local.set $dst (i32.add (local.get $acc) (i32.shl (i32.add (i32.mul (local.get $o) (local.get $accStride)) (local.get $colBase)) (i32.const 2))))
        (local.set $c0 (local.get $row))
        (local.set $j (i32.const 0))
        (block $doneJ4
          (loop $loopJ4
            (br_if $doneJ4 (i32.ge_u (local.get $j) (local.get $cols4)))
            ;; the four columns' weighted slices summed across, less the offset column's value, finished into acc
            ;; ($hsum4 and $finishQuad inline: finishSlicesQuad)
            (local.set $corrAt (i32.add (local.get $correction) (i32.shl (local.get $j) (i32.const 2))))
            ;; @insert finish-slices-quad
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $loopJ4)))
        (block $doneJ
          (loop $loopJ
            (br_if $doneJ (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $v (i32.const 0))
            (local.set $s (i32.const 0))
            (if (i32.eq (local.get $scheme) (i32.const 1))
              (then
                (block $doneD
                  (loop $loopD
                    (br_if $doneD (i32.ge_u (local.get $s) (local.get $slices)))
                    (local.set $v (i32.add (local.get $v) (i32.shl
                      (i32.sub
                        (i32.load (i32.add (local.get $c0) (i32.shl (local.get $s) (i32.const 2))))
                        (i32.load (i32.add (i32.add (local.get $c0) (local.get $sliceBytes)) (i32.shl (local.get $s) (i32.const 2)))))
                      (i32.mul (local.get $s) (local.get $cellBits)))))
                    (local.set $s (i32.add (local.get $s) (i32.const 1)))
                    (br $loopD)))
                (local.set $c0 (i32.add (local.get $c0) (i32.shl (local.get $sliceBytes) (i32.const 1)))))
              (else
                (block $doneU
                  (loop $loopU
                    (br_if $doneU (i32.ge_u (local.get $s) (local.get $slices)))
                    (local.set $v (i32.add (local.get $v) (i32.shl
                      (i32.load (i32.add (local.get $c0) (i32.shl (local.get $s) (i32.const 2))))
                      (i32.mul (local.get $s) (local.get $cellBits)))))
                    (local.set $s (i32.add (local.get $s) (i32.const 1)))
                    (br $loopU)))
                (local.set $v (i32.sub (local.get $v) (local.get $offset)))
                (local.set $c0 (i32.add (local.get $c0) (local.get $sliceBytes)))))
            (local.set $v (i32.sub (local.get $v) (i32.load (i32.add (local.get $correction) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $v (select
              (i32.shr_s (local.get $v) (local.get $dL))
              (i32.shl (local.get $v) (local.get $left))
              (i32.ge_s (local.get $dL) (i32.const 0))))
            (local.set $v (i32.shr_s (i32.shl (local.get $v) (local.get $wrapShift)) (local.get $wrapShift)))
            (i32.store (local.get $dst) (i32.add (i32.load (local.get $dst)) (local.get $v)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $loopJ)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO))))

  ;; ---------------------------------------------------------------------------------------------------------------
  ;; dedup_rows(x, outer, rows, table, tableBits, map, probe) → unique: the distinct vectors of x i32 [outer, rows],
  ;; moved to its front in order of first appearance (x [unique, rows] after), and map i32 [outer]: vector o's index
  ;; among them. A read is a function of its input vector alone, so reading the unique vectors and finishing vector o
  ;; from its map[o]'s row gives every vector's result; a convolution's positions repeat (a blank image region's
  ;; patches after the first layer). table: 2^tableBits (hash, index + 1) pairs of i32 (2^tableBits ≥ 2·outer, so
  ;; probes stay short), cleared here. If fewer than 1 in 16 of the first `probe` vectors repeated, the rest count as
  ;; distinct, unhashed (the hashing would cost more than such repeats save). A vector's hash mixes its words four
  ;; lanes at a time (xor, multiply, xor-shift), the rows mod 4 after; equal hashes are confirmed word by word.
  (func (export "dedup_rows")
    (param $x i32) (param $outer i32) (param $rows i32) (param $table i32) (param $tableBits i32) (param $map i32) (param $probe i32) (result i32)
    (local $o i32) (local $unique i32) (local $rowBytes i32) (local $laneBytes i32) (local $src i32) (local $j i32)
    (local $mask i32) (local $hash i32) (local $slot i32) (local $entry i32) (local $cand i32) (local $h v128) (local $h1 v128)
    (local $h2 v128) (local $h3 v128) (local $odd v128)
    (local.set $rowBytes (i32.shl (local.get $rows) (i32.const 2)))
    (local.set $laneBytes (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $odd (v128.const i32x4 0x9e3779b1 0x85ebca77 0xc2b2ae3d 0x27d4eb2f))
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $tableBits)) (i32.const 1)))
    (memory.fill (local.get $table) (i32.const 0) (i32.shl (i32.const 8) (local.get $tableBits)))
    (local.set $src (local.get $x))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        ;; fewer than 1 in 16 of the first `probe` vectors repeated: the rest are taken as distinct without hashing
        ;; (moved down together, mapped in order)
        (if (i32.and (i32.eq (local.get $o) (local.get $probe))
              (i32.lt_u (i32.shl (i32.sub (local.get $o) (local.get $unique)) (i32.const 4)) (local.get $o)))
          (then
            (memory.copy (i32.add (local.get $x) (i32.mul (local.get $unique) (local.get $rowBytes))) (local.get $src)
              (i32.mul (i32.sub (local.get $outer) (local.get $o)) (local.get $rowBytes)))
            (loop $loopRest
              (i32.store (i32.add (local.get $map) (i32.shl (local.get $o) (i32.const 2))) (local.get $unique))
              (local.set $unique (i32.add (local.get $unique) (i32.const 1)))
              (local.set $o (i32.add (local.get $o) (i32.const 1)))
              (br_if $loopRest (i32.lt_u (local.get $o) (local.get $outer))))
            (br $doneO)))
        ;; h: the words four lanes at a time (dedupHashLanes)
        ;; @insert dedup-hash-lanes
        (local.set $hash (i32.xor
          (i32.xor (i32x4.extract_lane 0 (local.get $h)) (i32.rotl (i32x4.extract_lane 1 (local.get $h)) (i32.const 8)))
          (i32.xor (i32.rotl (i32x4.extract_lane 2 (local.get $h)) (i32.const 16)) (i32.rotl (i32x4.extract_lane 3 (local.get $h)) (i32.const 24)))))
        (block $doneT
          (loop $loopT
            (br_if $doneT (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $hash (i32.mul (i32.xor (local.get $hash) (i32.load (i32.add (local.get $src) (local.get $j)))) (i32.const 0x9e3779b1)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $loopT)))
        ;; murmur3's finaliser, so that the table index (the low bits) depends on every bit
        (local.set $hash (i32.mul (i32.xor (local.get $hash) (i32.shr_u (local.get $hash) (i32.const 16))) (i32.const 0x85ebca6b)))
        (local.set $hash (i32.mul (i32.xor (local.get $hash) (i32.shr_u (local.get $hash) (i32.const 13))) (i32.const 0xc2b2ae35)))
        (local.set $hash (i32.xor (local.get $hash) (i32.shr_u (local.get $hash) (i32.const 16))))
        (local.set $slot (i32.and (local.get $hash) (local.get $mask)))
        (block $found
          (loop $probe
            (local.set $entry (i32.load offset=4 (i32.add (local.get $table) (i32.shl (local.get $slot) (i32.const 3)))))
            (if (i32.eqz (local.get $entry))
              (then
                ;; a new vector: the next unique one (moved down unless it is there already)
                (i32.store (i32.add (local.get $table) (i32.shl (local.get $slot) (i32.const 3))) (local.get $hash))
                (local.set $unique (i32.add (local.get $unique) (i32.const 1)))
                (local.set $entry (local.get $unique))
                (i32.store offset=4 (i32.add (local.get $table) (i32.shl (local.get $slot) (i32.const 3))) (local.get $entry))
                (local.set $cand (i32.add (local.get $x) (i32.mul (i32.sub (local.get $entry) (i32.const 1)) (local.get $rowBytes))))
                (if (i32.ne (local.get $cand) (local.get $src))
                  (then (memory.copy (local.get $cand) (local.get $src) (local.get $rowBytes))))
                (br $found)))
            (if (i32.eq (i32.load (i32.add (local.get $table) (i32.shl (local.get $slot) (i32.const 3)))) (local.get $hash))
              (then
                (local.set $cand (i32.add (local.get $x) (i32.mul (i32.sub (local.get $entry) (i32.const 1)) (local.get $rowBytes))))
                (if (call $sameWords (local.get $cand) (local.get $src) (local.get $rowBytes))
                  (then (br $found)))))
            (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (local.get $mask)))
            (br $probe)))
        (i32.store (i32.add (local.get $map) (i32.shl (local.get $o) (i32.const 2))) (i32.sub (local.get $entry) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (local.get $rowBytes)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO)))
    (local.get $unique))

  ;; add_rows_i32(src, cols, map, outer, acc, accStride, colBase): acc[o·accStride + colBase + j] += src[map[o]·cols + j]
  ;; for o < outer, j < cols, in i32 (four columns at a time, the last cols mod 4 one by one): a convolution's
  ;; positions that read the same vector (dedup_rows) get its finished row (finish_slices_i32 run once per vector).
  (func (export "add_rows_i32")
    (param $src i32) (param $cols i32) (param $map i32) (param $outer i32) (param $acc i32) (param $accStride i32) (param $colBase i32)
    (local $o i32) (local $j i32) (local $row i32) (local $dst i32) (local $cols4 i32)
    (local.set $cols4 (i32.shl (i32.and (local.get $cols) (i32.const -4)) (i32.const 2)))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $row (i32.add (local.get $src) (i32.shl (i32.mul (i32.load (i32.add (local.get $map) (i32.shl (local.get $o) (i32.const 2)))) (local.get $cols)) (i32.const 2))))
        (local.set $dst (i32.add (local.get $acc) (i32.shl (i32.add (i32.mul (local.get $o) (local.get $accStride)) (local.get $colBase)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $doneJ4
          (loop $loopJ4
            (br_if $doneJ4 (i32.ge_u (local.get $j) (local.get $cols4)))
            (v128.store (i32.add (local.get $dst) (local.get $j))
              (i32x4.add (v128.load (i32.add (local.get $dst) (local.get $j))) (v128.load (i32.add (local.get $row) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $loopJ4)))
        (block $doneJ
          (loop $loopJ
            (br_if $doneJ (i32.ge_u (local.get $j) (i32.shl (local.get $cols) (i32.const 2))))
            (i32.store (i32.add (local.get $dst) (local.get $j))
              (i32.add (i32.load (i32.add (local.get $dst) (local.get $j))) (i32.load (i32.add (local.get $row) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $loopJ)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO))))

  ;; Whether the `bytes` (a multiple of 4) at a and at b are equal.
  (func $sameWords (param $a i32) (param $b i32) (param $bytes i32) (result i32)
    (local $j i32)
    (block $doneV
      (loop $loopV
        (br_if $doneV (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $bytes)))
        (if (v128.any_true (v128.xor (v128.load (i32.add (local.get $a) (local.get $j))) (v128.load (i32.add (local.get $b) (local.get $j)))))
          (then (return (i32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $loopV)))
    (block $doneW
      (loop $loopW
        (br_if $doneW (i32.ge_u (local.get $j) (local.get $bytes)))
        (if (i32.ne (i32.load (i32.add (local.get $a) (local.get $j))) (i32.load (i32.add (local.get $b) (local.get $j))))
          (then (return (i32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $loopW)))
    (i32.const 1))

  ;; Row o of a finish's source: map[o] (dedup_rows), or o itself when map is 0.
  (func $mappedRow (param $map i32) (param $o i32) (result i32)
    (if (result i32) (local.get $map)
      (then (i32.load (i32.add (local.get $map) (i32.shl (local.get $o) (i32.const 2)))))
      (else (local.get $o))))

  ;; ---------------------------------------------------------------------------------------------------------------
  ;; Kernel (a), sparse form: the same read with a cost that scales with the input digits that are not 0, chosen by
  ;; WasmIntegerCellTile per call when the inputs are sparse enough to win (see integer-cell-tile.ts).
  ;;
  ;; count_active(x, outer, rows, steps, dacBits, every) → the number of (vector o, row r, step t) with a DAC value
  ;; v_t(o, r) = (x_u[o, r] >>> t·db) & (2^db − 1) ≠ 0, over the vectors o = 0, every, 2·every, … < outer (every ≥ 1:
  ;; a sample of a large batch), as f64 (it may pass 2^32). x: i32 [outer, rows]; steps·db ≤ 32.
  ;; Digit t is non-zero iff bit t·db of y = x | x >>> 1 | … | x >>> (db − 1) is set, so one popcnt per row counts
  ;; all of its steps.
  (func (export "count_active")
    (param $x i32) (param $outer i32) (param $rows i32) (param $steps i32) (param $dacBits i32) (param $every i32) (result f64)
    (local $o i32) (local $p i32) (local $end i32) (local $low i32) (local $v i32) (local $y i32) (local $k i32) (local $n i64)
    (local.set $low (call $digitLowBits (local.get $steps) (local.get $dacBits)))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $p (i32.add (local.get $x) (i32.shl (i32.mul (local.get $o) (local.get $rows)) (i32.const 2))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $rows) (i32.const 2))))
        (block $done
          (loop $loop
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v (i32.load (local.get $p)))
            (if (local.get $v)
              (then
                (local.set $y (local.get $v))
                (local.set $k (i32.const 1))
                (block $doneFold
                  (loop $fold
                    (br_if $doneFold (i32.ge_u (local.get $k) (local.get $dacBits)))
                    (local.set $y (i32.or (local.get $y) (i32.shr_u (local.get $v) (local.get $k))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $fold)))
                (local.set $n (i64.add (local.get $n) (i64.extend_i32_u (i32.popcnt (i32.and (local.get $y) (local.get $low))))))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $loop)))
        (local.set $o (i32.add (local.get $o) (local.get $every)))
        (br $loopO)))
    (f64.convert_i64_u (local.get $n)))

  ;; The bits t·dacBits for t < steps (steps·dacBits ≤ 32): the lowest bit of each step's DAC digit.
  (func $digitLowBits (param $steps i32) (param $dacBits i32) (result i32)
    (local $low i32) (local $t i32)
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $t) (local.get $steps)))
        (local.set $low (i32.or (local.get $low) (i32.shl (i32.const 1) (i32.mul (local.get $t) (local.get $dacBits)))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $loop)))
    (local.get $low))

  ;; read_sparse(levels, stride, cols, x, outer, rows, steps, dacBits, lut, counts, lists, sums, out) = read_int with
  ;; the same x (unpacked), lut and out, for tiles whose largest column sum rows·(2^db − 1)·(2^cb − 1) is ≤ 65535 (the
  ;; wrapper checks): out[o, c] = Σ_t 2^(t·db)·lut[I_t(o, c)], I_t(o, c) = Σ_r v_t(o, r)·level[r, c], v as in
  ;; count_active. levels: i16 [rows, stride] level indices, row-major (stride a multiple of 16, padding columns 0).
  ;; x: i32 [outer, rows] offset-encoded inputs x_u. lut: i32 [maxSum + 1]. Scratch: counts i32 [steps·db], lists
  ;; (i32, i32) [steps·db, rows], sums u16 [steps, stride]. out: f64 [outer, cols] (cols ≤ stride; padding columns,
  ;; whose sums are 0, come out Σ_t 2^(t·db)·lut[0] like read_int's).
  ;; Per vector, each step's list of rows with a non-zero digit (one pass over the inputs; rows and steps whose digit
  ;; is 0 cost nothing further), then per step its rows' v·level-row added into the column sums, eight columns per
  ;; i16x8 lane group, several rows per pass, then ADC and shift-add per column in an i64 register by Horner's rule
  ;; from the last step down (acc = 2^db·acc + lut[I_t]), converted once. The sums are integers below 2^16: u16
  ;; lanes wrap modulo 2^16 and end exact, read back unsigned; integer sums are exact in any order, so the result
  ;; equals the dense kernels' bit for bit. Generated at build time from sparseReadKernel in scripts/wat-kernels.mjs:
  ;; @insert sparse-read-kernel

  ;; ---------------------------------------------------------------------------------------------------------------
  ;; Activations on their way into a layer.
  ;;
  ;; to_i32(src, n, dst, range, quantize, scale, lo, hi) → 1, or 0 when a value lies outside [−2^31, 2^31) (±∞
  ;; included): dst[i] = v_i as i32 (truncated toward 0, NaN → 0: what an Int32Array.set of the f64 values stores for
  ;; values in that range) and range = f64 [min, max] over 0 and the v_i, NaN skipped (the JS `v < min` / `v > max`
  ;; scan from 0), two at a time. v_i = src[i] (f64 [n]), or when quantize ≠ 0 clamp(nearest(src[i]·scale) + 0, lo, hi):
  ;; quantizeActivationsImpl's float64 operations per element (f64.nearest rounds half to even; + 0 turns −0 into +0,
  ;; as roundHalfEven does; the clamp as its `q < lo ? lo : q > hi ? hi : q`, so NaN passes through) — a layer input
  ;; quantized and made i32 in one pass.
  (func (export "to_i32")
    (param $src i32) (param $n i32) (param $dst i32) (param $range i32) (param $quantize i32) (param $scale f64)
    (param $lo f64) (param $hi f64) (result i32)
    (local $end i32) (local $v v128) (local $minV v128) (local $maxV v128) (local $s f64) (local $min f64) (local $max f64)
    (local $scaleV v128) (local $loV v128) (local $hiV v128)
    (local.set $scaleV (f64x2.splat (local.get $scale)))
    (local.set $loV (f64x2.splat (local.get $lo)))
    (local.set $hiV (f64x2.splat (local.get $hi)))
    (local.set $minV (v128.const f64x2 0 0))
    (local.set $maxV (v128.const f64x2 0 0))
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $v (v128.load (local.get $src)))
        (if (local.get $quantize)
          (then
            (local.set $v (f64x2.add (f64x2.nearest (f64x2.mul (local.get $v) (local.get $scaleV))) (v128.const f64x2 0 0)))
            (local.set $v (v128.bitselect (local.get $loV)
              (v128.bitselect (local.get $hiV) (local.get $v) (f64x2.gt (local.get $v) (local.get $hiV)))
              (f64x2.lt (local.get $v) (local.get $loV))))))
        ;; pmin(m, v) = v < m ? v : m, pmax(m, v) = m < v ? v : m: a NaN v leaves m as it is
        (local.set $minV (f64x2.pmin (local.get $minV) (local.get $v)))
        (local.set $maxV (f64x2.pmax (local.get $maxV) (local.get $v)))
        (v128.store64_lane 0 (local.get $dst) (i32x4.trunc_sat_f64x2_s_zero (local.get $v)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
        (br $loop)))
    (local.set $min (f64.min (f64x2.extract_lane 0 (local.get $minV)) (f64x2.extract_lane 1 (local.get $minV))))
    (local.set $max (f64.max (f64x2.extract_lane 0 (local.get $maxV)) (f64x2.extract_lane 1 (local.get $maxV))))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $s (f64.load (local.get $src)))
        (if (local.get $quantize)
          (then
            (local.set $s (f64.add (f64.nearest (f64.mul (local.get $s) (local.get $scale))) (f64.const 0)))
            (local.set $s (select (local.get $lo) (select (local.get $hi) (local.get $s) (f64.gt (local.get $s) (local.get $hi)))
              (f64.lt (local.get $s) (local.get $lo))))))
        (if (f64.lt (local.get $s) (local.get $min)) (then (local.set $min (local.get $s))))
        (if (f64.gt (local.get $s) (local.get $max)) (then (local.set $max (local.get $s))))
        (i32.store (local.get $dst) (i32.trunc_sat_f64_s (local.get $s)))))
    (f64.store (local.get $range) (local.get $min))
    (f64.store offset=8 (local.get $range) (local.get $max))
    (i32.and (f64.ge (local.get $min) (f64.const -2147483648)) (f64.lt (local.get $max) (f64.const 2147483648))))

  ;; quantize_f32(src, n, dst, range, scale, lo, hi): to_i32's quantizing for float32 values (f32 [n]) with a scale
  ;; 2^fl (−126 ≤ fl ≤ 127) and lo, hi of ≤ 24 bits, in float32 four at a time: dst[i] = clamp(nearest(src[i]·scale),
  ;; lo, hi) as i32, range = f64 [min, max] over 0 and those, NaN skipped (stored as 0). The same values as the float64
  ;; operations on the widened inputs: a product that is a normal float32 is exact, one below 2^−126 rounds to ±0
  ;; either way, one past float32's range becomes ±∞ and clamps as the huge float64 does, and lo, hi and every integer
  ;; between are float32 values. No + 0 for −0: it stores 0, and pmin and pmax keep the +0 they start from.
  ;; Where lo and hi lie within ±2^22 (8- and 16-bit formats), whole groups of four take a shorter path: clamp first
  ;; (pmin and pmax keep NaN, which is then masked to +0; with integer bounds clamp and round commute), then round by
  ;; adding 1.5·2^23, which leaves the nearest integer, ties to even, in the sum's low mantissa bits (the sum stays in
  ;; [2^23, 2^24), where float32 spacing is 1), read out by subtracting the constant's bits; the range in i32.
  (func (export "quantize_f32")
    (param $src i32) (param $n i32) (param $dst i32) (param $range i32) (param $scale f32) (param $lo f32) (param $hi f32)
    (local $end i32) (local $v v128) (local $minV v128) (local $maxV v128) (local $scaleV v128) (local $loV v128) (local $hiV v128)
    (local $groupsEnd i32) (local $minI v128) (local $maxI v128)
    (local.set $scaleV (f32x4.splat (local.get $scale)))
    (local.set $loV (f32x4.splat (local.get $lo)))
    (local.set $hiV (f32x4.splat (local.get $hi)))
    (local.set $minV (v128.const f32x4 0 0 0 0))
    (local.set $maxV (v128.const f32x4 0 0 0 0))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (if (i32.and (f32.gt (local.get $lo) (f32.const -4194304)) (f32.lt (local.get $hi) (f32.const 4194304)))
      (then
        (local.set $groupsEnd (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
        (block $doneG
          (loop $loopG
            (br_if $doneG (i32.ge_u (local.get $src) (local.get $groupsEnd)))
            (local.set $v (f32x4.pmax (f32x4.pmin (f32x4.mul (v128.load (local.get $src)) (local.get $scaleV)) (local.get $hiV)) (local.get $loV)))
            (local.set $v (i32x4.sub
              (f32x4.add (v128.and (local.get $v) (f32x4.eq (local.get $v) (local.get $v))) (v128.const f32x4 12582912 12582912 12582912 12582912))
              (v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000)))
            (v128.store (local.get $dst) (local.get $v))
            (local.set $minI (i32x4.min_s (local.get $minI) (local.get $v)))
            (local.set $maxI (i32x4.max_s (local.get $maxI) (local.get $v)))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (br $loopG)))
        ;; exact: |values| < 2^22; the last one to three values, if any, go on below
        (local.set $minV (f32x4.convert_i32x4_s (local.get $minI)))
        (local.set $maxV (f32x4.convert_i32x4_s (local.get $maxI)))))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (if (i32.gt_u (i32.add (local.get $src) (i32.const 16)) (local.get $end))
          (then
            ;; the last one to three values: the lanes past the end are 0, which leaves the range as it is
            (local.set $v (v128.const f32x4 0 0 0 0))
            (local.set $v (f32x4.replace_lane 0 (local.get $v) (f32.load (local.get $src))))
            (if (i32.gt_u (i32.sub (local.get $end) (local.get $src)) (i32.const 4))
              (then (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load offset=4 (local.get $src))))))
            (if (i32.gt_u (i32.sub (local.get $end) (local.get $src)) (i32.const 8))
              (then (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load offset=8 (local.get $src)))))))
          (else (local.set $v (v128.load (local.get $src)))))
        (local.set $v (f32x4.nearest (f32x4.mul (local.get $v) (local.get $scaleV))))
        (local.set $v (v128.bitselect (local.get $loV)
          (v128.bitselect (local.get $hiV) (local.get $v) (f32x4.gt (local.get $v) (local.get $hiV)))
          (f32x4.lt (local.get $v) (local.get $loV))))
        (local.set $minV (f32x4.pmin (local.get $minV) (local.get $v)))
        (local.set $maxV (f32x4.pmax (local.get $maxV) (local.get $v)))
        (local.set $v (i32x4.trunc_sat_f32x4_s (local.get $v)))
        (if (i32.gt_u (i32.add (local.get $src) (i32.const 16)) (local.get $end))
          (then
            (i32.store (local.get $dst) (i32x4.extract_lane 0 (local.get $v)))
            (if (i32.gt_u (i32.sub (local.get $end) (local.get $src)) (i32.const 4))
              (then (i32.store offset=4 (local.get $dst) (i32x4.extract_lane 1 (local.get $v)))))
            (if (i32.gt_u (i32.sub (local.get $end) (local.get $src)) (i32.const 8))
              (then (i32.store offset=8 (local.get $dst) (i32x4.extract_lane 2 (local.get $v))))))
          (else (v128.store (local.get $dst) (local.get $v))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $loop)))
    ;; pmin and pmax kept the lanes free of NaN
    (f64.store (local.get $range) (f64.promote_f32 (f32.min
      (f32.min (f32x4.extract_lane 0 (local.get $minV)) (f32x4.extract_lane 1 (local.get $minV)))
      (f32.min (f32x4.extract_lane 2 (local.get $minV)) (f32x4.extract_lane 3 (local.get $minV))))))
    (f64.store offset=8 (local.get $range) (f64.promote_f32 (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $maxV)) (f32x4.extract_lane 1 (local.get $maxV)))
      (f32.max (f32x4.extract_lane 2 (local.get $maxV)) (f32x4.extract_lane 3 (local.get $maxV)))))))
)
