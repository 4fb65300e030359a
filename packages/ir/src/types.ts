/** @fileoverview Element types, tensor types and the typed arrays that store them. */

/** Element types of IR tensors. `f16` is stored as raw IEEE half bits in a Uint16Array. */
export type DType = "f16" | "f32" | "f64" | "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "bool";

export const DTYPES: readonly DType[] = ["f16", "f32", "f64", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "bool"];

/** A static tensor type: element type and fully known shape (`f32[1,6,28,28]`, scalar `f32[]`). */
export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** Bytes per element as stored. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  f16: 2, f32: 4, f64: 8, i8: 1, i16: 2, i32: 4, i64: 8, u8: 1, u16: 2, u32: 4, u64: 8, bool: 1,
};

export function isDType(s: string): s is DType {
  return (DTYPES as readonly string[]).includes(s);
}

export function isFloatDType(d: DType): boolean {
  return d === "f16" || d === "f32" || d === "f64";
}

/** i64/u64 are stored exactly as BigInt arrays; everything else as plain numbers. */
export function isBigIntDType(d: DType): boolean {
  return d === "i64" || d === "u64";
}

export function tensorType(dtype: DType, shape: readonly number[]): TensorType {
  return { dtype, shape: [...shape] };
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatType(t: TensorType): string {
  return `${t.dtype}[${t.shape.join(",")}]`;
}

export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Allocates zeroed storage for `n` elements of `dtype`. */
export function allocArray(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "f16": return new Uint16Array(n);
    case "f32": return new Float32Array(n);
    case "f64": return new Float64Array(n);
    case "i8": return new Int8Array(n);
    case "i16": return new Int16Array(n);
    case "i32": return new Int32Array(n);
    case "i64": return new BigInt64Array(n);
    case "u8": return new Uint8Array(n);
    case "u16": return new Uint16Array(n);
    case "u32": return new Uint32Array(n);
    case "u64": return new BigUint64Array(n);
    case "bool": return new Uint8Array(n);
  }
}

/** A view of `bytes` (little-endian, as ONNX raw_data and our side files store them) as `dtype`; copies only when misaligned. */
export function viewBytes(dtype: DType, bytes: Uint8Array): TypedArray {
  const size = DTYPE_BYTES[dtype];
  const n = Math.floor(bytes.byteLength / size);
  // Uint8Array.prototype.slice copies even for a Node Buffer, whose own slice() is a view
  const aligned = bytes.byteOffset % size === 0 ? bytes : Uint8Array.prototype.slice.call(bytes, 0, n * size);
  const { buffer, byteOffset } = aligned;
  switch (dtype) {
    case "f16": return new Uint16Array(buffer, byteOffset, n);
    case "f32": return new Float32Array(buffer, byteOffset, n);
    case "f64": return new Float64Array(buffer, byteOffset, n);
    case "i8": return new Int8Array(buffer, byteOffset, n);
    case "i16": return new Int16Array(buffer, byteOffset, n);
    case "i32": return new Int32Array(buffer, byteOffset, n);
    case "i64": return new BigInt64Array(buffer, byteOffset, n);
    case "u8": return new Uint8Array(buffer, byteOffset, n);
    case "u16": return new Uint16Array(buffer, byteOffset, n);
    case "u32": return new Uint32Array(buffer, byteOffset, n);
    case "u64": return new BigUint64Array(buffer, byteOffset, n);
    case "bool": return new Uint8Array(buffer, byteOffset, n);
  }
}

/** The bytes of a typed array (a view, no copy). */
export function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
