/**
 * @fileoverview The layer engine's reuse of repeated input vectors (kernels.wat `dedup_rows` and `add_rows_i32`)
 * against plain TypeScript: the distinct vectors of a gathered block, moved to its front in order of first appearance,
 * with each vector's index among them, for row counts either side of the hash's 4- and 16-word strides and with
 * hash tables from nearly full (long probes that wrap around) to roomy; and the add of finished rows into every
 * position by that map. The engine-level equality on real images is in layer-engine and sim-bit-exact.
 */
import { describe, expect, it } from "vitest";
import { KernelArena } from "../packages/backend-sim/src/sim/wasm/module.js";
import { range, seededInts } from "./helpers/datasets.js";

/**
 * dedup_rows's hash of a vector of 5 to 15 words as kernels.wat computes it (wat-kernels.mjs dedupHashLanes and its
 * seeds), up to its last word: the four-lane chain over the first four words, its lanes folded, the words after them
 * one at a time. The test builds a collision with it; the hashes the kernel stores in its table check that this copy
 * is right.
 */
function laneHash(words: Int32Array): number {
  const odd = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f];
  const chains = [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0, 0x082efa98, 0xec4e6c89],
    [0x452821e6, 0x38d01377, 0xbe5466cf, 0x34e90c6c], [0xc0ac29b7, 0xc97c50dd, 0x3f84d5b5, 0xb5470917],
  ];
  // under 16 words only the first chain runs, after the other three are folded into it
  let h = range(0, 4).map((l) => chains[0]![l]! ^ (chains[1]![l]! << 7) ^ (chains[2]![l]! << 13) ^ (chains[3]![l]! << 19));
  h = h.map((v, l) => Math.imul(v ^ words[l]!, odd[l]!)).map((v) => v ^ (v >>> 15));
  const rotl = (v: number, n: number): number => (v << n) | (v >>> (32 - n));
  let hash = h[0]! ^ rotl(h[1]!, 8) ^ rotl(h[2]!, 16) ^ rotl(h[3]!, 24);
  for (let r = 4; r < words.length - 1; r++) hash = Math.imul(hash ^ words[r]!, 0x9e3779b1);
  return hash;
}

