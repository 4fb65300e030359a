/** @fileoverview Renders an XbarcError the way compilers do: `file:line:col: error XBnnnn: message`, source line, caret. */
import type { Location, XbarcError } from "./error.js";

function where(loc: Location | undefined): string {
  if (!loc) return "";
  switch (loc.kind) {
    case "text": return `${loc.file}:${loc.line}:${loc.column}: `;
    case "onnx": return `${loc.file}: `;
    case "json": return `${loc.file}: `;
    case "file": return `${loc.file}: `;
    case "ir": return loc.loc ? `loc("${loc.loc}"): ` : "";
  }
}

/** Multi-line human rendering. */
export function renderError(e: XbarcError): string {
  const lines = [`${where(e.location)}error ${e.code}: ${e.message}`];
  const loc = e.location;
  if (loc?.kind === "text" && loc.source !== undefined) {
    lines.push(`  ${loc.source}`);
    lines.push(`  ${" ".repeat(Math.max(0, loc.column - 1))}^${"~".repeat(Math.max(0, (loc.length ?? 1) - 1))}`);
  }
  for (const n of e.notes) lines.push(`  note: ${n}`);
  if (e.hint) lines.push(`  hint: ${e.hint}`);
  return lines.join("\n");
}

/** Machine rendering for `--json`. */
export function errorToJson(e: XbarcError): Record<string, unknown> {
  return { code: e.code, message: e.message, location: e.location, hint: e.hint, notes: e.notes };
}
