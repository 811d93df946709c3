/**
 * Editor fields as a node's constructor gets them: strings ('' when left empty) from the dialog,
 * numbers, booleans or objects from a flow file or an example. The parsing every node's glue shares;
 * each error names the field as the dialog labels it.
 */

/** Empty: not set, so the engine's default applies. */
export function blank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/** A number field; undefined when blank. */
export function optNumber(v: unknown, what: string): number | undefined {
  if (blank(v)) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${what} must be a number, got "${String(v)}"`);
  return n;
}

/** A JSON field: text from the dialog, or the value itself from a flow file; undefined when blank. */
export function optJson<T>(v: unknown, what: string): T | undefined {
  if (blank(v)) return undefined;
  if (typeof v !== 'string') return v as T;
  try {
    return JSON.parse(v) as T;
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}
