/**
 * @fileoverview Generates the specialised, unrolled read kernels of kernels.wat (read_c<cb>, read_c<cb>w<W> and
 * read_sparse) and the unrolled parts of read_float32 from one template per family, and splices them into the
 * hand-written module text at its `;; @insert <family>` lines.
 * Imported by build-wasm.mjs; node built-ins only. Run directly, it prints the assembled module text (for reading, or
 * to map wabt's line numbers): node packages/backend-sim/scripts/wat-kernels.mjs
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Cell widths (bits per cell) that get specialised kernels; wider cells use the general read_int. */
export const SPECIALISED_CELL_BITS = [1, 2, 3, 4];
/** Input words per plane (64 rows each) that get register kernels: at most 128 rows. */
export const REGISTER_KERNEL_WORDS = [1, 2];
/** Columns per block in the packed tile layout (see read_int in kernels.wat); the wrappers rely on 4. */
const BLOCK_COLUMNS = 4;

/** [0, 1, …, n − 1]. */
const range = (n) => Array.from({ length: n }, (_, i) => i);
/** One line per index, `line(i)` each. */
const lines = (n, line) => range(n).map(line).join("\n");

/**
 * read_c<cellBits>(g, blocks, words, xp, outer, steps, dacBits, lut, out): kernel (a) for any DAC width, four columns
 * per pass. Specialised on `cellBits` only: a column's cell-bit words sit at the constant byte offsets 8·b inside its
 * 8·cellBits-byte slot, so the AND + popcnt of each column is unrolled over the cell bits (weight 2^b) and the four
 * columns (sums $s<k>, accumulators $acc<k>); a block of four columns spans 32·cellBits bytes per input word.
 */
export function blockReadKernel(cellBits) {
  const columnBytes = 8 * cellBits;
  const blockWordBytes = BLOCK_COLUMNS * columnBytes;
  const cols = BLOCK_COLUMNS;
  // Σ_b 2^b popcnt(x & G[column base + 8b]), left-nested adds as the hand-written original
  const columnTerm = (base) => {
    const bitTerm = (b) => {
      const popcnt = `(i64.popcnt (i64.and (local.get $x) (i64.load offset=${base + 8 * b} (local.get $gw))))`;
      return b === 0 ? popcnt : `(i64.shl ${popcnt} (i64.const ${b}))`;
    };
    return range(cellBits).slice(1).reduce((sum, b) => `(i64.add ${sum}\n                  ${bitTerm(b)})`, bitTerm(0));
  };
  return `  (func (export "read_c${cellBits}")
    (param $g i32) (param $blocks i32) (param $words i32) (param $xp i32) (param $outer i32) (param $steps i32)
    (param $dacBits i32) (param $lut i32) (param $out i32)
    (local $o i32) (local $blk i32) (local $gBlk i32) (local $gw i32) (local $xw i32) (local $xEnd i32) (local $xVec i32)
    (local $planeBytes i32) (local $vecBytes i32) (local $blkBytes i32) (local $t i32) (local $j i32)
    (local $x i64) (local $dac64 i64)
    ${range(cols).map((k) => `(local $s${k} i64)`).join(" ")}
    ${range(cols).map((k) => `(local $acc${k} i64)`).join(" ")}
    (local.set $planeBytes (i32.shl (local.get $words) (i32.const 3)))
    (local.set $vecBytes (i32.mul (local.get $planeBytes) (i32.mul (local.get $steps) (local.get $dacBits))))
    (local.set $blkBytes (i32.mul (local.get $words) (i32.const ${blockWordBytes})))
    (local.set $dac64 (i64.extend_i32_u (local.get $dacBits)))
    (local.set $xVec (local.get $xp))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $gBlk (local.get $g))
        (local.set $blk (i32.const 0))
        (loop $loopBlk
${lines(cols, (k) => `          (local.set $acc${k} (i64.const 0))`)}
          ;; planes from the last down: Horner's rule over the DAC bits of a step and over the steps
          (local.set $xw (i32.add (local.get $xVec) (i32.sub (local.get $vecBytes) (local.get $planeBytes))))
          (local.set $t (local.get $steps))
          (loop $loopT
${lines(cols, (k) => `            (local.set $s${k} (i64.const 0))`)}
            (local.set $j (local.get $dacBits))
            (loop $loopJ
              ;; I = 2·I + Σ_w Σ_b 2^b popcnt(X_w & G_w,b) over the step's DAC bits, most significant first
${lines(cols, (k) => `              (local.set $s${k} (i64.shl (local.get $s${k}) (i64.const 1)))`)}
              (local.set $gw (local.get $gBlk))
              (local.set $xEnd (i32.add (local.get $xw) (local.get $planeBytes)))
              (loop $loopW
                (local.set $x (i64.load (local.get $xw)))
${lines(cols, (k) => `                (local.set $s${k} (i64.add (local.get $s${k})\n                  ${columnTerm(k * columnBytes)}))`)}
                (local.set $gw (i32.add (local.get $gw) (i32.const ${blockWordBytes})))
                (local.set $xw (i32.add (local.get $xw) (i32.const 8)))
                (br_if $loopW (i32.lt_u (local.get $xw) (local.get $xEnd))))
              (local.set $xw (i32.sub (local.get $xw) (i32.shl (local.get $planeBytes) (i32.const 1))))
              (local.set $j (i32.sub (local.get $j) (i32.const 1)))
              (br_if $loopJ (local.get $j)))
            ;; ADC: code = lut[I]; shift-add: acc = 2^dacBits·acc + code
${lines(cols, (k) => `            (local.set $acc${k} (i64.add (i64.shl (local.get $acc${k}) (local.get $dac64))
              (i64.load32_s (i32.add (local.get $lut) (i32.shl (i32.wrap_i64 (local.get $s${k})) (i32.const 2))))))`)}
            (local.set $t (i32.sub (local.get $t) (i32.const 1)))
            (br_if $loopT (local.get $t)))
${lines(cols, (k) => `          (f64.store offset=${8 * k} (local.get $out) (f64.convert_i64_s (local.get $acc${k})))`)}
          (local.set $out (i32.add (local.get $out) (i32.const ${8 * cols})))
          (local.set $gBlk (i32.add (local.get $gBlk) (local.get $blkBytes)))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br_if $loopBlk (i32.lt_u (local.get $blk) (local.get $blocks))))
        (local.set $xVec (i32.add (local.get $xVec) (local.get $vecBytes)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO))))
`;
}

/**
 * read_c<cellBits>w<words>(g, blocks, xp, outer, steps, lut, out): kernel (a) for 1-bit DAC steps, one column at a
 * time. Specialised on `cellBits` and `words` (input words per plane, 64 rows each): the column's cellBits·words
 * cell-bit words are loaded once into locals $g<w><b> (word w at byte offset w·32·cellBits, bit b at 8·b past it), so
 * the step loop only loads the `words` input words $x<w> and sums Σ_b 2^b Σ_w popcnt(x_w & g_wb) fully unrolled.
 */
