/**
 * @fileoverview The crossbar arithmetic of one tile as small pure kernels over typed arrays (xbarc crossbar spec;
 * Diware, Yaldagard, Bishnoi, ICCAD 2024, §2.2.2: bit-sliced weights, bit-serial inputs, ADC, shift-and-add; Halawani
 * et al., IEEE Access: offset column and bias row): gathering a tile's offset-encoded inputs, bit-serial column sums
 * with ADC conversion, the slice combine, the collapsed single-MVM fast path. No per-element objects, so a later
 * WebAssembly port can take them one by one.
 */

/**
 * How a tile's physical columns become signed weight columns: "differential" = G+ slices then G− slices per weight
 * column, Σ_s 2^(s·cb)(P_s − N_s); "offset-column" = S slices of u = w + 2^(W_WL−1) per weight column, minus the
 * tile's offset column (S physical columns after the weight columns).
 */
export type CombineScheme = "differential" | "offset-column";

/**
 * im2col offsets of a convolution: for every output position p and kernel tap k, the input element's index within
 * one input plane, or −1 where the tap lands in the padding. `[positions · taps]`, position-major.
 */
export function getConvTapOffsets(
  inSpatial: readonly number[], outSpatial: readonly number[], kernel: readonly number[],
  strides: readonly number[], pads: readonly number[], dilations: readonly number[],
): Int32Array {
  const rank = inSpatial.length;
  const positions = outSpatial.reduce((a, b) => a * b, 1);
  const taps = kernel.reduce((a, b) => a * b, 1);
  const out = new Int32Array(positions * taps);
  const outIdx = new Int32Array(rank);
  const tapIdx = new Int32Array(rank);
  for (let p = 0; p < positions; p++) {
    // multi-index of p, last dimension fastest
    let rest = p;
    for (let d = rank - 1; d >= 0; d--) {
      outIdx[d] = rest % outSpatial[d]!;
      rest = Math.floor(rest / outSpatial[d]!);
    }
    for (let k = 0; k < taps; k++) {
      let kr = k;
      for (let d = rank - 1; d >= 0; d--) {
        tapIdx[d] = kr % kernel[d]!;
        kr = Math.floor(kr / kernel[d]!);
      }
      let offset = 0;
      for (let d = 0; d < rank; d++) {
        const i = outIdx[d]! * strides[d]! - pads[d]! + tapIdx[d]! * dilations[d]!;
        if (i < 0 || i >= inSpatial[d]!) {
          offset = -1;
          break;
        }
        offset = offset * inSpatial[d]! + i;
      }
      out[p * taps + k] = offset;
    }
  }
  return out;
}

/**
 * Where conv matrix rows read their inputs: matrix row m = c·taps + k reads input channel channelBase + c at kernel
 * tap k; per row, that channel's plane start within one image (`planes`, elements) and k (`taps`).
 */
export function getRowSources(matrixRows: ArrayLike<number>, taps: number, plane: number, channelBase: number): { planes: Int32Array; taps: Int32Array } {
  const planes = new Int32Array(matrixRows.length);
  const tapOf = new Int32Array(matrixRows.length);
  for (let i = 0; i < matrixRows.length; i++) {
    const m = matrixRows[i]!;
    const c = Math.floor(m / taps);
    planes[i] = (channelBase + c) * plane;
    tapOf[i] = m - c * taps;
  }
  return { planes, taps: tapOf };
}

/**
 * The offset-encoded crossbar inputs x_u = x_int + inputOffset of one tile's rows for every output vector, as
 * `[outer, rowsUsed]`. Conv: outer = batch · positions, matrix row r = c·taps + k reads input channel
 * group·cg + c at tap k (padding reads x_int = 0, so it too is driven with the offset). Linear: outer = rows of the
 * [outer, K] input, matrix row r reads column r. The bias row (last, when present) is driven with `biasInput`.
 */
