/**
 * Checks that a spec document marked `"kind":"contract"` is a well-formed contract.
 * Returns null when it is, otherwise a message saying what is wrong (used for the 400).
 * (Filled in by the contracts work.)
 */
export function checkContractDocument(_doc: unknown): string | null {
  return null;
}