export function registerReadKernel(cellBits, words) {
  const blockBytes = BLOCK_COLUMNS * cellBits * words * 8;
  const columnBytes = cellBits * 8;
  const wordStride = BLOCK_COLUMNS * cellBits * 8;
  const planeBytes = words * 8;
  const cellWords = cellBits * words;
  const cellWordPairs = range(words).flatMap((w) => range(cellBits).map((b) => [w, b]));
  // Σ_w popcnt(x_w & g_wb), shifted by b; the cell bits then summed from b = 0 up (one line per cell bit)
  const bitSum = (b) => {
    const popcnt = (w) => `(i64.popcnt (i64.and (local.get $x${w}) (local.get $g${w}${b})))`;
    const sum = range(words).slice(1).reduce((acc, w) => `(i64.add ${acc} ${popcnt(w)})`, popcnt(0));
    return b === 0 ? sum : `(i64.shl ${sum} (i64.const ${b}))`;
  };
  const columnSum = range(cellBits).slice(1).reduce((acc, b) => `(i64.add ${acc}\n                ${bitSum(b)})`, bitSum(0));
  return `  (func (export "read_c${cellBits}w${words}")
    (param $g i32) (param $blocks i32) (param $xp i32) (param $outer i32) (param $steps i32) (param $lut i32) (param $out i32)
    (local $o i32) (local $blk i32) (local $k i32) (local $gBlk i32) (local $gp i32) (local $xw i32) (local $xVec i32)
    (local $vecBytes i32) (local $lastPlane i32) (local $acc i64)
    ${[...cellWordPairs.map(([w, b]) => `(local $g${w}${b} i64)`), ...range(words).map((w) => `(local $x${w} i64)`)].join(" ")}
    (local.set $vecBytes (i32.mul (local.get $steps) (i32.const ${planeBytes})))
    (local.set $xVec (local.get $xp))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $lastPlane (i32.add (local.get $xVec) (i32.sub (local.get $vecBytes) (i32.const ${planeBytes}))))
        (local.set $gBlk (local.get $g))
        (local.set $blk (i32.const 0))
        (loop $loopBlk
          (local.set $gp (local.get $gBlk))
          (local.set $k (i32.const 0))
          (loop $loopC
            ;; the column's ${cellWords} cell-bit word${cellWords > 1 ? "s" : ""} stay in locals through all steps
${cellWordPairs.map(([w, b]) => `            (local.set $g${w}${b} (i64.load offset=${w * wordStride + b * 8} (local.get $gp)))`).join("\n")}
            (local.set $acc (i64.const 0))
            (local.set $xw (local.get $lastPlane))
            (loop $loopT
${lines(words, (w) => `              (local.set $x${w} (i64.load offset=${w * 8} (local.get $xw)))`)}
              ;; acc = 2·acc + lut[Σ_b 2^b Σ_w popcnt(x_w & g_wb)], steps from the most significant down
              (local.set $acc (i64.add (i64.shl (local.get $acc) (i64.const 1))
                (i64.load32_s (i32.add (local.get $lut) (i32.shl (i32.wrap_i64
                ${columnSum}) (i32.const 2))))))
              (local.set $xw (i32.sub (local.get $xw) (i32.const ${planeBytes})))
              (br_if $loopT (i32.ge_u (local.get $xw) (local.get $xVec))))
            (f64.store (local.get $out) (f64.convert_i64_s (local.get $acc)))
            (local.set $out (i32.add (local.get $out) (i32.const 8)))
            (local.set $gp (i32.add (local.get $gp) (i32.const ${columnBytes})))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br_if $loopC (i32.lt_u (local.get $k) (i32.const ${BLOCK_COLUMNS}))))
          (local.set $gBlk (i32.add (local.get $gBlk) (i32.const ${blockBytes})))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br_if $loopBlk (i32.lt_u (local.get $blk) (local.get $blocks))))
        (local.set $xVec (i32.add (local.get $xVec) (local.get $vecBytes)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO))))
`;
}

/** Active rows added per pass over a step's column sums in read_sparse (one load and store of the sums per group). */
const SPARSE_ROW_GROUP = 4;
/** i16x8 vectors per iteration of read_sparse's row loops; the wrapper pads level rows to 8·this columns. */
export const SPARSE_UNROLL = 2;
/** Columns per pass of read_sparse's ADC loop (a divisor of the 4 the output rows are padded to). */
const SPARSE_ADC_COLUMNS = 4;

/**
 * read_sparse(levels, stride, cols, x, outer, rows, steps, dacBits, lut, counts, lists, sums, out): kernel (a) on the
 * non-zero input digits only (contract in kernels.wat). Per vector: (1) one pass over the inputs lists, per step, the
 * level rows (addresses) whose DAC digit is not 0, with that digit; (2) per step, the listed rows are added into the step's column
 * sums SPARSE_ROW_GROUP at a time (Σ_i v_i·row_i, so the sums are loaded and stored once per group), the rest one at a
 * time, SPARSE_UNROLL i16x8 vectors per iteration; 1-bit DAC digits are all 1, so that case adds the rows without
 * multiplying; (3) ADC and shift-add per column.
 */
export function sparseReadKernel() {
  const group = range(SPARSE_ROW_GROUP);
  const unroll = range(SPARSE_UNROLL);
  const stepBytes = 16 * SPARSE_UNROLL;
  // the term of listed row i at vector offset `off`: v_i·row_i, or row_i when every digit is 1
  const term = (i, off, multiply) => {
    const load = `(v128.load offset=${off} (local.get $a${i}))`;
    return multiply ? `(i16x8.mul (local.get $w${i}) ${load})` : load;
  };
  // balanced sum of the terms, so the adds do not form one chain
  const sumOf = (terms) => (terms.length === 1 ? terms[0] : `(i16x8.add ${sumOf(terms.slice(0, terms.length >> 1))} ${sumOf(terms.slice(terms.length >> 1))})`);
  const rowLoop = (label, rowsInGroup, multiply) => `(loop $${label}
${unroll.map((u) => `                      (v128.store offset=${16 * u} (local.get $dst) (i16x8.add (v128.load offset=${16 * u} (local.get $dst))
                        ${sumOf(range(rowsInGroup).map((i) => term(i, 16 * u, multiply)))}))`).join("\n")}
${range(rowsInGroup).map((i) => `                      (local.set $a${i} (i32.add (local.get $a${i}) (i32.const ${stepBytes})))`).join("\n")}
                      (local.set $dst (i32.add (local.get $dst) (i32.const ${stepBytes})))
                      (br_if $${label} (i32.lt_u (local.get $dst) (local.get $end))))`;
  // one pass over the step's sums adding `rowsInGroup` listed rows from list entry $e on
  const pass = (label, rowsInGroup) => `                (local.set $dst (local.get $rowSums))
${range(rowsInGroup).map((i) => `                (local.set $a${i} (i32.load offset=${8 * i} (local.get $e)))
                (local.set $w${i} (i16x8.splat (i32.load offset=${8 * i + 4} (local.get $e))))`).join("\n")}
                (if (local.get $multiply)
                  (then
                    ${rowLoop(`${label}Mul`, rowsInGroup, true)})
                  (else
                    ${rowLoop(`${label}Add`, rowsInGroup, false)}))
                (local.set $e (i32.add (local.get $e) (i32.const ${8 * rowsInGroup})))`;
  return `  (func (export "read_sparse")
    (param $levels i32) (param $stride i32) (param $cols i32) (param $x i32) (param $outer i32) (param $rows i32)
    (param $steps i32) (param $dacBits i32) (param $lut i32) (param $counts i32) (param $lists i32) (param $sums i32)
    (param $out i32)
    (local $o i32) (local $r i32) (local $v i32) (local $y i32) (local $k i32) (local $p i32) (local $n i32) (local $low i32)
    (local $mask i32) (local $multiply i32) (local $rowBytes i32) (local $listBytes i32) (local $levelRow i32)
    (local $entry i32) (local $e i32) (local $eEnd i32) (local $rowSums i32) (local $dst i32) (local $end i32)
    (local $c i32) (local $q i32) (local $t i32) (local $lastStep i32)
    ${group.map((i) => `(local $a${i} i32)`).join(" ")}
    ${group.map((i) => `(local $w${i} v128)`).join(" ")}
    ${range(SPARSE_ADC_COLUMNS).map((k) => `(local $acc${k} i64)`).join(" ")} (local $dac64 i64)
    (local.set $low (call $digitLowBits (local.get $steps) (local.get $dacBits)))
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $dacBits)) (i32.const 1)))
    (local.set $multiply (i32.gt_u (local.get $dacBits) (i32.const 1)))
    (local.set $rowBytes (i32.shl (local.get $stride) (i32.const 1)))
    (local.set $listBytes (i32.shl (local.get $rows) (i32.const 3)))
    (local.set $lastStep (i32.add (local.get $sums) (i32.mul (i32.sub (local.get $steps) (i32.const 1)) (local.get $rowBytes))))
    (local.set $dac64 (i64.extend_i32_u (local.get $dacBits)))
    (block $doneO
      (loop $loopO
        (br_if $doneO (i32.ge_u (local.get $o) (local.get $outer)))
        ;; (1) per digit position p = t·db, the list of (level row address, digit) of the rows whose digit is not 0
        ;; (zeroed in loops: memory.fill is a call out of the compiled code, which small tiles would feel per vector)
        (local.set $dst (local.get $counts))
        (local.set $end (i32.add (local.get $counts) (i32.shl (i32.mul (local.get $steps) (local.get $dacBits)) (i32.const 2))))
        (loop $zeroCounts
          (i32.store (local.get $dst) (i32.const 0))
          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
          (br_if $zeroCounts (i32.lt_u (local.get $dst) (local.get $end))))
        (local.set $levelRow (local.get $levels))
        (local.set $r (i32.const 0))
        (block $doneR
          (loop $loopR
            (br_if $doneR (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $v (i32.load (local.get $x)))
            (if (local.get $v)
              (then
                ;; y: bit t·db set iff step t's digit is not 0
                (local.set $y (local.get $v))
                (local.set $k (i32.const 1))
                (block $doneFold
                  (loop $fold
                    (br_if $doneFold (i32.ge_u (local.get $k) (local.get $dacBits)))
                    (local.set $y (i32.or (local.get $y) (i32.shr_u (local.get $v) (local.get $k))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $fold)))
                (local.set $y (i32.and (local.get $y) (local.get $low)))
                (block $doneDigits
                  (loop $loopDigits
                    (br_if $doneDigits (i32.eqz (local.get $y)))
                    (local.set $p (i32.shl (i32.ctz (local.get $y)) (i32.const 2)))
                    (local.set $n (i32.load (i32.add (local.get $counts) (local.get $p))))
                    (i32.store (i32.add (local.get $counts) (local.get $p)) (i32.add (local.get $n) (i32.const 1)))
                    (local.set $entry (i32.add (local.get $lists) (i32.add (i32.shl (i32.mul (local.get $p) (local.get $rows)) (i32.const 1)) (i32.shl (local.get $n) (i32.const 3)))))
                    (i32.store (local.get $entry) (local.get $levelRow))
                    (i32.store offset=4 (local.get $entry) (i32.and (i32.shr_u (local.get $v) (i32.ctz (local.get $y))) (local.get $mask)))
                    (local.set $y (i32.and (local.get $y) (i32.sub (local.get $y) (i32.const 1))))
                    (br $loopDigits)))))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (local.set $levelRow (i32.add (local.get $levelRow) (local.get $rowBytes)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $loopR)))
        ;; (2) per step, its listed rows added into its column sums (row t of sums)
        (local.set $dst (local.get $sums))
        (local.set $end (i32.add (local.get $sums) (i32.mul (local.get $steps) (local.get $rowBytes))))
        (loop $zeroSums
${unroll.map((u) => `          (v128.store offset=${16 * u} (local.get $dst) (v128.const i64x2 0 0))`).join("\n")}
          (local.set $dst (i32.add (local.get $dst) (i32.const ${stepBytes})))
          (br_if $zeroSums (i32.lt_u (local.get $dst) (local.get $end))))
        (local.set $rowSums (local.get $sums))
        (local.set $p (i32.const 0))
        (local.set $t (i32.const 0))
        (block $doneT
          (loop $loopT
            (br_if $doneT (i32.ge_u (local.get $t) (local.get $steps)))
            (local.set $e (i32.add (local.get $lists) (i32.mul (local.get $p) (local.get $listBytes))))
            (local.set $eEnd (i32.add (local.get $e) (i32.shl (i32.load (i32.add (local.get $counts) (i32.shl (local.get $p) (i32.const 2)))) (i32.const 3))))
            (local.set $end (i32.add (local.get $rowSums) (local.get $rowBytes)))
            (block $doneGroups
              (loop $loopGroups
                (br_if $doneGroups (i32.gt_u (i32.add (local.get $e) (i32.const ${8 * SPARSE_ROW_GROUP})) (local.get $eEnd)))
${pass("group", SPARSE_ROW_GROUP)}
                (br $loopGroups)))
            (block $doneSingles
              (loop $loopSingles
                (br_if $doneSingles (i32.ge_u (local.get $e) (local.get $eEnd)))
${pass("single", 1)}
                (br $loopSingles)))
            (local.set $rowSums (local.get $end))
            (local.set $p (i32.add (local.get $p) (local.get $dacBits)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $loopT)))
        ;; (3) ADC: code = lut[I_t]; shift-add: acc = 2^db·acc + code, steps from the last down; ${SPARSE_ADC_COLUMNS} columns per
        ;; pass (cols is a multiple of 4), so the loop's own work is shared
        (local.set $c (i32.const 0))
        (block $doneC
          (loop $loopC
            (br_if $doneC (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $q (i32.add (local.get $lastStep) (i32.shl (local.get $c) (i32.const 1))))
${lines(SPARSE_ADC_COLUMNS, (k) => `            (local.set $acc${k} (i64.const 0))`)}
            (local.set $t (local.get $steps))
            (loop $loopAdc
${lines(SPARSE_ADC_COLUMNS, (k) => `              (local.set $acc${k} (i64.add (i64.shl (local.get $acc${k}) (local.get $dac64))
                (i64.load32_s (i32.add (local.get $lut) (i32.shl (i32.load16_u offset=${2 * k} (local.get $q)) (i32.const 2))))))`)}
              (local.set $q (i32.sub (local.get $q) (local.get $rowBytes)))
              (local.set $t (i32.sub (local.get $t) (i32.const 1)))
              (br_if $loopAdc (local.get $t)))
${lines(SPARSE_ADC_COLUMNS, (k) => `            (f64.store offset=${8 * k} (local.get $out) (f64.convert_i64_s (local.get $acc${k})))`)}
            (local.set $out (i32.add (local.get $out) (i32.const ${8 * SPARSE_ADC_COLUMNS})))
            (local.set $c (i32.add (local.get $c) (i32.const ${SPARSE_ADC_COLUMNS})))
            (br $loopC)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $loopO))))
`;
}

