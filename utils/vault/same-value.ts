/** Structural equality of plain data (JSON-like values as stored in IndexedDB); key order does not matter. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  const aEntries = Object.entries(a).filter(([, v]) => v !== undefined);
  const bRecord = new Map(Object.entries(b).filter(([, v]) => v !== undefined));
  return aEntries.length === bRecord.size && aEntries.every(([key, value]) => bRecord.has(key) && sameValue(value, bRecord.get(key)));
}
