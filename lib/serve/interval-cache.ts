interface Entry<V> {
  at: number;
  value: Promise<V>;
  refreshing?: Promise<V>;
}

/**
 * Values read at most once per `ttlMs` per key, however many people ask: concurrent callers share
 * one read, and once a value is older than `ttlMs` callers get it while one fresh read runs behind
 * them. A failed read is not kept, so the next caller tries again; a failed refresh keeps the last
 * good value. For what the collector changes once per interval (the catalog report, the usage
 * rates): reading it more often than that shows nothing new.
 */
export function intervalCache<V>() {
  const entries = new Map<string, Entry<V>>();
  return (key: string, ttlMs: number, read: () => Promise<V>): Promise<V> => {
    const hit = entries.get(key);
    if (!hit) {
      const entry: Entry<V> = { at: Date.now(), value: read() };
      entries.set(key, entry);
      entry.value.catch(() => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      return entry.value;
    }
    if (Date.now() - hit.at >= ttlMs && !hit.refreshing) {
      const refreshing = read();
      hit.refreshing = refreshing;
      refreshing.then(
        () => entries.set(key, { at: Date.now(), value: refreshing }),
        () => {
          hit.refreshing = undefined;
        },
      );
    }
    return hit.value;
  };
}

/** intervalCache, one per scope (a store's pool): several stores in one process never share values. */
export function scopedIntervalCache<S extends object, V>() {
  const caches = new WeakMap<S, ReturnType<typeof intervalCache<V>>>();
  return (scope: S, key: string, ttlMs: number, read: () => Promise<V>): Promise<V> => {
    let cache = caches.get(scope);
    if (!cache) caches.set(scope, (cache = intervalCache<V>()));
    return cache(key, ttlMs, read);
  };
}