/** `text` with every line indented by `spaces` more (for fragments inserted inside a hand-written function body). */
const indent = (text, spaces) => text.replace(/^(?=.)/gm, " ".repeat(spaces));

/**
 * read_float32's column block widths, widest first; a block takes the widest that fits the columns left (cols is a
 * multiple of 4), so a tile takes one block per 28 columns: a row costs a block about the same however narrow (an
 * index load and a loop step, and the adds into one accumulator wait on each other), so the last block should not
 * be split further. The widest, 28, is seven f32x4 accumulators (eight measured slower on LeNet-5's 128 × 68 tile) and
 * must match the 112 bytes of f32 sums read_float32 keeps before its i32 shift-add sums in the scratch.
 */
const FLOAT32_BLOCK_WIDTHS = [28, 24, 20, 16, 12, 8, 4];
/**
 * Bit-planes read_float32's 1-bit-DAC input transpose extracts: one per bit of the inputs' low bytes (so kernels.wat
 * takes that path only for steps ≤ 8).
 */
const FLOAT32_TRANSPOSE_STEPS = 8;

/**
 * Step $t of read_float32 on a column block `width` columns wide (accumulators $a0..: four columns each): the f32
 * column sums F over the step's listed rows k ∈ [listBase, kEnd) (ascending, one f32 multiply by the DAC value then
 * one add per term; no multiply with a 1-bit DAC), then either the fast ADC (code = Rn, clamped, shifted into the
 * block's i32 sums at $blockCodes) or, if any lane is ambiguous, $adcExact for the whole block.
 */
