/**
 * @fileoverview The weights side file: raw little-endian constant payloads, each at a 64-byte-aligned offset,
 * referenced from the text by `weights(offset=N, bytes=N, sha256="hex")`.
 */
import { createHash } from "node:crypto";
import { bytesOf, type TypedArray } from "../types.js";

/** Every payload starts at a multiple of this many bytes (cache-line and SIMD friendly, any dtype aligned). */
export const WEIGHTS_ALIGNMENT = 64;

/** Where one constant's bytes sit in the side file. */
export interface WeightsRef {
  /** byte offset from the start of the side file, a multiple of WEIGHTS_ALIGNMENT */
  readonly offset: number;
  /** payload length in bytes */
  readonly bytes: number;
  /** lowercase hex SHA-256 of the payload */
  readonly sha256: string;
}

/** Lowercase hex SHA-256 of some bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Collects payloads in order and lays them out; `finish()` returns the side file. */
export class WeightsWriter {
  private readonly payloads: Uint8Array[] = [];
  private readonly offsets: number[] = [];
  private size = 0;

  /** Appends a constant's data and returns its reference. */
  add(data: TypedArray): WeightsRef {
    const bytes = bytesOf(data);
    const offset = Math.ceil(this.size / WEIGHTS_ALIGNMENT) * WEIGHTS_ALIGNMENT;
    this.payloads.push(bytes);
    this.offsets.push(offset);
    this.size = offset + bytes.byteLength;
    return { offset, bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
  }

  /** The side file: payloads at their offsets, zero padding between them, no trailing padding. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    for (let i = 0; i < this.payloads.length; i++) out.set(this.payloads[i]!, this.offsets[i]!);
    return out;
  }
}
