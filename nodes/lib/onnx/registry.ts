/**
 * Reference-counted shared resources (ONNX sessions): the first user creates, the last user to leave
 * releases. Keyed so that every node using the same model file with the same providers shares one
 * session; reid uses the same registry for its embedding model. Per instance, no module state.
 */

interface Entry<T> {
  users: Set<string>;
  value: Promise<T>;
  dispose: (v: T) => Promise<void> | void;
}

export class SharedRegistry<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /**
   * The value for `key`, created by `create` on first use. A failed creation is forgotten at once, so
   * the next acquire tries again (after the user fixed the file, say) rather than caching the error.
   */
  acquire(key: string, user: string, create: () => Promise<T>, dispose: (v: T) => Promise<void> | void): Promise<T> {
    let e = this.entries.get(key);
    if (!e) {
      const value = create();
      const entry: Entry<T> = { users: new Set(), value, dispose };
      e = entry;
      this.entries.set(key, entry);
      value.catch(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      });
    }
    e.users.add(user);
    return e.value;
  }

  /** Drops `user`; when it was the last, the value is disposed. Resolves once disposed (or at once). */
  async release(key: string, user: string): Promise<void> {
    const e = this.entries.get(key);
    if (!e || !e.users.delete(user)) return;
    if (e.users.size > 0) return;
    this.entries.delete(key);
    let v: T;
    try {
      v = await e.value;
    } catch {
      return; // never created: nothing to dispose
    }
    await e.dispose(v);
  }

  users(key: string): number {
    return this.entries.get(key)?.users.size ?? 0;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }
}