function float32BlockStep(width) {
  const accs = range(width / 4);
  // the step's listed rows k ∈ [k, kEnd) added into the accumulators: F += v_k·row_k, or F += row_k (1-bit DAC)
  const rowLoop = (label, multiply) => {
    const cells = (a) => `(v128.load offset=${16 * a} (local.get $q))`;
    const term = multiply ? (a) => `(f32x4.mul (local.get $vv) ${cells(a)})` : cells;
    return `(block $done${label}${width}
  (loop $loop${label}${width}
    (br_if $done${label}${width} (i32.ge_u (local.get $k) (local.get $kEnd)))
    (local.set $q (i32.add (local.get $p)
      (i32.load (i32.add (local.get $idx) (i32.shl (local.get $k) (i32.const 2))))))${multiply ? `
    (local.set $vv (v128.load32_splat (i32.add (local.get $vals) (i32.shl (local.get $k) (i32.const 2)))))` : ""}
${lines(accs.length, (a) => `    (local.set $a${a} (f32x4.add (local.get $a${a}) ${term(a)}))`)}
    (local.set $k (i32.add (local.get $k) (i32.const 1)))
    (br $loop${label}${width})))`;
  };
  // the rows set in step t's plane (kept at vals + 8t), ascending: F += row_r
  const planeLoop = () => `(local.set $word (i64.load (i32.add (local.get $vals) (i32.shl (local.get $t) (i32.const 3)))))
(block $doneP${width}
  (loop $loopP${width}
    (br_if $doneP${width} (i64.eqz (local.get $word)))
    (local.set $q (i32.add (local.get $p) (i32.mul (i32.wrap_i64 (i64.ctz (local.get $word))) (local.get $rowBytes32))))
${lines(accs.length, (a) => `    (local.set $a${a} (f32x4.add (local.get $a${a}) ${`(v128.load offset=${16 * a} (local.get $q))`}))`)}
    (local.set $word (i64.and (local.get $word) (i64.sub (local.get $word) (i64.const 1))))
    (br $loopP${width})))`;
  // the plane's non-zero bytes (groups of eight rows), ascending: F += the table row of the byte's rows
  const planeGroupLoop = () => `(local.set $word (i64.load (i32.add (local.get $vals) (i32.shl (local.get $t) (i32.const 3)))))
${byteGroupBits()}
(block $donePG${width}
  (loop $loopPG${width}
    (br_if $donePG${width} (i64.eqz (local.get $groupBits)))
    (local.set $bitAt (i64.ctz (local.get $groupBits)))
    (local.set $q (i32.add (local.get $p) (i32.mul (local.get $rowBytes32) (i32.wrap_i64 ${groupTableRow()}))))
${lines(accs.length, (a) => `    (local.set $a${a} (f32x4.add (local.get $a${a}) ${`(v128.load offset=${16 * a} (local.get $q))`}))`)}
    (local.set $groupBits (i64.and (local.get $groupBits) (i64.sub (local.get $groupBits) (i64.const 1))))
    (br $loopPG${width})))`;
  // |F − Rn|, Rn = (F + 1.5·2^23) − 1.5·2^23 (see read_float32's contract)
  const residual = (a) => `(f32x4.abs (f32x4.sub (local.get $a${a}) (f32x4.sub (f32x4.add (local.get $a${a}) (local.get $magic)) (local.get $magic))))`;
  return `(local.set $width (i32.const ${width}))
(local.set $k (local.get $listBase))
${lines(accs.length, (a) => `(local.set $a${a} (v128.const i64x2 0 0))`)}
(if (local.get $planeRows)
  (then
    ;; ≤ 64 rows, 1-bit DAC: the step's rows (or groups, with tables) straight from its bit-plane (no list), no multiply
    (if (local.get $planeGroups)
      (then
${indent(planeGroupLoop(), 8)})
      (else
${indent(planeLoop(), 8)})))
  (else
    (if (local.get $oneBit)
      (then
        ;; 1-bit DAC: every listed value is 1, so no multiply
${indent(rowLoop("K", false), 8)})
      (else
${indent(rowLoop("V", true), 8)}))))
;; ambiguous lanes: |F − Rn| ≥ 0.5 − B[c], Rn = (F + 1.5·2^23) − 1.5·2^23 (see read_float32's contract)
(local.set $amb (v128.const i64x2 0 0))
${lines(accs.length, (a) => `(local.set $amb (v128.or (local.get $amb) (f32x4.ge
  ${residual(a)}
  (v128.load offset=${16 * a} (local.get $thrStep)))))`)}
(if (v128.any_true (local.get $amb))
  (then
    ;; rare: a second look with the bound from the step's own sums, |F − Rn| + K·|F| ≥ H[c] (the H tables follow
    ;; the eight threshold tables)
    (local.set $amb (v128.const i64x2 0 0))
${lines(accs.length, (a) => `    (local.set $amb (v128.or (local.get $amb) (f32x4.ge
      (f32x4.add
        ${residual(a)}
        (f32x4.mul (local.get $secondK) (f32x4.abs (local.get $a${a}))))
      (v128.load offset=${16 * a} (i32.add (local.get $thrStep) (i32.shl (local.get $tableBytes) (i32.const 3)))))))`)}))
(if (v128.any_true (local.get $amb))
  (then
    ;; rarer still: some sum is too close to a half-integer to decide its rounding ($adcExact reads the step's list of
    ;; rows: made from its plane first where there is none, from its group entries into the spare list [steps] with
    ;; group tables)
${lines(accs.length, (a) => `    (v128.store offset=${16 * a} (local.get $sums) (local.get $a${a}))`)}
    (if (local.get $planeRows)
      (then
        (local.set $word (i64.load (i32.add (local.get $vals) (i32.shl (local.get $t) (i32.const 3)))))
        (local.set $q (i32.add (local.get $idx) (i32.shl (local.get $listBase) (i32.const 2))))
        (block $doneL${width}
          (loop $loopL${width}
            (br_if $doneL${width} (i64.eqz (local.get $word)))
            (i32.store (local.get $q) (i32.mul (i32.wrap_i64 (i64.ctz (local.get $word))) (local.get $rowBytes32)))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (local.set $word (i64.and (local.get $word) (i64.sub (local.get $word) (i64.const 1))))
            (br $loopL${width})))))
    (local.set $exactFrom (local.get $listBase))
    (local.set $exactTo (local.get $kEnd))
    (if (local.get $grouped)
      (then
        (local.set $exactFrom (i32.mul (local.get $steps) (local.get $rows)))
        (local.set $exactTo (call $groupEntryRows (local.get $idx) (local.get $listBase) (local.get $kEnd) (local.get $rowBytes32) (local.get $exactFrom)))))
    (local.set $fallbacks (f64.add (local.get $fallbacks) (f64.convert_i32_u
      (call $adcExact (local.get $sums) (local.get $blockCodes) (local.get $thrStep) (local.get $col) (i32.const ${width}) (local.get $exactFrom)
        (local.get $exactTo) (local.get $idx) (local.get $vals) (local.get $oneBit) (local.get $shift) (local.get $minV) (local.get $maxV)
        (select (local.get $blockCache) (i32.const 0) (local.get $cacheCodes)))))))
  (else
    ;; code = bits(F + 1.5·2^23) − bits(1.5·2^23), clamped (adcMin ≤ adcMax: as the JS below min → min, else above
    ;; max → max), in place of F; stored in the plane cache when the step's plane goes there; codes += code·2^(t·db)
${lines(accs.length, (a) => `    (local.set $a${a} (i32x4.max_s (i32x4.min_s (i32x4.sub (f32x4.add (local.get $a${a}) (local.get $magic)) (local.get $magicBits)) (local.get $maxV)) (local.get $minV)))`)}
    (if (local.get $cacheCodes)
      (then
${lines(accs.length, (a) => `        (v128.store offset=${16 * a} (local.get $blockCache) (local.get $a${a}))`)}))
${lines(accs.length, (a) => `    (v128.store offset=${16 * a} (local.get $blockCodes) (i32x4.add (v128.load offset=${16 * a} (local.get $blockCodes)) (i32x4.shl (local.get $a${a}) (local.get $shift))))`)}))`;
}

/**
 * Step $t of read_float32 on the column block at $cb (fragment of its loop over blocks inside its loop over steps;
 * $p, $thrStep, $col and $blockCodes already point at the block's f32 cells, thresholds, f64 cells and i32 shift-add
 * sums): the one-step fragment of the widest block width that fits the $left columns, setting $width to it. The
 * fragments differ only in width, so each width's is unrolled over its accumulators by float32BlockStep.
 */
export function float32ColumnBlocks() {
  const chain = (i) => {
    const width = FLOAT32_BLOCK_WIDTHS[i];
    if (i === FLOAT32_BLOCK_WIDTHS.length - 1) return float32BlockStep(width);
    return `(if (i32.ge_u (local.get $left) (i32.const ${width}))
  (then
${indent(float32BlockStep(width), 4)})
  (else
${indent(chain(i + 1), 4)}))`;
  };
  return `${chain(0)}
`;
}

/**
 * read_float32's 1-bit-DAC input transpose for sixteen rows (fragment of its loop over row groups; $vv holds the rows'
 * low input bytes, $rowShift their bit offset in the current 64-row word): bit t of the sixteen bytes
 * (i8x16.bitmask of the bytes shifted left by 7 − t) ORed into plane t, the i64 $p<t>, for t < 8 (planes of steps
 * past the call's are left unread).
 */
export function float32InputPlanes() {
  return `${lines(FLOAT32_TRANSPOSE_STEPS, (t) => `(local.set $p${t} (i64.or (local.get $p${t})
  (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.shl (local.get $vv) (i32.const ${FLOAT32_TRANSPOSE_STEPS - 1 - t})))) (local.get $rowShift))))`)}
`;
}

/** read_float32's planes cleared before each 64-row word ($p<t> = 0). */
export function float32ClearPlanes() {
  return `${lines(FLOAT32_TRANSPOSE_STEPS, (t) => `(local.set $p${t} (i64.const 0))`)}
`;
}

/** The address of step t's list of active rows: idx + t·rows·4 (its slot in the idx scratch [steps, rows]). */
const listStart = (t) => (t === 0 ? "(local.get $idx)" : `(i32.add (local.get $idx) (i32.shl (i32.mul (local.get $rows) (i32.const ${t})) (i32.const 2)))`);

/** Where each step's list of active rows starts: $k<t> = listStart(t). */
export function float32ListStarts() {
  return `${lines(FLOAT32_TRANSPOSE_STEPS, (t) => `(local.set $k${t} ${listStart(t)})`)}
`;
}

