import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { readIdx, type ImageSet } from "@xbarc/backend-sim";
import { catchXbarcError } from "../../../../test/helpers/errors.js";

const mnist = fileURLToPath(new URL("../../../../fixtures/mnist/", import.meta.url));
const imagesGz = join(mnist, "t10k-images-idx3-ubyte.gz");
const labelsGz = join(mnist, "t10k-labels-idx1-ubyte.gz");
const tmp = mkdtempSync(join(tmpdir(), "xbarc-idx-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("readIdx", () => {
  it("reads the gzipped MNIST test images as 10000 images of 28x28 bytes", () => {
    const images = readIdx(imagesGz) as ImageSet;
    expect(images.count).toBe(10000);
    expect(images.shape).toEqual([28, 28]);
    expect(images.data).toBeInstanceOf(Uint8Array);
    expect(images.data.length).toBe(10000 * 784);
    // values computed independently with python's gzip module: sum of image 0, and row 7 columns 7..13
    expect(Array.from(images.data.subarray(0, 784)).reduce((a, b) => a + b, 0)).toBe(18454);
    expect(Array.from(images.data.subarray(7 * 28 + 7, 7 * 28 + 14))).toEqual([0xb9, 0x9f, 0x97, 0x3c, 0x24, 0, 0]);
  });

  it("reads the labels with the per-class counts stated in fixtures/README.md", () => {
    const labels = readIdx(labelsGz) as Uint8Array;
    expect(labels).toBeInstanceOf(Uint8Array);
    expect(Array.from(labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    const counts = new Array<number>(10).fill(0);
    for (const l of labels) counts[l]!++;
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it("gives the same data for the gzipped and the plain file", () => {
    const plainImages = join(tmp, "images-idx3-ubyte");
    const plainLabels = join(tmp, "labels-idx1-ubyte");
    writeFileSync(plainImages, gunzipSync(readFileSync(imagesGz)));
    writeFileSync(plainLabels, gunzipSync(readFileSync(labelsGz)));
    const a = readIdx(imagesGz) as ImageSet;
    const b = readIdx(plainImages) as ImageSet;
    expect(b.count).toBe(a.count);
    expect(b.shape).toEqual(a.shape);
    expect(Buffer.compare(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength), Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength))).toBe(0);
    expect(Array.from(readIdx(plainLabels) as Uint8Array)).toEqual(Array.from(readIdx(labelsGz) as Uint8Array));
  });

  it("rejects a truncated image file with XB7002, naming the file and the sizes", () => {
    const bytes = gunzipSync(readFileSync(imagesGz));
    const truncated = join(tmp, "truncated-idx3-ubyte");
    writeFileSync(truncated, bytes.subarray(0, 16 + 784 * 3 + 100));
    const e = catchXbarcError(() => readIdx(truncated));
    expect(e.code).toBe("XB7002");
    expect(e.location).toEqual({ kind: "file", file: truncated });
    expect(e.message).toMatch(/truncated/);
    expect(e.message).toContain("10000,28,28");
  });

  it("rejects a truncated gzip stream with XB7002", () => {
    const gz = readFileSync(imagesGz);
    const truncated = join(tmp, "truncated.gz");
    writeFileSync(truncated, gz.subarray(0, 5000));
    const e = catchXbarcError(() => readIdx(truncated));
    expect(e.code).toBe("XB7002");
    expect(e.message).toMatch(/gzip/);
  });

  it("rejects a file with a wrong magic number and says which magics are expected", () => {
    const bad = join(tmp, "bad-magic");
    writeFileSync(bad, Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 1, 7]));
    const e = catchXbarcError(() => readIdx(bad));
    expect(e.code).toBe("XB7002");
    expect(e.message).toContain("2051");
    expect(e.message).toContain("2049");
  });

  it("reports a missing file as XB7002 naming it", () => {
    const missing = join(tmp, "no-such-file.gz");
    const e = catchXbarcError(() => readIdx(missing));
    expect(e.code).toBe("XB7002");
    expect(e.location).toEqual({ kind: "file", file: missing });
  });
});
