/** @fileoverview Device profiles: types, schema, built-ins, resolution and level computation. */
export * from "./profile.js";
export * from "./schema.js";
export * from "./builtins.js";
export * from "./levels.js";
export * from "./resolve.js";
export * from "./crossbar-layout.js";