/**
 * read_float32's step lists from one 64-row word's planes (fragment after the word's transpose; $rowAt is the f32 row
 * byte offset of the word's first row): for each step t < steps, the byte offset of every row whose bit is set in
 * $p<t>, ascending, appended at $k<t>.
 */
export function float32StepLists() {
  return `${lines(FLOAT32_TRANSPOSE_STEPS, (t) => `(if (i32.gt_u (local.get $steps) (i32.const ${t}))
  (then
    (local.set $word (local.get $p${t}))
    (block $doneList${t}
      (loop $loopList${t}
        (br_if $doneList${t} (i64.eqz (local.get $word)))
        (i32.store (local.get $k${t}) (i32.add (local.get $rowAt) (i32.mul (i32.wrap_i64 (i64.ctz (local.get $word))) (local.get $rowBytes32))))
        (local.set $k${t} (i32.add (local.get $k${t}) (i32.const 4)))
        (local.set $word (i64.and (local.get $word) (i64.sub (local.get $word) (i64.const 1))))
        (br $loopList${t})))))`)}
`;
}

/** $groupBits = the 64-row plane $word's non-zero bytes (groups of eight rows) as bit 8g of each: its byte ORed down. */
const byteGroupBits = () => `(local.set $groupBits (i64.or (local.get $word) (i64.shr_u (local.get $word) (i64.const 4))))
(local.set $groupBits (i64.or (local.get $groupBits) (i64.shr_u (local.get $groupBits) (i64.const 2))))
(local.set $groupBits (i64.and (i64.const 0x0101010101010101) (i64.or (local.get $groupBits) (i64.shr_u (local.get $groupBits) (i64.const 1)))))`;

/** The table row of group g's rows set in $word, $bitAt = 8g: 256g + b = 32·(8g) + b, b the group's byte (i64). */
const groupTableRow = () => "(i64.add (i64.shl (local.get $bitAt) (i64.const 5)) (i64.and (i64.shr_u (local.get $word) (local.get $bitAt)) (i64.const 255)))";

/**
 * read_float32's step lists with group tables, from one 64-row word's planes (the alternative to float32StepLists;
 * $groupAt is the table byte offset of the word's first group, 8 groups of eight rows, each 256 table rows): for each
 * step t < steps, one entry per group in which $p<t> has a bit set — the table row (256·g + b)·rowBytes32 past
 * $groupAt, b the group's byte of the plane — appended at $k<t>, ascending; and the step's rows, popcnt($p<t>), added
 * to its count at counts + 32 + 4t (the bound on F's rounding error grows with the rows summed, not the entries).
 */
export function float32GroupLists() {
  return `${lines(FLOAT32_TRANSPOSE_STEPS, (t) => `(if (i32.gt_u (local.get $steps) (i32.const ${t}))
  (then
    (local.set $word (local.get $p${t}))
    (i32.store offset=${32 + 4 * t} (local.get $counts)
      (i32.add (i32.load offset=${32 + 4 * t} (local.get $counts)) (i32.wrap_i64 (i64.popcnt (local.get $word)))))
${indent(byteGroupBits(), 4)}
    (block $doneGroups${t}
      (loop $loopGroups${t}
        (br_if $doneGroups${t} (i64.eqz (local.get $groupBits)))
        (local.set $bitAt (i64.ctz (local.get $groupBits)))
        (i32.store (local.get $k${t}) (i32.add (local.get $groupAt) (i32.mul (local.get $rowBytes32) (i32.wrap_i64 ${groupTableRow()}))))
        (local.set $k${t} (i32.add (local.get $k${t}) (i32.const 4)))
        (local.set $groupBits (i64.and (local.get $groupBits) (i64.sub (local.get $groupBits) (i64.const 1))))
        (br $loopGroups${t})))))`)}
`;
}

/**
 * ≤ 64 rows: each step's plane kept at vals + 8t (the block loops read their rows from it) and its row count into
 * counts[t] (t < steps), $any ≠ 0 iff some step drives a row.
 */
export function float32PlaneCounts() {
  return `${lines(FLOAT32_TRANSPOSE_STEPS, (t) => `(if (i32.gt_u (local.get $steps) (i32.const ${t}))
  (then
    (i64.store offset=${8 * t} (local.get $vals) (local.get $p${t}))
    (local.set $n (i32.wrap_i64 (i64.popcnt (local.get $p${t}))))
    (i32.store offset=${4 * t} (local.get $counts) (local.get $n))
    (local.set $any (i32.or (local.get $any) (local.get $n)))))`)}
`;
}

/** Each step's list length into counts[t] (t < steps), $any ≠ 0 iff some list is not empty. */
export function float32ListCounts() {
  return `${lines(FLOAT32_TRANSPOSE_STEPS, (t) => {
    const length = `(i32.sub (local.get $k${t}) ${listStart(t)})`;
    return `(if (i32.gt_u (local.get $steps) (i32.const ${t}))
  (then
    (local.set $n ${length})
    (i32.store offset=${4 * t} (local.get $counts) (i32.shr_u (local.get $n) (i32.const 2)))
    (local.set $any (i32.or (local.get $any) (local.get $n)))))`;
  })}
`;
}

/**
 * $adcExact's recomputation of the ambiguous lanes of four columns (fragment of its loop; $lanes the lane bitmask,
 * $col the f64 cells of the first column): lane l's code replaced by $exactCode of column l (replace_lane takes a
 * constant lane, hence one test per lane).
 */
export function adcExactLanes() {
  return `${lines(4, (lane) => `(if (i32.and (local.get $lanes) (i32.const ${1 << lane}))
  (then (local.set $code (i32x4.replace_lane ${lane} (local.get $code)
    (call $exactCode ${lane === 0 ? "(local.get $col)" : `(i32.add (local.get $col) (i32.const ${8 * lane}))`} (local.get $listBase) (local.get $kEnd) (local.get $idx) (local.get $vals) (local.get $oneBit))))))`)}
`;
}

/** Columns per pass of mvm_i16 (for each of its two vectors, four i32x4 accumulators, one column each). */
const MVM_I16_COLUMNS = 4;

/**
 * mvm_i16's work on one 8-row input chunk of a pair of vectors (fragment of its two chunk loops; $xv and $yv hold the
 * two vectors' inputs, $wk the address of the pass's 4 columns' weights, 16 bytes each): for each column j, its weights
 * loaded once, a_j += dot_i16x8_s(x, w_j) and a_(4+j) += dot_i16x8_s(y, w_j).
 */
export function mvmI16Chunk() {
  return `${lines(MVM_I16_COLUMNS, (j) => `(local.set $h0 (v128.load offset=${16 * j} (local.get $wk)))
(local.set $a${j} (i32x4.add (local.get $a${j}) (i32x4.dot_i16x8_s (local.get $xv) (local.get $h0))))
(local.set $a${MVM_I16_COLUMNS + j} (i32x4.add (local.get $a${MVM_I16_COLUMNS + j}) (i32x4.dot_i16x8_s (local.get $yv) (local.get $h0))))`)}
`;
}

/**
 * Column quads per pass of mvm_i16_pairs (an i32x4 accumulator each). Eight measured 1.3× slower per product on dense
 * 128×32 tiles: V8 loads every quad's weights before the dot products, and with eight it spills an accumulator.
 */
const MVM_I16_PAIRS_QUADS = 4;

/**
 * mvm_i16_pairs's pass over one vector's listed row pairs (fragment of its loop over passes; $xRow addresses the
 * vector, $e .. $listEnd its list of non-zero pairs' byte offsets, $wBase the pass's first column's weight pairs,
 * $pairCols the weights' row length in columns): for each listed pair, its two inputs splat, and for each quad q of
 * columns, a_q += dot_i16x8_s(inputs, the pair's interleaved weights of those columns); then each quad within the
 * tile's columns finished into the accumulators at $accRow + 4·$c as finish_i32 does.
 */
export function mvmI16PairsPass() {
  const quads = MVM_I16_PAIRS_QUADS;
  const dots = lines(quads, (q) => `(local.set $a${q} (i32x4.add (local.get $a${q}) (i32x4.dot_i16x8_s (local.get $xs) (v128.load offset=${16 * q} (local.get $wq)))))`);
  const finish = lines(quads, (q) => `(if (i32.lt_u (i32.add (local.get $c) (i32.const ${4 * q})) (local.get $cols))
  (then
${indent(finishColumns(`$a${q}`, "$corrAt", "$accAt", 16 * q), 4)}))`);
  return `${lines(quads, (q) => `(local.set $a${q} (v128.const i64x2 0 0))`)}
(local.set $e (local.get $list))
(block $donePairs
  (loop $loopPairs
    (br_if $donePairs (i32.ge_u (local.get $e) (local.get $listEnd)))
    (local.set $off (i32.load (local.get $e)))
    (local.set $xs (v128.load32_splat (i32.add (local.get $xRow) (local.get $off))))
    (local.set $wq (i32.add (local.get $wBase) (i32.mul (local.get $off) (local.get $pairCols))))
${indent(dots, 4)}
    (local.set $e (i32.add (local.get $e) (i32.const 4)))
    (br $loopPairs)))
(local.set $corrAt (i32.add (local.get $correction) (i32.shl (local.get $c) (i32.const 2))))
(local.set $accAt (i32.add (local.get $accRow) (i32.shl (local.get $c) (i32.const 2))))
${finish}
`;
}

