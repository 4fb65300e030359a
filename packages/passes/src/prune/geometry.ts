/**
 * @fileoverview How many crossbars a layer would take with some matrix rows and columns removed, asked of the tile
 * pass's own planner (planTiles on the tile pass's LayerMatrix), so the crossbar rule removes units in the amounts
 * that actually free crossbars.
 */
import type { DeviceProfile, Module, Op } from "@xbarc/ir";
import { getLayerMatrix, planTiles } from "../tile/index.js";

/** Crossbars of one layer as a function of the matrix rows and columns it keeps. */
export type CrossbarCounter = (rows: number, cols: number) => number;

/**
 * The crossbar count of `op` on `device` with `rows × cols` of its matrix kept, for weights `weightBits` wide: a
 * fixed-point weight takes S = ceil(weightBits / cell_bits) slices (Diware et al., ICCAD 2024, §2.2.2), as the tile
 * pass computes from #quant after quantize; weightBits = 0 stands for a quantizer storing one weight per cell (pair),
 * S = 1. Removed rows and columns are taken to free their cells, which is what the tile pass's zero compaction does.
 */
export function getCrossbarCounter(module: Module, op: Op, device: DeviceProfile, weightBits: number): CrossbarCounter {
  // the uncompacted matrix: the rows and columns kept are given explicitly below
  const { compaction: _compaction, ...matrix } = getLayerMatrix(module, op, device) as ReturnType<typeof getLayerMatrix> & { compaction?: unknown };
  const slices = weightBits > 0 ? Math.ceil(weightBits / device.cell.bits) : 1;
  const xbar = { rows: device.crossbar.rows, cols: device.crossbar.cols };
  const memo = new Map<number, number>();
  return (rows, cols) => {
    const key = rows * 1_000_003 + cols;
    let n = memo.get(key);
    if (n === undefined) {
      n = planTiles([{ ...matrix, rows, cols, slices }], xbar).crossbars;
      memo.set(key, n);
    }
    return n;
  };
}
