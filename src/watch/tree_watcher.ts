// --watch: files changing under some paths, reported once they settle (debounced), node_modules and
// dotfiles ignored. One non-recursive fs.watch per directory, walked by hand: a recursive watch
// would put an inotify watch on every directory of node_modules too. A directory created later is
// watched from its creation; a watched file is watched through its directory, because editors save
// by renaming a new file over the old one, which ends a watch on the file itself.
import fs from 'node:fs';
import path from 'node:path';

/** Changes closer together than this are one change: an editor's save, a `git checkout`. */
export const WATCH_DEBOUNCE_MS = 300;

export interface TreeWatcherOptions {
  /** Files herd writes itself (an access log inside the tree): a change there is not a change of code. */
  ignoreFiles?: string[];
  debounceMs?: number;
}

export function ignoredName(name: string): boolean {
  return name === 'node_modules' || name.startsWith('.');
}

export class TreeWatcher {
  readonly #watchers = new Map<string, fs.FSWatcher>();
  readonly #onChange: (files: string[]) => void;
  readonly #ignoreFiles: Set<string>;
  readonly #debounceMs: number;
  #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(paths: string[], onChange: (files: string[]) => void, options: TreeWatcherOptions = {}) {
    this.#onChange = onChange;
    this.#ignoreFiles = new Set(options.ignoreFiles ?? []);
    this.#debounceMs = options.debounceMs ?? WATCH_DEBOUNCE_MS;
    for (const p of paths) {
      const stat = fs.statSync(p, { throwIfNoEntry: false });
      if (stat?.isDirectory()) this.#watchTree(p);
      else this.#watchDir(path.dirname(p), path.basename(p));
    }
  }

  /** Directories watched right now (for the start line and the tests). */
  get directories(): number {
    return this.#watchers.size;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }

  #watchTree(dir: string): void {
    this.#watchDir(dir, null);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // gone already, or unreadable: nothing to watch there
    }
    for (const e of entries) if (e.isDirectory() && !ignoredName(e.name)) this.#watchTree(path.join(dir, e.name));
  }

  /** `only`: a single file of dir is watched (a path given as a file). */
  #watchDir(dir: string, only: string | null): void {
    const key = only === null ? dir : path.join(dir, only);
    if (this.#watchers.has(key) || this.#closed) return;
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (name === null) return this.#changed(dir);
        const file = String(name);
        if (only !== null ? file !== only : file.split(path.sep).some(ignoredName)) return;
        const full = path.join(dir, file);
        if (this.#ignoreFiles.has(full)) return;
        if (only === null && fs.statSync(full, { throwIfNoEntry: false })?.isDirectory()) this.#watchTree(full);
        this.#changed(full);
      });
    } catch {
      return;
    }
    watcher.on('error', () => {
      // The directory was removed: its watch ends; its parent saw the removal as a change.
      watcher.close();
      this.#watchers.delete(key);
    });
    this.#watchers.set(key, watcher);
  }

  #changed(file: string): void {
    this.#pending.add(file);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const files = [...this.#pending];
      this.#pending = new Set();
      if (!this.#closed) this.#onChange(files);
    }, this.#debounceMs);
  }
}