/**
 * Statements leaving the lane sums [Σ a, Σ b, Σ c, Σ d] of four i32x4 expressions in the local `t0` (wrapping i32 adds,
 * a transposing reduction; `t1` a second v128 temporary): t0 = [a0 + a2, a1 + a3, b0 + b2, b1 + b3], t1 likewise for
 * c, d, then their pairs.
 */
function laneSums(a, b, c, d, t0, t1) {
  const halves = (x, y) => `(i32x4.add
  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 ${x} ${y})
  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 ${x} ${y}))`;
  return `(local.set ${t0} ${halves(a, b)})
(local.set ${t1} ${halves(c, d)})
(local.set ${t0} (i32x4.add
  (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get ${t0}) (local.get ${t1}))
  (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get ${t0}) (local.get ${t1}))))`;
}

/**
 * Statements finishing four columns (finish_i32's arithmetic): dst[0..3] += wrap(window(v − correction[0..3])), the
 * window floor(·2^−D_L) as an arithmetic shift right by $dL (left by −$dL), the wrap to O_RWL bits as
 * (a << $wrapShift) >> $wrapShift. `v` a v128 local (overwritten); the correction and dst i32x4 at `offset` bytes
 * from the addresses in the locals `correction` and `dst`.
 */
function finishColumns(v, correction, dst, offset) {
  return `(local.set ${v} (i32x4.sub (local.get ${v}) (v128.load offset=${offset} (local.get ${correction}))))
(local.set ${v} (select
  (i32x4.shr_s (local.get ${v}) (local.get $dL))
  (i32x4.shl (local.get ${v}) (i32.sub (i32.const 0) (local.get $dL)))
  (i32.ge_s (local.get $dL) (i32.const 0))))
(local.set ${v} (i32x4.shr_s (i32x4.shl (local.get ${v}) (local.get $wrapShift)) (local.get $wrapShift)))
(v128.store offset=${offset} (local.get ${dst}) (i32x4.add (v128.load offset=${offset} (local.get ${dst})) (local.get ${v})))`;
}

/** $hsum4's body: the lane sums of its parameters $a..$d (temporaries $ab, $cd), returned. */
export function hsum4Body() {
  return `${laneSums("(local.get $a)", "(local.get $b)", "(local.get $c)", "(local.get $d)", "$ab", "$cd")}
(local.get $ab)
`;
}

/** $finishQuad's body: finishColumns on its parameters. */
export function finishQuadBody() {
  return `${finishColumns("$v", "$correction", "$dst", 0)}
`;
}


/**
 * conv_i16's work on one pair of rows (fragment of its loop over pairs; $lo and $hi hold the pair's inputs at the
 * block's eight positions, interleaved, $wc the address of the pass's four columns' weight pairs): for each column j,
 * its two weights splat, a_(2j) += dot(lo, w) (positions 0..3), a_(2j+1) += dot(hi, w) (positions 4..7).
 */
export function convI16Pair() {
  return `${lines(4, (j) => `(local.set $wv (v128.load32_splat offset=${4 * j} (local.get $wc)))
(local.set $a${2 * j} (i32x4.add (local.get $a${2 * j}) (i32x4.dot_i16x8_s (local.get $lo) (local.get $wv))))
(local.set $a${2 * j + 1} (i32x4.add (local.get $a${2 * j + 1}) (i32x4.dot_i16x8_s (local.get $hi) (local.get $wv))))`)}
`;
}

/**
 * conv_i16's output of one pass (fragment after its loop over pairs; $o is the block's first position, $c the pass's
 * first column): the 4×4 blocks [columns, positions 0..3] (a0, a2, a4, a6) and [columns, positions 4..7] (a1, a3, a5,
 * a7) transposed to each position's four sums, then stored into its row of out, or (acc ≠ 0) finished into its
 * accumulators as mvm_i16's fused finish does — only for positions within the output row, as accumulators add.
 */
export function convI16Store() {
  const position = (i, half, from, to) => `(local.set $wv (i8x16.shuffle ${half} (local.get ${from}) (local.get ${to})))
(if (local.get $acc)
  (then
    (if (i32.lt_u (i32.add (local.get $x0) (i32.const ${i})) (local.get $outWidth))
      (then
        (local.set $accRow (i32.add (local.get $acc) (i32.shl (i32.add (i32.mul (i32.add (local.get $o) (i32.const ${i})) (local.get $accStride))
          (i32.add (local.get $colBase) (local.get $c))) (i32.const 2))))
${indent(finishColumns("$wv", "$corrAt", "$accRow", 0), 8)})))
  (else (v128.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (i32.add (local.get $o) (i32.const ${i})) (local.get $colsPadded)) (local.get $c)) (i32.const 2)))
    (local.get $wv))))`;
  const LOW = "0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23";
  const HIGH = "8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31";
  const group = (a, b, c, d, first) => `(local.set $u (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get ${a}) (local.get ${b})))
(local.set $v (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get ${a}) (local.get ${b})))
(local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get ${c}) (local.get ${d})))
(local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get ${c}) (local.get ${d})))
${position(first, LOW, "$u", "$lo")}
${position(first + 1, HIGH, "$u", "$lo")}
${position(first + 2, LOW, "$v", "$hi")}
${position(first + 3, HIGH, "$v", "$hi")}`;
  return `(local.set $corrAt (i32.add (local.get $correction) (i32.shl (local.get $c) (i32.const 2))))
${group("$a0", "$a2", "$a4", "$a6", 0)}
${group("$a1", "$a3", "$a5", "$a7", 4)}
`;
}

/**
 * gather_padded_i16's work on one group of eight rows for eight positions (fragment of its loop over groups; $base
 * addresses the block's first position in the padded image, $tp the group's eight taps, $d the first position's
 * group in dst): each row's eight positions loaded at once (row r reads element base + taps[r] + p for position p),
 * the 8×8 block of i16 transposed (16-, 32-, then 64-bit interleaves), and each position's eight rows stored, masked
 * first in the groups from $full on (rows past the tile's kept 0, the bias row's input filled in: (v & keep) | fill,
 * the pair at $mk).
 */
export function gatherPaddedI16Group() {
  const load = (r) => `(local.set $r${r} (v128.load (i32.add (local.get $base) (i32.shl (i32.load offset=${4 * r} (local.get $tp)) (i32.const 1)))))`;
  const LO16 = "0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23";
  const HI16 = "8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31";
  const LO32 = "0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23";
  const HI32 = "8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31";
  const LO64 = "0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23";
  const HI64 = "8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31";
  const mix = (to, pattern, a, b) => `(local.set ${to} (i8x16.shuffle ${pattern} (local.get ${a}) (local.get ${b})))`;
  // s(2i), s(2i + 1): rows 2i and 2i + 1 interleaved, positions 0–3 and 4–7
  const stage1 = range(4).flatMap((i) => [mix(`$s${2 * i}`, LO16, `$r${2 * i}`, `$r${2 * i + 1}`), mix(`$s${2 * i + 1}`, HI16, `$r${2 * i}`, `$r${2 * i + 1}`)]);
  // r0..r3: rows 0–3 of positions (0, 1), (2, 3), (4, 5), (6, 7); r4..r7: rows 4–7 of the same
  const stage2 = range(2).flatMap((half) => range(2).flatMap((k) => [
    mix(`$r${4 * half + 2 * k}`, LO32, `$s${4 * half + k}`, `$s${4 * half + k + 2}`),
    mix(`$r${4 * half + 2 * k + 1}`, HI32, `$s${4 * half + k}`, `$s${4 * half + k + 2}`)]));
  // position p: rows 0–3 from r(p/2), rows 4–7 from r(4 + p/2), the low or high 64 bits by p's parity
  const stage3 = range(8).map((p) => mix(`$s${p}`, p % 2 === 0 ? LO64 : HI64, `$r${p >> 1}`, `$r${4 + (p >> 1)}`));
  const masked = range(8).map((p) => `(local.set $s${p} (v128.or (v128.and (local.get $s${p}) (v128.load (local.get $mk))) (v128.load offset=16 (local.get $mk))))`);
  const store = (p) => `(v128.store (i32.add (local.get $d) (i32.mul (local.get $rowBytes) (i32.const ${p}))) (local.get $s${p}))`;
  return `${lines(8, load)}
${stage1.join("\n")}
${stage2.join("\n")}
${stage3.join("\n")}
(if (i32.ge_u (local.get $g) (local.get $full))
  (then
${indent(masked.join("\n"), 4)}
    (local.set $mk (i32.add (local.get $mk) (i32.const 32)))))
${lines(8, store)}
`;
}

