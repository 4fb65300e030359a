import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { tensorFromNumbers, XbarcError } from "@xbarc/ir";
import { encodeNpy, loadImageSet, loadLabels, selectImages } from "@xbarc/backend-sim";

const fixtures = fileURLToPath(new URL("../../../../fixtures/", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "xbarc-load-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("loadImageSet and loadLabels", () => {
  it("read MNIST IDX files by content", () => {
    const images = loadImageSet(join(fixtures, "mnist/t10k-images-idx3-ubyte.gz"));
    expect(images.count).toBe(10000);
    expect(images.layout).toBe("hw");
    const labels = loadLabels(join(fixtures, "mnist/t10k-labels-idx1-ubyte.gz"));
    expect(labels.length).toBe(10000);
    expect(Array.from(labels.subarray(0, 3))).toEqual([7, 2, 1]);
  });

  it("read the scikit-learn digits CSV as 8x8 images with the last column as label", () => {
    const path = join(fixtures, "digits/digits.csv.gz");
    const images = loadImageSet(path);
    expect(images.count).toBe(1797);
    expect(images.shape).toEqual([8, 8]);
    // first row, read independently with python's gzip module
    expect(Array.from(images.data.subarray(0, 16))).toEqual([0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]);
    const labels = loadLabels(path);
    expect(labels.length).toBe(1797);
    expect([labels[0], labels[1796]]).toEqual([0, 8]);
    const counts = new Array<number>(10).fill(0);
    for (const l of labels) counts[l]!++;
    expect(counts).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
  });

  it("read npy images in [N,H,W], [N,D], [N,C,H,W] and [N,H,W,C] and npy labels", () => {
    const cases: [number[], string][] = [[[2, 3, 3], "hw"], [[2, 9], "flat"], [[2, 1, 3, 3], "chw"], [[2, 3, 3, 1], "hwc"], [[2, 4, 4, 3], "hwc"], [[2, 3, 4, 4], "chw"]];
    for (const [shape, layout] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const path = join(tmp, `images-${shape.join("x")}.npy`);
      writeFileSync(path, encodeNpy(tensorFromNumbers("f32", shape, Array.from({ length: n }, (_, i) => i))));
      const images = loadImageSet(path);
      expect(images.layout).toBe(layout);
      expect(images.count).toBe(2);
      expect(images.shape).toEqual(shape.slice(1));
      expect(images.data[n - 1]).toBe(n - 1);
    }
    const labelsPath = join(tmp, "labels.npy");
    writeFileSync(labelsPath, encodeNpy(tensorFromNumbers("i64", [3], [4, 0, 9])));
    expect(Array.from(loadLabels(labelsPath))).toEqual([4, 0, 9]);
  });

  it("reject images given as labels and the reverse, with XB7002", () => {
    expect(() => loadLabels(join(fixtures, "mnist/t10k-images-idx3-ubyte.gz"))).toThrowError(/holds images/);
    expect(() => loadImageSet(join(fixtures, "mnist/t10k-labels-idx1-ubyte.gz"))).toThrowError(/holds labels/);
    try {
      loadImageSet(join(fixtures, "README.md"));
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(XbarcError);
      expect((e as XbarcError).code).toBe("XB7002");
    }
  });
});

describe("selectImages", () => {
  it("copies the listed images in list order and rejects an index outside the set", () => {
    const images = { file: "s.npy", count: 3, shape: [1, 2], layout: "hw" as const, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    const picked = selectImages(images, [2, 0]);
    expect(picked.count).toBe(2);
    expect(Array.from(picked.data)).toEqual([5, 6, 1, 2]);
    expect(picked.data).toBeInstanceOf(Uint8Array);
    expect(() => selectImages(images, [3])).toThrowError(/image index 3 .* holds 3 images/);
  });
});
