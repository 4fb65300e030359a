/**
 * @fileoverview planTiles as a pure function: tiles cover every weight-matrix element of every group exactly once,
 * fit the crossbar, keep each output column's slices together, count cells and utilization as a recount does;
 * packing never lets two tiles share a crossbar cell, row or column; the plan rebuilt from `#tiles` is the same plan.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { XbarcError } from "@xbarc/ir";
import { getTilePlanFromAnnotations, getTilesAnnotation, planTiles, type LayerMatrix, type TilePlan, type TilesAnnotationData, type XbarShape } from "@xbarc/passes";

/** A random layer and a crossbar wide enough for one of its output columns. */
const layerAndXbar = fc
  .record({
    rows: fc.integer({ min: 1, max: 300 }),
    cols: fc.integer({ min: 1, max: 80 }),
    groups: fc.integer({ min: 1, max: 3 }),
    slices: fc.integer({ min: 1, max: 6 }),
    mapping: fc.constantFrom("differential", "offset-column"),
    biasRow: fc.boolean(),
    xbarRows: fc.integer({ min: 2, max: 64 }),
    extraCols: fc.integer({ min: 0, max: 60 }),
  })
  .map((r) => {
    const layer: LayerMatrix = {
      name: "layer",
      rows: r.rows,
      cols: r.cols,
      groups: r.groups,
      slices: r.slices,
      differential: r.mapping === "differential",
      offsetColumn: r.mapping === "offset-column",
      biasRow: r.biasRow,
    };
    const P = r.slices * (layer.differential ? 2 : 1);
    const xbar: XbarShape = { rows: r.xbarRows, cols: P + (layer.offsetColumn ? r.slices : 0) + r.extraCols };
    return { layer, xbar };
  });

/** A cheap assertion for inner loops (expect() per tile would dominate the run time); fails with `what`. */
function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

/** Asserts the tiles of `layer` in `plan` cover each (group, row, col) exactly once and respect the crossbar. */
function expectExactCover(plan: TilePlan, index: number, layer: LayerMatrix): void {
  const { rows: R, cols: C } = plan.xbar;
  const lt = plan.layers[index]!;
  const P = layer.slices * (layer.differential ? 2 : 1);
  const offset = layer.offsetColumn ? layer.slices : 0;
  const seen = new Uint8Array(layer.groups * layer.rows * layer.cols);
  const biasSeen = new Uint8Array(layer.groups * layer.cols);
  let cells = 0;
  for (const t of lt.tiles) {
    const at = () => `tile ${t.index} ${JSON.stringify(t)} on a ${R}×${C} crossbar`;
    check(t.physRows === t.rows + (t.biasRow ? 1 : 0), () => `${at()}: physRows is not rows + bias row`);
    check(t.physCols === t.cols * P + offset, () => `${at()}: physCols is not cols·${P} + ${offset}`);
    check(t.xbarRow >= 0 && t.xbarRow + t.physRows <= R, () => `${at()}: rows outside the crossbar`);
    check(t.xbarCol >= 0 && t.xbarCol + t.physCols <= C, () => `${at()}: columns outside the crossbar`);
    for (let r = t.row0; r < t.row0 + t.rows; r++) {
      for (let c = t.col0; c < t.col0 + t.cols; c++) seen[(t.group * layer.rows + r) * layer.cols + c]!++;
    }
    if (t.biasRow) for (let c = t.col0; c < t.col0 + t.cols; c++) biasSeen[t.group * layer.cols + c]!++;
    cells += t.physRows * t.physCols;
  }
  expect(seen.every((n) => n === 1), "every (group, row, col) in exactly one tile").toBe(true);
  expect(biasSeen.every((n) => n === (layer.biasRow ? 1 : 0)), "each output column's bias in exactly one tile when there is a bias row").toBe(true);
  expect(lt.tiles.length).toBe(layer.groups * lt.grid[0] * lt.grid[1]);
  expect(lt.cells).toBe(cells);
  expect(lt.util).toBe(cells / (lt.tiles.length * R * C));
  expect(lt.rowsUsed.reduce((a, b) => a + b, 0)).toBe(layer.rows + (layer.biasRow ? 1 : 0));
  expect(lt.colsUsed.reduce((a, b) => a + b, 0)).toBe(layer.cols * P + lt.grid[1] * offset);
}

/** Asserts that no two tiles on one crossbar share a row or a column (block-diagonal packing). */
function expectNoSharing(plan: TilePlan): void {
  const byXbar = new Map<number, { r0: number; r1: number; c0: number; c1: number; who: string }[]>();
  plan.layers.forEach((lt, li) => {
    for (const t of lt.tiles) {
      const list = byXbar.get(t.xbar) ?? [];
      byXbar.set(t.xbar, list);
      const box = { r0: t.xbarRow, r1: t.xbarRow + t.physRows, c0: t.xbarCol, c1: t.xbarCol + t.physCols, who: `layer ${li} tile ${t.index}` };
      for (const o of list) {
        const rowsOverlap = box.r0 < o.r1 && o.r0 < box.r1;
        const colsOverlap = box.c0 < o.c1 && o.c0 < box.c1;
        check(!rowsOverlap && !colsOverlap, () => `${box.who} shares rows or columns with ${o.who} on crossbar ${t.xbar}`);
      }
      list.push(box);
    }
  });
  expect([...byXbar.keys()].sort((a, b) => a - b)).toEqual([...Array(plan.crossbars).keys()]);
}