/**
 * mvm_i16's fused finish of one vector (fragment of its output stage; $accRow and $corrAt address the pass's first
 * column): the lane sums of its four accumulators from a<first>, finished into the accumulators — $hsum4 and
 * $finishQuad inline (a call per quad cost as much as the work).
 */
export function mvmI16FinishQuad(first) {
  const [a, b, c, d] = [0, 1, 2, 3].map((i) => `(local.get $a${first + i})`);
  // the finished quad also kept in $saved (the pair's first vector, then its second), for a next pair equal to this one
  const savedColumn = first === 0 ? "(local.get $c)" : "(i32.add (local.get $c) (local.get $colsPadded))";
  return `${laneSums(a, b, c, d, "$h0", "$h1")}
${finishColumns("$h0", "$corrAt", "$accRow", 0)}
(v128.store (i32.add (local.get $saved) (i32.shl ${savedColumn} (i32.const 2))) (local.get $h0))
`;
}

/**
 * finish_slices_i32's four columns of four slices (fragment of its loop over column quads; $c0 addresses the quad's
 * first slice, $corrAt its corrections, $dst its accumulators): each column's slices weighted by $place = 2^(s·cb)
 * (scheme 1: the positive column's less the negative's, differential pairs), summed across ($hsum4 inline), less the
 * offset column's value $offset (0 with differential pairs), then finished into the accumulators ($finishQuad
 * inline: a call per quad cost as much as the work, as in mvm_i16).
 */
export function finishSlicesQuad() {
  const weighted = (differential) => range(4).map((i) => differential
    ? `(local.set $q${i} (i32x4.mul (local.get $place) (i32x4.sub (v128.load offset=${32 * i} (local.get $c0)) (v128.load offset=${32 * i + 16} (local.get $c0)))))`
    : `(local.set $q${i} (i32x4.mul (local.get $place) (v128.load offset=${16 * i} (local.get $c0))))`).join("\n");
  return `(if (i32.eq (local.get $scheme) (i32.const 1))
  (then
${indent(weighted(true), 4)}
    (local.set $c0 (i32.add (local.get $c0) (i32.const 128))))
  (else
${indent(weighted(false), 4)}
    (local.set $c0 (i32.add (local.get $c0) (i32.const 64)))))
${laneSums("(local.get $q0)", "(local.get $q1)", "(local.get $q2)", "(local.get $q3)", "$h0", "$h1")}
(local.set $h0 (i32x4.sub (local.get $h0) (i32x4.splat (local.get $offset))))
${finishColumns("$h0", "$corrAt", "$dst", 0)}
`;
}

/**
 * epilogue's integer form on the i32x4 local `v` (four channels): clamp to [aLo, aHi], + the local `bias` (the four
 * channels' biases, or 0), clamp to [L, H], ReLU, round half to even by $shift bits, clamp to [lo, hi].
 */
function integerEpilogue(v, bias) {
  return `(local.set ${v} (i32x4.max_s (i32x4.min_s (local.get ${v}) (local.get $aHiV)) (local.get $aLoV)))
(local.set ${v} (i32x4.add (local.get ${v}) (local.get ${bias})))
(local.set ${v} (i32x4.max_s (i32x4.min_s (local.get ${v}) (local.get $HV)) (local.get $LV)))
(if (local.get $relu) (then (local.set ${v} (i32x4.max_s (local.get ${v}) (v128.const i32x4 0 0 0 0)))))
(if (local.get $shift)
  (then (local.set ${v} (i32x4.shr_s
    (i32x4.add
      (i32x4.add (local.get ${v}) (local.get $roundV))
      (v128.and (i32x4.shr_s (local.get ${v}) (local.get $shift)) (v128.const i32x4 1 1 1 1)))
    (local.get $shift)))))
(local.set ${v} (i32x4.max_s (i32x4.min_s (local.get ${v}) (local.get $hiI)) (local.get $loI)))`;
}

/** The i32 biases of the four channels from $cq + `first` into the local `into` (0 without a bias). */
const epilogueBias = (into, first = 0) => `(local.set ${into} (v128.const i32x4 0 0 0 0))
(if (local.get $bias) (then (local.set ${into} (v128.load offset=${4 * first} (i32.add (local.get $bias) (i32.shl (local.get $cq) (i32.const 2)))))))`;

/** epilogue's integer form on one four of channels of one position (fragment of its per-position loop; $v holds the window's maximum). */
export function epilogueIntegerFour() {
  return `${epilogueBias("$biasV")}
${integerEpilogue("$v", "$biasV")}
`;
}

/**
 * epilogue's integer form on four output positions q .. q + 3 at once (fragment of its loop over positions): for each
 * eight channels (as the per-position loop, which shares each window tap's bookkeeping between two fours), each
 * position's window maximum of the first four ($r0..$r3) and of the second ($s0..$s3) through integerEpilogue, into
 * the range, then each 4×4 block transposed so that a channel's four positions are one i32x4 store into its output
 * plane. Channels past the last are read (acc and bias past a row, as the per-position loop reads them), kept out of
 * the range and not stored.
 */
export function epilogueFourPositions() {
  const window = (i) => `(local.set $r${i} (v128.const i32x4 -2147483648 -2147483648 -2147483648 -2147483648))
(local.set $s${i} (local.get $r${i}))
(if (local.get $tapStarts)
  (then
    (local.set $kStart (i32.load offset=${4 * i} (i32.add (local.get $tapStarts) (i32.shl (local.get $q) (i32.const 2)))))
    (local.set $kEnd (i32.load offset=${4 * i + 4} (i32.add (local.get $tapStarts) (i32.shl (local.get $q) (i32.const 2))))))
  (else
    (local.set $kStart (i32.add (local.get $q) (i32.const ${i})))
    (local.set $kEnd (i32.add (local.get $q) (i32.const ${i + 1})))))
(local.set $k (local.get $kStart))
(block $doneK${i}
  (loop $loopK${i}
    (br_if $doneK${i} (i32.ge_u (local.get $k) (local.get $kEnd)))
    (local.set $p (select (i32.load (i32.add (local.get $taps) (i32.shl (local.get $k) (i32.const 2)))) (local.get $k) (local.get $tapStarts)))
    (local.set $at (i32.add (local.get $acc) (i32.shl (i32.add (i32.mul (i32.add (local.get $image) (local.get $p)) (local.get $channels)) (local.get $c)) (i32.const 2))))
    (local.set $r${i} (i32x4.max_s (local.get $r${i}) (v128.load (local.get $at))))
    (local.set $s${i} (i32x4.max_s (local.get $s${i}) (v128.load offset=16 (local.get $at))))
    (local.set $k (i32.add (local.get $k) (i32.const 1)))
    (br $loopK${i})))
${integerEpilogue(`$r${i}`, "$biasV")}
${integerEpilogue(`$s${i}`, "$biasW")}
(local.set $minR (i32x4.min_s (local.get $minR) (i32x4.min_s (v128.and (local.get $r${i}) (local.get $laneMask)) (v128.and (local.get $s${i}) (local.get $laneMaskW)))))
(local.set $maxR (i32x4.max_s (local.get $maxR) (i32x4.max_s (v128.and (local.get $r${i}) (local.get $laneMask)) (v128.and (local.get $s${i}) (local.get $laneMaskW)))))`;
  const LOW_PAIRS = "0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23";
  const HIGH_PAIRS = "8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31";
  const LOW_HALVES = "0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23";
  const HIGH_HALVES = "8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31";
  // channel c + j's four positions: pairs of positions interleaved (t0..t3), then their halves joined; stored only
  // where c + j is a channel
  const four = (v, first) => {
    const store = (j, halves, a, b) => {
      const put = `(v128.store (i32.add (local.get $dst) (i32.mul (local.get $planeBytes) (i32.const ${first + j})))
  (i8x16.shuffle ${halves} (local.get ${a}) (local.get ${b})))`;
      return first + j === 0 ? put : `(if (i32.lt_u (i32.add (local.get $c) (i32.const ${first + j})) (local.get $channels))
  (then
${indent(put, 4)}))`;
    };
    return `(local.set $t0 (i8x16.shuffle ${LOW_PAIRS} (local.get ${v}0) (local.get ${v}1)))
(local.set $t1 (i8x16.shuffle ${HIGH_PAIRS} (local.get ${v}0) (local.get ${v}1)))
(local.set $t2 (i8x16.shuffle ${LOW_PAIRS} (local.get ${v}2) (local.get ${v}3)))
(local.set $t3 (i8x16.shuffle ${HIGH_PAIRS} (local.get ${v}2) (local.get ${v}3)))
${[store(0, LOW_HALVES, "$t0", "$t2"), store(1, HIGH_HALVES, "$t0", "$t2"), store(2, LOW_HALVES, "$t1", "$t3"), store(3, HIGH_HALVES, "$t1", "$t3")].join("\n")}`;
  };
  return `(local.set $c (i32.const 0))
(block $doneC8
  (loop $loopC8
    (br_if $doneC8 (i32.ge_u (local.get $c) (local.get $channels)))
    (local.set $cq (local.get $c))
${indent(epilogueBias("$biasV"), 4)}
${indent(epilogueBias("$biasW", 4), 4)}
    (local.set $laneMask (i32x4.gt_s (i32x4.splat (i32.sub (local.get $channels) (local.get $c))) (v128.const i32x4 0 1 2 3)))
    (local.set $laneMaskW (i32x4.gt_s (i32x4.splat (i32.sub (local.get $channels) (local.get $c))) (v128.const i32x4 4 5 6 7)))
${indent(range(4).map(window).join("\n"), 4)}
    (local.set $dst (i32.add (i32.add (local.get $outImage) (i32.mul (local.get $c) (local.get $planeBytes))) (i32.shl (local.get $q) (i32.const 2))))
${indent(four("$r", 0), 4)}
${indent(four("$s", 4), 4)}
    (local.set $c (i32.add (local.get $c) (i32.const 8)))
    (br $loopC8)))
`;
}

