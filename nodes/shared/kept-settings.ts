/**
 * Settings changed while the flow runs (a `topic: "config"` message, a dashboard's board) are kept in
 * node context, so a restart or a redeploy of other nodes keeps them. They are kept with a
 * fingerprint of the node's editor settings they were made over: once the node's settings are
 * changed in the editor and deployed, the editor wins and the kept changes are dropped (with a log
 * line saying so). Otherwise an integrator's edit would be silently overridden by an operator's old
 * change on every later deploy, and the editor would show something other than what runs.
 */
import { createHash } from 'crypto';
import { Node } from './red';

/** Editor properties that do not change what a node does: moving, renaming or grouping it keeps the changes. */
const LAYOUT = new Set(['id', 'type', 'z', 'g', 'x', 'y', 'w', 'h', 'wires', 'name', 'info', 'l', 'icon', '_users', 'credentials']);

interface Kept<T> {
  keptSettings: 1;
  /** Fingerprint of the editor settings these changes were made over. */
  editor: string;
  values: T;
}

/** A fingerprint of a node's editor settings: every property but layout, in a stable order. */
export function editorFingerprint(config: object): string {
  const c = config as Record<string, unknown>;
  const keys = Object.keys(c)
    .filter((k) => !LAYOUT.has(k))
    .sort();
  return createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, c[k]])))
    .digest('hex')
    .slice(0, 16);
}

function isKept(v: unknown): v is Kept<unknown> {
  return !!v && typeof v === 'object' && (v as Kept<unknown>).keptSettings === 1 && typeof (v as Kept<unknown>).editor === 'string';
}

export interface KeptLoad<T> {
  /** The changes still in force; undefined when none are kept (or they were dropped). */
  values: T | undefined;
  /** True when changes were kept but the editor settings changed since: they were dropped. */
  dropped: boolean;
}

export class KeptSettings<T> {
  private readonly fingerprint: string;

  /** `key`: the node-context key; `config`: the node's editor settings as deployed. */
  constructor(
    private readonly node: Node,
    private readonly key: string,
    config: object,
  ) {
    this.fingerprint = editorFingerprint(config);
  }

  /**
   * The kept changes, if the editor settings are those they were made over. Changes kept by an
   * earlier version (no fingerprint) are taken as made over today's editor settings and kept so.
   */
  load(): KeptLoad<T> {
    const v = this.read();
    if (v === undefined || v === null) return { values: undefined, dropped: false };
    if (!isKept(v)) {
      this.save(v as T);
      return { values: v as T, dropped: false };
    }
    if (v.editor === this.fingerprint) return { values: v.values as T, dropped: false };
    this.save(undefined);
    return { values: undefined, dropped: true };
  }

  /** Keeps these changes (undefined: none; the editor settings apply). */
  save(values: T | undefined): void {
    const kept: Kept<T> | undefined = values === undefined ? undefined : { keptSettings: 1, editor: this.fingerprint, values };
    try {
      this.node.context().set(this.key, kept);
    } catch (e) {
      this.node.warn(`cannot keep the changed settings in context: ${(e as Error).message}`);
    }
  }

  private read(): unknown {
    try {
      return this.node.context().get(this.key);
    } catch {
      return undefined;
    }
  }
}

/** The log line for changes dropped because the editor settings changed. */
export function droppedText(what: string): string {
  return `the node's settings were changed in the editor: ${what} changed at run time (config message or dashboard) no longer apply`;
}
