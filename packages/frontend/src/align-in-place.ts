/**
 * @fileoverview Aligns a misaligned raw_data payload inside a file buffer the importer owns by moving it down onto
 * the bytes of its own protobuf field header (tag 0x4A + varint length), which nothing reads once the ModelProto is
 * decoded: a memmove of the payload instead of a copy into fresh memory.
 */

/** The key of TensorProto.raw_data: field 9, wire type 2 (length-delimited), (9 << 3) | 2 (protobuf encoding guide). */
const RAW_DATA_KEY = (9 << 3) | 2;

/** Bytes the shortest varint encoding of the non-negative integer `n` takes (7 bits per byte). */
export function varintLength(n: number): number {
  let bytes = 1;
  // division, not shifts: payload lengths may exceed 2^31
  for (let rest = Math.floor(n / 128); rest > 0; rest = Math.floor(rest / 128)) bytes++;
  return bytes;
}

/**
 * True when the `headerBytes` bytes of `buffer` just before `payloadOffset` are exactly the raw_data key followed by
 * the shortest varint of `length`. This proves they are the payload's own field header: the byte before a longer
 * (non-minimal) varint's last bytes has its continuation bit set, so it cannot read as the key 0x4A.
 */
function isOwnFieldHeader(buffer: Uint8Array, payloadOffset: number, headerBytes: number, length: number): boolean {
  const start = payloadOffset - headerBytes;
  if (start < 0 || buffer[start] !== RAW_DATA_KEY) return false;
  let value = 0;
  let scale = 1;
  for (let at = start + 1; at < payloadOffset; at++) {
    const byte = buffer[at]!;
    // every varint byte but the last has the continuation bit
    if (((byte & 0x80) !== 0) !== (at < payloadOffset - 1)) return false;
    value += (byte & 0x7f) * scale;
    scale *= 128;
  }
  return value === length;
}

/**
 * Moves the misaligned raw_data `payload` (a view into a buffer the caller owns, as protobufjs hands it out) down by
 * `byteOffset % elementBytes` onto its own field header and returns a view of the moved bytes, now at an offset that
 * is a multiple of `elementBytes`; undefined, with the buffer untouched, when the shift is larger than the header or
 * the bytes before the payload cannot be proven to be that header (then the caller copies). The header is lost: the
 * buffer no longer decodes as the same protobuf message.
 */
export function alignPayloadInPlace(payload: Uint8Array, elementBytes: number): Uint8Array | undefined {
  const offset = payload.byteOffset;
  const length = payload.byteLength;
  const shift = offset % elementBytes;
  if (shift === 0) return payload;
  const headerBytes = 1 + varintLength(length);
  if (shift > headerBytes) return undefined;
  const whole = new Uint8Array(payload.buffer);
  if (!isOwnFieldHeader(whole, offset, headerBytes, length)) return undefined;
  whole.copyWithin(offset - shift, offset, offset + length);
  return new Uint8Array(payload.buffer, offset - shift, length);
}