/** dedup_rows's full hash (laneHash with the last word, then murmur3's finaliser), as an unsigned 32-bit value. */
function vectorHash(words: Int32Array): number {
  let hash = Math.imul(laneHash(words) ^ words[words.length - 1]!, 0x9e3779b1);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

interface DedupCase { name: string; rows: number; outer: number; x: Int32Array; tableBits: number }

/** Vectors drawn from a small pool (so most repeat, some only in their last word) mixed with fresh random ones. */
function dedupCase(seed: number): DedupCase {
  const next = seededInts(seed);
  const rows = [1, 3, 4, 7, 16, 17, 33, 64, 128, 131][next(10)]!;
  const outer = 1 + next(300);
  const pool = range(0, 1 + next(8)).map(() => Int32Array.from({ length: rows }, () => next(4) - 1));
  // a pool member differing from the first only in its last word: equal hashes of most words must not merge them
  const last = pool[0]!.slice();
  last[rows - 1]! += 1;
  pool.push(last);
  const x = new Int32Array(outer * rows);
  for (let o = 0; o < outer; o++) {
    const v = next(4) === 0 ? Int32Array.from({ length: rows }, () => next(2 ** 31) - 2 ** 30) : pool[next(pool.length)]!;
    x.set(v, o * rows);
  }
  // the smallest table that holds every vector, or one with room to spare
  const tableBits = Math.ceil(Math.log2(outer + 1)) + next(3);
  return { name: `seed ${seed}: ${outer} vectors of ${rows} rows, table 2^${tableBits}`, rows, outer, x, tableBits };
}

describe("the reuse of repeated input vectors (dedup_rows, add_rows_i32)", () => {
  const arena = new KernelArena();

  it("dedup_rows keeps each distinct vector once, in order of first appearance, and maps every vector to its copy", () => {
    for (const c of range(1, 161).map((seed) => dedupCase(9000 + seed))) {
      const key = (o: number): string => c.x.subarray(o * c.rows, (o + 1) * c.rows).join(",");
      const firstSeen = new Map<string, number>();
      const expectedMap = range(0, c.outer).map((o) => {
        if (!firstSeen.has(key(o))) firstSeen.set(key(o), firstSeen.size);
        return firstSeen.get(key(o))!;
      });
      const mark = arena.mark();
      const xAt = arena.scratch(c.x.length * 4);
      arena.i32(xAt, c.x.length).set(c.x);
      const mapAt = arena.scratch(c.outer * 4);
      // a probe past the last vector: every vector is hashed
      const unique = arena.exports.dedup_rows(xAt, c.outer, c.rows, arena.scratch(8 << c.tableBits), c.tableBits, mapAt, c.outer + 1);
      const front = arena.i32(xAt, unique * c.rows).join(",");
      const map = Array.from(arena.i32(mapAt, c.outer));
      arena.release(mark);
      expect(unique, c.name).toBe(firstSeen.size);
      expect(front, c.name).toBe([...firstSeen.keys()].join(","));
      expect(map, c.name).toEqual(expectedMap);
    }
  });

  it("keeps apart two different vectors whose 32-bit hashes are equal (the table's stored hashes confirm the collision)", () => {
    // 6 rows: one 16-byte lane block, then two words hashed one at a time: vectors equal in the block and differing
    // after it, their last word chosen to cancel the difference (so only the word-by-word check past the block tells)
    const first = Int32Array.of(1, 2, 3, 4, 5, 6);
    const second = Int32Array.of(1, 2, 3, 4, 7, 0);
    second[5] = laneHash(first) ^ laneHash(second) ^ first[5]!;
    const mark = arena.mark();
    const xAt = arena.scratch(12 * 4);
    arena.i32(xAt, 12).set([...first, ...second]);
    const mapAt = arena.scratch(8);
    const tableBits = 4;
    const tableAt = arena.scratch(8 << tableBits);
    const unique = arena.exports.dedup_rows(xAt, 2, 6, tableAt, tableBits, mapAt, 3);
    const table = arena.i32(tableAt, 2 << tableBits);
    const stored = range(0, 1 << tableBits).filter((slot) => table[2 * slot + 1] !== 0).map((slot) => table[2 * slot]! >>> 0);
    const map = Array.from(arena.i32(mapAt, 2));
    arena.release(mark);
    expect(stored).toEqual([vectorHash(first), vectorHash(first)]);
    expect(unique).toBe(2);
    expect(map).toEqual([0, 1]);
  });

  it("stops hashing after `probe` vectors when fewer than 1 in 16 of them repeated, and goes on when more did", () => {
    const rows = 5;
    const vector = (i: number): number[] => [i, 1, 2, 3, i % 7];
    // 64 vectors whose first is repeated `repeats` times, then ten more copies of it: 3 repeats among the first 64
    // (< 1/16) stop the hashing at 64, so the later copies count as distinct; 4 (= 1/16) keep it going, so they map to 0
    for (const [repeats, hashing] of [[3, false], [4, true]] as const) {
      const early = range(0, 64).map((o) => (o <= repeats ? 0 : o));
      const vectors = [...early, ...range(0, 10).map(() => 0)].map(vector);
      const outer = vectors.length;
      const mark = arena.mark();
      const xAt = arena.scratch(outer * rows * 4);
      arena.i32(xAt, outer * rows).set(vectors.flat());
      const mapAt = arena.scratch(outer * 4);
      const tableBits = 8;
      const unique = arena.exports.dedup_rows(xAt, outer, rows, arena.scratch(8 << tableBits), tableBits, mapAt, 64);
      const map = Array.from(arena.i32(mapAt, outer));
      const front = Array.from(arena.i32(xAt, unique * rows));
      arena.release(mark);
      const distinctEarly = 64 - repeats;
      expect(unique, `${repeats} repeats`).toBe(hashing ? distinctEarly : distinctEarly + 10);
      expect(map.slice(64), `${repeats} repeats`).toEqual(hashing ? range(0, 10).map(() => 0) : range(0, 10).map((i) => distinctEarly + i));
      // whatever was decided, each vector's row holds that vector
      for (let o = 0; o < outer; o++) expect(front.slice(map[o]! * rows, (map[o]! + 1) * rows)).toEqual(vectors[o]);
    }
  });

  it("add_rows_i32 adds row map[o] of the finished rows into position o's accumulators, and nothing past its columns", () => {
    for (const seed of range(1, 101)) {
      const next = seededInts(7700 + seed);
      const cols = 1 + next(13);
      const unique = 1 + next(6);
      const outer = unique + next(20);
      const accStride = cols + next(4);
      const colBase = accStride - cols;
      const src = Int32Array.from({ length: unique * cols }, () => next(2 ** 20) - 2 ** 19);
      const map = Int32Array.from({ length: outer }, () => next(unique));
      const acc = Int32Array.from({ length: outer * accStride }, () => next(2001) - 1000);
      const expected = acc.slice();
      for (let o = 0; o < outer; o++) for (let j = 0; j < cols; j++) expected[o * accStride + colBase + j]! += src[map[o]! * cols + j]!;
      const mark = arena.mark();
      const srcAt = arena.scratch(src.length * 4 + 16);
      arena.i32(srcAt, src.length).set(src);
      const mapAt = arena.scratch(outer * 4);
      arena.i32(mapAt, outer).set(map);
      const accAt = arena.scratch(acc.length * 4);
      arena.i32(accAt, acc.length).set(acc);
      arena.exports.add_rows_i32(srcAt, cols, mapAt, outer, accAt, accStride, colBase);
      const got = arena.i32(accAt, acc.length).slice();
      arena.release(mark);
      expect(Array.from(got), `seed ${seed}: ${outer} positions, ${unique} rows of ${cols} columns`).toEqual(Array.from(expected));
    }
  });
});
