/**
 * @fileoverview Generates the specialised, unrolled read kernels of kernels.wat (read_c<cb> and read_c<cb>w<W>) from one
 * template per kernel family, and splices them into the hand-written module text at its `;; @insert <family>` lines.
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

/** Each family's generated functions, keyed by the name kernels.wat uses in its `;; @insert <family>` line. */
export const KERNEL_FAMILIES = {
  "block-read-kernels": () => SPECIALISED_CELL_BITS.map((cellBits) => blockReadKernel(cellBits)).join("\n"),
  "register-read-kernels": () =>
    SPECIALISED_CELL_BITS.flatMap((cellBits) => REGISTER_KERNEL_WORDS.map((words) => registerReadKernel(cellBits, words))).join("\n"),
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