/** dedup_rows's hash chains: their seeds (π's first hex digits) and the odd multipliers live in $odd. */
const DEDUP_HASH_SEEDS = [
  "0x243f6a88 0x85a308d3 0x13198a2e 0x03707344", "0xa4093822 0x299f31d0 0x082efa98 0xec4e6c89",
  "0x452821e6 0x38d01377 0xbe5466cf 0x34e90c6c", "0xc0ac29b7 0xc97c50dd 0x3f84d5b5 0xb5470917",
];

/**
 * dedup_rows's lane hash of the vector at $src (fragment of its loop over vectors; $laneBytes its bytes in whole
 * 16-byte blocks): h = (h xor words)·odd, xor-shifted so that high bits feed low ones, in four independent chains of 16
 * bytes each per 64 (their multiplies' latencies overlap), folded into $h by shifts, then one chain for the rest;
 * leaves $j at $laneBytes.
 */
export function dedupHashLanes() {
  const chains = ["$h", "$h1", "$h2", "$h3"];
  const mix = (h, offset) => `(local.set ${h} (i32x4.mul (v128.xor (local.get ${h}) (v128.load offset=${offset} (i32.add (local.get $src) (local.get $j)))) (local.get $odd)))
(local.set ${h} (v128.xor (local.get ${h}) (i32x4.shr_u (local.get ${h}) (i32.const 15))))`;
  return `${chains.map((h, i) => `(local.set ${h} (v128.const i32x4 ${DEDUP_HASH_SEEDS[i]}))`).join("\n")}
(local.set $j (i32.const 0))
(block $doneH4
  (loop $loopH4
    (br_if $doneH4 (i32.gt_u (i32.add (local.get $j) (i32.const 64)) (local.get $laneBytes)))
${indent(chains.map((h, i) => mix(h, 16 * i)).join("\n"), 4)}
    (local.set $j (i32.add (local.get $j) (i32.const 64)))
    (br $loopH4)))
(local.set $h (v128.xor (v128.xor (local.get $h) (i32x4.shl (local.get $h1) (i32.const 7)))
  (v128.xor (i32x4.shl (local.get $h2) (i32.const 13)) (i32x4.shl (local.get $h3) (i32.const 19)))))
(block $doneH
  (loop $loopH
    (br_if $doneH (i32.ge_u (local.get $j) (local.get $laneBytes)))
${indent(mix("$h", 0), 4)}
    (local.set $j (i32.add (local.get $j) (i32.const 16)))
    (br $loopH)))
`;
}

/**
 * Each family's generated functions (or function-body fragments), keyed by the name kernels.wat uses in its
 * `;; @insert <family>` line.
 */
export const KERNEL_FAMILIES = {
  "block-read-kernels": () => SPECIALISED_CELL_BITS.map((cellBits) => blockReadKernel(cellBits)).join("\n"),
  "register-read-kernels": () =>
    SPECIALISED_CELL_BITS.flatMap((cellBits) => REGISTER_KERNEL_WORDS.map((words) => registerReadKernel(cellBits, words))).join("\n"),
  "sparse-read-kernel": () => sparseReadKernel(),
  // fragments of read_float32 and its helper $adcExact, indented to where kernels.wat inserts them
  "read-float32-list-starts": () => indent(float32ListStarts(), 12),
  "read-float32-clear-planes": () => indent(float32ClearPlanes(), 16),
  "read-float32-input-planes": () => indent(float32InputPlanes(), 18),
  "read-float32-step-lists": () => indent(float32StepLists(), 24),
  "read-float32-group-lists": () => indent(float32GroupLists(), 24),
  "read-float32-list-counts": () => indent(float32ListCounts(), 16),
  "read-float32-plane-counts": () => indent(float32PlaneCounts(), 16),
  "read-float32-column-blocks": () => indent(float32ColumnBlocks(), 12),
  "adc-exact-lanes": () => indent(adcExactLanes(), 6),
  // mvm_i16's chunk, in its dense loop and in its loop over listed chunks
  "mvm-i16-dense-chunk": () => indent(mvmI16Chunk(), 18),
  "mvm-i16-listed-chunk": () => indent(mvmI16Chunk(), 20),
  "mvm-i16-pairs-pass": () => indent(mvmI16PairsPass(), 10),
  "conv-i16-pair": () => indent(convI16Pair(), 28),
  "gather-padded-i16-group": () => indent(gatherPaddedI16Group(), 18),
  "conv-i16-store": () => indent(convI16Store(), 20),
  "mvm-i16-finish-first": () => indent(mvmI16FinishQuad(0), 16),
  "mvm-i16-finish-second": () => indent(mvmI16FinishQuad(MVM_I16_COLUMNS), 20),
  "finish-slices-quad": () => indent(finishSlicesQuad(), 12),
  "epilogue-integer-four": () => indent(epilogueIntegerFour(), 22),
  "epilogue-four-positions": () => indent(epilogueFourPositions(), 16),
  "dedup-hash-lanes": () => indent(dedupHashLanes(), 8),
  // the bodies of $hsum4 and $finishQuad (the fused finish above inlines the same text)
  "hsum4-body": () => indent(hsum4Body(), 4),
  "finish-quad-body": () => indent(finishQuadBody(), 4),
};

const INSERT_LINE = /^[ \t]*;;[ \t]*@insert[ \t]+(\S+)[ \t]*$/gm;

/**
 * The full module text: `source` (hand-written kernels.wat) with each `;; @insert <family>` line replaced by that
 * family's generated functions. Throws if a family is unknown or not inserted exactly once, so a typo cannot silently
 * drop exports.
 */
export function assembleKernelsWat(source, fileName = "kernels.wat") {
  const inserted = new Map();
  const text = source.replace(INSERT_LINE, (_line, family) => {
    const generate = KERNEL_FAMILIES[family];
    if (generate === undefined) {
      throw new Error(`${fileName}: unknown '@insert ${family}' (expected one of: ${Object.keys(KERNEL_FAMILIES).join(", ")})`);
    }
    inserted.set(family, (inserted.get(family) ?? 0) + 1);
    return generate().replace(/\n$/, "");
  });
  for (const family of Object.keys(KERNEL_FAMILIES)) {
    if (inserted.get(family) !== 1) {
      throw new Error(`${fileName}: '@insert ${family}' must appear exactly once (found ${inserted.get(family) ?? 0})`);
    }
  }
  return text;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const source = fileURLToPath(new URL("../src/sim/wasm/kernels.wat", import.meta.url));
  process.stdout.write(assembleKernelsWat(readFileSync(source, "utf8")));
}