/** The plan rebuilt from the annotations the tile pass would write. */
function fromAnnotations(plan: TilePlan, layers: readonly LayerMatrix[]): TilePlan {
  return getTilePlanFromAnnotations(plan.layers.map((lt, i) =>
    getTilesAnnotation(plan, lt, layers[i]!.groups, layers[i]!.biasRow) as unknown as TilesAnnotationData));
}

describe("planTiles", () => {
  it("covers every weight-matrix element of every group exactly once, within R × C, with a recounted utilization (fast-check, seeded)", () => {
    fc.assert(
      fc.property(layerAndXbar, ({ layer, xbar }) => {
        const plan = planTiles([layer], xbar);
        expectExactCover(plan, 0, layer);
        expect(plan.crossbars).toBe(plan.layers[0]!.tiles.length);
      }),
      { seed: 4242, numRuns: 150 },
    );
  });

  it("uses the fewest tiles the ceil arithmetic allows", () => {
    fc.assert(
      fc.property(layerAndXbar, ({ layer, xbar }) => {
        const lt = planTiles([layer], xbar).layers[0]!;
        const P = layer.slices * (layer.differential ? 2 : 1);
        const offset = layer.offsetColumn ? layer.slices : 0;
        expect(lt.grid).toEqual([Math.ceil((layer.rows + (layer.biasRow ? 1 : 0)) / xbar.rows), Math.ceil(layer.cols / Math.floor((xbar.cols - offset) / P))]);
      }),
      { seed: 7, numRuns: 150 },
    );
  });

  it("packs several layers without two tiles ever sharing a crossbar cell, row or column, and never uses more crossbars than unpacked (fast-check, seeded)", () => {
    fc.assert(
      fc.property(fc.array(layerAndXbar, { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 4 }), (items, pick) => {
        // one crossbar for all layers: the widest the layers need
        const xbar = { rows: items[pick % items.length]!.xbar.rows, cols: Math.max(...items.map((i) => i.xbar.cols)) };
        const layers = items.map((i) => i.layer);
        const packed = planTiles(layers, xbar, { pack: true });
        const plain = planTiles(layers, xbar);
        layers.forEach((l, i) => expectExactCover(packed, i, l));
        expectNoSharing(packed);
        expectNoSharing(plain);
        expect(packed.crossbars).toBeLessThanOrEqual(plain.crossbars);
        // packing moves tiles, it does not change them
        expect(packed.layers.map((l) => l.tiles.map((t) => [t.row0, t.rows, t.col0, t.cols]))).toEqual(plain.layers.map((l) => l.tiles.map((t) => [t.row0, t.rows, t.col0, t.cols])));
      }),
      { seed: 99, numRuns: 100 },
    );
  });

  it("puts small layers side by side on one crossbar when packing", () => {
    const small = (name: string, rows: number, cols: number): LayerMatrix => ({ name, rows, cols, groups: 1, slices: 2, differential: true, offsetColumn: false, biasRow: false });
    // 30×(10·4) + 40×(5·4) + 50×(8·4) cells: rows 120 ≤ 128, columns 40 + 20 + 32 = 92 ≤ 128
    const plan = planTiles([small("a", 30, 10), small("b", 40, 5), small("c", 50, 8)], { rows: 128, cols: 128 }, { pack: true });
    expect(plan.crossbars).toBe(1);
    expect(plan.layers.map((l) => [l.tiles[0]!.xbarRow, l.tiles[0]!.xbarCol])).toEqual([[0, 0], [30, 40], [70, 60]]);
    expect(planTiles([small("a", 30, 10), small("b", 40, 5), small("c", 50, 8)], { rows: 128, cols: 128 }).crossbars).toBe(3);
  });

  it("rebuilds the same plan from the #tiles annotations, packed or not", () => {
    fc.assert(
      fc.property(fc.array(layerAndXbar, { minLength: 1, maxLength: 4 }), fc.boolean(), (items, pack) => {
        const xbar = { rows: items[0]!.xbar.rows, cols: Math.max(...items.map((i) => i.xbar.cols)) };
        const layers = items.map((i) => i.layer);
        const plan = planTiles(layers, xbar, { pack });
        expect(fromAnnotations(plan, layers)).toEqual(plan);
      }),
      { seed: 3, numRuns: 60 },
    );
  });

  it("rejects a crossbar too narrow for one output column's slices, naming the layer and the columns needed", () => {
    const layer: LayerMatrix = { name: "%fc", rows: 10, cols: 4, groups: 1, slices: 4, differential: true, offsetColumn: false, biasRow: false };
    let err: unknown;
    try {
      planTiles([layer], { rows: 16, cols: 7 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(XbarcError);
    expect(err).toMatchObject({ code: "XB5003", message: expect.stringMatching(/layer %fc: one output column needs 8 physical columns .* but the crossbar has 7/) });
  });

  it("rejects a one-row crossbar when the layer needs a bias row", () => {
    const layer: LayerMatrix = { name: "%fc", rows: 10, cols: 4, groups: 1, slices: 1, differential: false, offsetColumn: true, biasRow: true };
    expect(() => planTiles([layer], { rows: 1, cols: 16 })).toThrow(/too few for a weight row and the bias row/);
  });
});
