/** @fileoverview Catches the XbarcError a call throws, so tests can assert its code, message, location and hint. */
import { XbarcError } from "@xbarc/ir";

/**
 * The XbarcError `f` throws. Any other error is rethrown; when nothing is thrown the test fails with
 * `whenNothingThrown` (say what should have been rejected).
 */
export function catchXbarcError(f: () => unknown, whenNothingThrown = "expected an XbarcError, nothing was thrown"): XbarcError {
  try {
    f();
  } catch (e) {
    if (e instanceof XbarcError) return e;
    throw e;
  }
  throw new Error(whenNothingThrown);
}