export function gatherTileInputsImpl(
  xInt: Float64Array, isConv: boolean, batch: number, channels: number, plane: number,
  tapOffsets: Int32Array | undefined, taps: number, positions: number, channelBase: number,
  row0: number, rows: number, biasRow: boolean, biasInput: number, inputOffset: number, out: Int32Array,
): Int32Array {
  // every physical row is its own matrix row: the merged gather with one member per row
  const identity = Int32Array.from({ length: row0 + rows + 1 }, (_, m) => m);
  return gatherMergedTileInputsImpl(xInt, isConv, batch, channels, plane, tapOffsets, taps, positions, channelBase, row0, rows, biasRow, biasInput,
    inputOffset, identity, identity, out);
}

/**
 * gatherTileInputsImpl for a compacted layer (#tiles row_map): tile row r is physical row row0 + r, driven with the
 * sum of its member matrix rows' offset-encoded inputs, Σ_m (x_int[m] + inputOffset) — the members of physical row p
 * are `rowMembers[rowStarts[p] .. rowStarts[p + 1])`. The digital side subtracts inputOffset · k_p · w[p, c] per
 * member count k_p, so the sum is exact (sim kernels' signed-input correction).
 */
export function gatherMergedTileInputsImpl(
  xInt: Float64Array, isConv: boolean, batch: number, channels: number, plane: number,
  tapOffsets: Int32Array | undefined, taps: number, positions: number, channelBase: number,
  row0: number, rows: number, biasRow: boolean, biasInput: number, inputOffset: number,
  rowStarts: Int32Array, rowMembers: Int32Array, out: Int32Array,
): Int32Array {
  const rowsUsed = rows + (biasRow ? 1 : 0);
  const first = rowStarts[row0]!;
  const count = rowStarts[row0 + rows]! - first;
  if (!isConv) {
    const outer = xInt.length / plane;
    for (let o = 0; o < outer; o++) {
      const src = o * plane;
      const dst = o * rowsUsed;
      for (let r = 0; r < rows; r++) {
        let v = 0;
        for (let k = rowStarts[row0 + r]!; k < rowStarts[row0 + r + 1]!; k++) v += xInt[src + rowMembers[k]!]! + inputOffset;
        out[dst + r] = v;
      }
      if (biasRow) out[dst + rows] = biasInput;
    }
    return out;
  }
  // per member, hoisted out of the position loop
  const { planes: memberPlane, taps: memberTap } = getRowSources(rowMembers.subarray(first, first + count), taps, plane, channelBase);
  for (let b = 0; b < batch; b++) {
    const image = b * channels * plane;
    for (let p = 0; p < positions; p++) {
      const dst = (b * positions + p) * rowsUsed;
      const tapBase = p * taps;
      for (let r = 0; r < rows; r++) {
        let v = 0;
        for (let k = rowStarts[row0 + r]! - first; k < rowStarts[row0 + r + 1]! - first; k++) {
          const off = tapOffsets![tapBase + memberTap[k]!]!;
          v += (off < 0 ? 0 : xInt[image + memberPlane[k]! + off]!) + inputOffset;
        }
        out[dst + r] = v;
      }
      if (biasRow) out[dst + rows] = biasInput;
    }
  }
  return out;
}

/**
 * The faithful read of one tile (crossbar spec, "Bit-slicing and bit-serial inputs", "ADC", "Shift-and-add" over
 * steps): per output vector, per input step t (DAC value = bits [t·db, (t+1)·db) of x_u), per physical column c the
 * column sum I = Σ_r x_t[r]·G[r, c] (G in level units), plus read noise when `noiseSigma` > 0, converted by the ADC
 * to code = clamp(round(I), adcMin, adcMax) (normally [0, 2^adc_bits − 1]; ±Infinity: lossless, nothing clips —
 * a sampled instance's baseline-removed column sum may dip below 0), and shift-added over steps:
 * out[o, c] = Σ_t 2^(t·db)·code[t, c]. `out` is `[outer, physCols]`.
 */
