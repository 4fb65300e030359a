/**
 * @fileoverview NumPy `.npy` reader and writer (format versions 1, 2 and 3; little-endian, C order), to and from IR tensors.
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { allocArray, bytesOf, createTensor, numel, XbarcError, type DType, type Tensor } from "@xbarc/ir";
import { readDataFile } from "./image-set.js";

/** The six magic bytes every .npy file starts with: \x93NUMPY. */
export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] as const;

/** numpy type code (kind + item size, without byte order) ↔ IR dtype. */
const NPY_TO_DTYPE: Readonly<Record<string, DType>> = {
  u1: "u8", i1: "i8", i2: "i16", i4: "i32", i8: "i64", u2: "u16", u4: "u32", u8: "u64",
  f2: "f16", f4: "f32", f8: "f64", b1: "bool",
};
const DTYPE_TO_NPY: Readonly<Record<DType, string>> = {
  u8: "|u1", i8: "|i1", bool: "|b1", i16: "<i2", i32: "<i4", i64: "<i8", u16: "<u2", u32: "<u4", u64: "<u8",
  f16: "<f2", f32: "<f4", f64: "<f8",
};

/** True when `bytes` start with the .npy magic. */
export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && NPY_MAGIC.every((b, i) => bytes[i] === b);
}

function fail(file: string, message: string, hint: string): XbarcError {
  return new XbarcError("XB7002", message, { location: { kind: "file", file }, hint });
}

/** Decodes .npy bytes into a tensor (data copied, so it is aligned and owned). Throws XB7002 naming `file`. */
export function parseNpy(bytes: Uint8Array, file = "<npy>"): Tensor {
  if (!isNpy(bytes)) throw fail(file, "not a .npy file: it does not start with \\x93NUMPY", "save arrays with numpy.save(), or pass an IDX file");
  if (bytes.length < 10) throw fail(file, `.npy file is truncated: ${bytes.length} bytes`, "the file is incomplete; write it again");
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw fail(file, `.npy file is truncated: ${bytes.length} bytes`, "the file is incomplete; write it again");
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw fail(file, `unsupported .npy format version ${major}.${bytes[7]}: expected 1.0, 2.0 or 3.0`, "save the array with numpy.save()");
  }
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) throw fail(file, `.npy header is truncated: it declares ${headerLength} bytes`, "the file is incomplete; write it again");
  const header = new TextDecoder().decode(bytes.subarray(headerStart, dataStart));

  const descr = /['"]descr['"]\s*:\s*['"]([<>|=]?)([a-zA-Z]\d+)['"]/.exec(header);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeMatch) {
    throw fail(file, `.npy header is malformed: ${JSON.stringify(header.trim())}`, "save the array with numpy.save()");
  }
  const [, order, code] = descr as unknown as [string, string, string];
  const dtype = NPY_TO_DTYPE[code];
  if (!dtype) {
    throw fail(file, `unsupported .npy dtype '${order}${code}': expected one of ${Object.keys(NPY_TO_DTYPE).join(", ")}`, "convert the array, e.g. a.astype(np.float32)");
  }
  if (order === ">" && code.slice(1) !== "1") {
    throw fail(file, `.npy dtype '${order}${code}' is big-endian; only little-endian data is supported`, "convert with a.astype(a.dtype.newbyteorder('<'))");
  }
  if (fortran[1] === "True") {
    throw fail(file, ".npy array is stored in Fortran (column-major) order; only C order is supported", "save np.ascontiguousarray(a) instead");
  }
  const shape = shapeMatch[1]!
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw fail(file, `.npy shape (${shapeMatch[1]}) is not a list of sizes`, "save the array with numpy.save()");

  const count = numel(shape);
  const itemSize = Number(code.slice(1));
  const needed = count * itemSize;
  if (bytes.length < dataStart + needed) {
    throw fail(file, `.npy data is truncated: shape (${shape.join(",")}) of '${code}' needs ${needed} bytes, the file has ${bytes.length - dataStart}`, "the file is incomplete; write it again");
  }
  // copy: the file's data offset need not be aligned for the element size, and the caller owns the result
  const data = allocArray(dtype, count);
  bytesOf(data).set(bytes.subarray(dataStart, dataStart + needed));
  return createTensor({ dtype, shape }, data);
}

/** Reads a .npy file (gzip is also accepted). Throws XB7002 naming the file. */
export function readNpy(path: string): Tensor {
  return parseNpy(readDataFile(path), path);
}

/** Encodes a tensor as a version-1.0 .npy file (little-endian, C order, header padded to 64 bytes), as numpy.save writes it. */
export function encodeNpy(tensor: Tensor): Uint8Array {
  const { dtype, shape } = tensor.type;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${DTYPE_TO_NPY[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // numpy (>= 1.23) leaves room for the first axis to grow to 21 digits; doing the same makes our files byte-identical
  if (shape.length > 0) header += " ".repeat(Math.max(0, 21 - String(shape[0]).length));
  // numpy pads with spaces so that magic + lengths + header + "\n" is a multiple of 64
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  const data = bytesOf(tensor.data);
  const out = new Uint8Array(total + data.byteLength);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, total);
  return out;
}
