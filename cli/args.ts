import * as os from 'os';
import * as path from 'path';
import { manifestEntry, packageRoot, resolveAsset } from '../nodes/lib/assets';

/** A small argv parser: `--key value`, `--flag`, `--key=value`, and positionals. */
export interface ParsedArgs {
  _: string[];
  [key: string]: string | boolean | string[];
}

export function parseArgs(argv: string[], booleans: string[] = []): ParsedArgs {
  const out: ParsedArgs = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) out[key] = a.slice(eq + 1);
      else if (booleans.includes(key) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) out[key] = true;
      else out[key] = argv[++i];
    } else {
      out._.push(a);
    }
  }
  return out;
}

export function numArg(args: ParsedArgs, key: string, fallback: number): number {
  const v = args[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n)) throw new Error(`--${key} needs a number, got ${String(v)}`);
  return n;
}

/**
 * The `--<option> V` pairs not in `own`, each read as the type of its default in `defaults`: number
 * text → a number, "true"/"false" (or a bare flag) → true/false. Anything else passes as it is, for
 * the engine, which takes typed options, to refuse by name and range.
 */
export function optionArgs(args: ParsedArgs, defaults: Readonly<object>, own: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (own.has(k)) continue;
    const d = (defaults as Record<string, unknown>)[k];
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (typeof d === 'number' && Number.isFinite(n)) out[k] = n;
    else if (typeof d === 'boolean' && (v === true || v === 'true' || v === 'false')) out[k] = v !== 'false';
    else out[k] = v;
  }
  return out;
}

export function strArg(args: ParsedArgs, key: string): string | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Error(`--${key} needs a value`);
  return v;
}

/** The shared assets folder for a benchmark: --assets, else $EDGEVISION_ASSETS, else ../shared/assets beside the package. */
export function assetsArg(args: ParsedArgs): string {
  return strArg(args, 'assets') ?? process.env.EDGEVISION_ASSETS ?? path.resolve(packageRoot(), '..', 'shared', 'assets');
}

/** The Node-RED user dir whose edgevision/ folder holds the assets: --user-dir, else ~/.node-red (Node-RED's default). */
export function userDirArg(args: ParsedArgs): string {
  const v = strArg(args, 'user-dir');
  if (!v) return path.join(os.homedir(), '.node-red');
  return path.resolve(v.replace(/^~(?=$|\/)/, os.homedir()));
}

/**
 * A manifest name (yolox_nano, vtest) → its file, found as the nodes find it (EDGEVISION_ASSETS, then
 * the user dir's edgevision/, then the package); anything else, a path, is left as it is (relative
 * paths start at the working directory, as on any command line).
 */
export function assetArg(value: string, args: ParsedArgs): string {
  return manifestEntry(value) ? resolveAsset(value, { userDir: userDirArg(args) }) : value;
}