export function bitSerialReadImpl(
  xu: Int32Array, outer: number, rowsUsed: number, cells: Float64Array, physCols: number,
  steps: number, dacBits: number, adcMin: number, adcMax: number, noiseSigma: number, normal: (() => number) | undefined,
  out: Float64Array,
): Float64Array {
  const mask = (1 << dacBits) - 1;
  // all steps' column sums [steps, physCols] in one pass over the rows (each sum still adds rows in ascending order)
  const sums = new Float64Array(steps * physCols);
  for (let o = 0; o < outer; o++) {
    const xBase = o * rowsUsed;
    const oBase = o * physCols;
    sums.fill(0);
    for (let r = 0; r < rowsUsed; r++) {
      const x = xu[xBase + r]!;
      if (x === 0) continue; // a row driven at 0 V adds no current
      const cBase = r * physCols;
      for (let t = 0; t < steps; t++) {
        const v = (x >>> (t * dacBits)) & mask;
        if (v === 0) continue;
        const sBase = t * physCols;
        for (let c = 0; c < physCols; c++) sums[sBase + c]! += v * cells[cBase + c]!;
      }
    }
    for (let c = 0; c < physCols; c++) out[oBase + c] = 0;
    for (let t = 0; t < steps; t++) {
      const weight = 2 ** (t * dacBits);
      const sBase = t * physCols;
      for (let c = 0; c < physCols; c++) {
        let i = sums[sBase + c]!;
        if (noiseSigma > 0) i += noiseSigma * normal!();
        let code = Math.round(i);
        if (code < adcMin) code = adcMin;
        else if (code > adcMax) code = adcMax;
        out[oBase + c]! += weight * code;
      }
    }
  }
  return out;
}

/**
 * Shift-and-add over weight slices and the signed combine (crossbar spec): `phys` `[outer, physCols]` (already
 * shift-added over input steps) becomes `[outer, cols]` signed column values. Differential: Σ_s 2^(s·cb)(P_s − N_s)
 * with P at column j·2S + s, N at j·2S + S + s. Offset column: Σ_s 2^(s·cb)(U_s − O_s), U at j·S + s, O the tile's
 * offset column at cols·S + s.
 */
export function combineSlicesImpl(
  phys: Float64Array, outer: number, physCols: number, cols: number, slices: number, cellBits: number,
  scheme: CombineScheme, out: Float64Array,
): Float64Array {
  // place values 2^(s·cb), hoisted out of the loops (the same doubles, so the same sums)
  const place = new Float64Array(slices);
  for (let s = 0; s < slices; s++) place[s] = 2 ** (s * cellBits);
  const differential = scheme === "differential";
  for (let o = 0; o < outer; o++) {
    const pBase = o * physCols;
    let offset = 0;
    if (!differential) {
      for (let s = 0; s < slices; s++) offset += place[s]! * phys[pBase + cols * slices + s]!;
    }
    const oBase = o * cols;
    for (let j = 0; j < cols; j++) {
      let v = 0;
      if (differential) {
        const c0 = pBase + j * 2 * slices;
        for (let s = 0; s < slices; s++) v += place[s]! * (phys[c0 + s]! - phys[c0 + slices + s]!);
      } else {
        const c0 = pBase + j * slices;
        for (let s = 0; s < slices; s++) v += place[s]! * phys[c0 + s]!;
        v -= offset;
      }
      out[oBase + j] = v;
    }
  }
  return out;
}

/**
 * W_eff `[rowsUsed, cols]`: each weight column's cells shift-added over slices and combined (the same combine as
 * combineSlicesImpl, applied to the cells instead of the reads). With a lossless ADC and no read noise,
 * Σ_t Σ_s 2^(t·db + s·cb)·code[t, s, c] = Σ_r x_u[r]·W_eff[r, c] (sim spec, "Fast path").
 */
export function effectiveWeightsImpl(
  cells: Float64Array, rowsUsed: number, physCols: number, cols: number, slices: number, cellBits: number,
  scheme: CombineScheme,
): Float64Array {
  return combineSlicesImpl(cells, rowsUsed, physCols, cols, slices, cellBits, scheme, new Float64Array(rowsUsed * cols));
}

/** w `[rows, cols]` → `[cols, rows]`, so that each column's reduction over the rows reads contiguous memory. */
export function transposeImpl(w: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const src = r * cols;
    for (let c = 0; c < cols; c++) t[c * rows + r] = w[src + c]!;
  }
  return t;
}

/**
 * out[o, c] = Σ_r xu[o, r]·w[r, c]: the fast path's one integer MVM per tile; `out` is `[outer, cols]`. Four output
 * vectors (im2col positions) share each weight row's loads; rows driven at 0 in all four are skipped (unsigned
 * inputs are mostly 0 on MNIST). Each sum still runs over r ascending from +0, adding x·w or nothing (= adding ±0),
 * so the result is the same to the bit as the one-vector loop, even off the integers.
 */
