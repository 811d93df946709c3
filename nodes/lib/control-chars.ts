/**
 * True when `s` holds an ASCII control character (NUL…US, DEL): a line break in a URL that goes into
 * an ffconcat list, a tab in an InfluxDB tag. A loop, not a regular expression, so the rule reads
 * the same everywhere it is used.
 */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
