const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `256MB`, `500kb`, `2GB`, `1048576` as bytes (units of 1024); null when it is not a positive size. */
export function parseByteSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*$/i.exec(text);
  if (!match) return null;
  const unit = match[2]!.toLowerCase().replace(/^([kmg])$/, '$1b');
  const bytes = Math.floor(Number(match[1]) * BYTE_UNITS[unit]!);
  return bytes >= 1 && Number.isSafeInteger(bytes) ? bytes : null;
}

/** A size in the largest unit that divides it exactly (256 MB, 1 KB); undefined when none does. */
export function inWholeUnits(bytes: number): { amount: number; unit: 'GB' | 'MB' | 'KB' } | undefined {
  for (const [unit, size] of [['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]] as const) {
    if (bytes % size === 0) return { amount: bytes / size, unit };
  }
  return undefined;
}