export function integerMvmImpl(xu: Int32Array, outer: number, rowsUsed: number, w: Float64Array, cols: number, out: Float64Array): Float64Array {
  out.fill(0, 0, outer * cols);
  let o = 0;
  for (; o + 4 <= outer; o += 4) {
    const x0 = o * rowsUsed;
    const x1 = x0 + rowsUsed;
    const x2 = x1 + rowsUsed;
    const x3 = x2 + rowsUsed;
    const o0 = o * cols;
    const o1 = o0 + cols;
    const o2 = o1 + cols;
    const o3 = o2 + cols;
    for (let r = 0; r < rowsUsed; r++) {
      const a0 = xu[x0 + r]!;
      const a1 = xu[x1 + r]!;
      const a2 = xu[x2 + r]!;
      const a3 = xu[x3 + r]!;
      if ((a0 | a1 | a2 | a3) === 0) continue;
      const wBase = r * cols;
      for (let c = 0; c < cols; c++) {
        const wv = w[wBase + c]!;
        out[o0 + c]! += a0 * wv;
        out[o1 + c]! += a1 * wv;
        out[o2 + c]! += a2 * wv;
        out[o3 + c]! += a3 * wv;
      }
    }
  }
  for (; o < outer; o++) {
    const xBase = o * rowsUsed;
    const oBase = o * cols;
    for (let r = 0; r < rowsUsed; r++) {
      const x = xu[xBase + r]!;
      if (x === 0) continue; // a row driven at 0 adds nothing
      const wBase = r * cols;
      for (let c = 0; c < cols; c++) out[oBase + c]! += x * w[wBase + c]!;
    }
  }
  return out;
}

/** out[o, c] −= perColumn[c]: the signed-input correction 2^(A_WL−1)·Σ_r w_int[r, c] of the offset encoding. */
export function subtractPerColumnImpl(out: Float64Array, outer: number, cols: number, perColumn: Float64Array): Float64Array {
  for (let o = 0; o < outer; o++) {
    const base = o * cols;
    for (let c = 0; c < cols; c++) out[base + c]! -= perColumn[c]!;
  }
  return out;
}

/**
 * A compacted layer's column fan-out: a tile's `[outer, cols]` physical column values become `[outer, n]` values,
 * one per matrix column it computes: out[o, i] = sign[i] · tile[o, srcCol[i]]. A negation is 0 − v, never −0.
 */
export function fanOutColumnsImpl(tile: Float64Array, outer: number, cols: number, srcCol: Int32Array, sign: Int8Array, out: Float64Array): Float64Array {
  const n = srcCol.length;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < n; i++) {
      const v = tile[o * cols + srcCol[i]!]!;
      out[o * n + i] = sign[i]! < 0 ? 0 - v : v;
    }
  }
  return out;
}

/** scatterAddImpl with explicit output channels: value (o, i) lands at outBase[o] + channels[i]·channelStride. */
export function scatterAddChannelsImpl(tile: Float64Array, outer: number, channels: Int32Array, outBase: Int32Array, channelStride: number, out: Float64Array): Float64Array {
  const n = channels.length;
  for (let o = 0; o < outer; o++) {
    const base = outBase[o]!;
    for (let i = 0; i < n; i++) out[base + channels[i]! * channelStride]! += tile[o * n + i]!;
  }
  return out;
}

/**
 * Adds a tile's `[outer, cols]` values into a layer-shaped array: value (o, j) lands at outBase[o] + (colBase + j)·
 * channelStride (conv [N, C_out, P]: outBase = b·C_out·P + p, stride P; linear [outer, N]: outBase = o·N, stride 1).
 */
export function scatterAddImpl(tile: Float64Array, outer: number, cols: number, outBase: Int32Array, colBase: number, channelStride: number, out: Float64Array): Float64Array {
  for (let o = 0; o < outer; o++) {
    const base = outBase[o]! + colBase * channelStride;
    for (let j = 0; j < cols; j++) out[base + j * channelStride]! += tile[o * cols + j]!;
  }
  return out;
}
