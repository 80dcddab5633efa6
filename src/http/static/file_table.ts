// The lookups of recent paths, kept in memory: what a path is, its headers, and the bytes of small
// files. An entry is trusted for `revalidateMs` (1 s by default) after it was made; the next
// request after that looks again (open, fstat, real path) and keeps the bytes if the file's
// identity (dev, inode, size, mtime, ctime) did not change.
//
// Why a time bound and not fs.watch: inotify watches are a per-user kernel budget
// (fs.inotify.max_user_watches), each watched directory costs a descriptor in every worker, events
// are coalesced or lost on overflow and do not work on network filesystems, and a watch does not
// notice a symlink being retargeted higher up. A stat-once-a-second bound costs one lookup per
// second per hot path, is correct on every filesystem and is what nginx's open_file_cache_valid does.
import { lookUp } from './lookup.ts';
import type { LookupSettings, Resolution } from './lookup.ts';

export interface TableLimits {
  /** How long a lookup is trusted, in ms. */
  readonly revalidateMs: number;
  /** Bytes of file content kept in memory, over all entries. */
  readonly budgetBytes: number;
  readonly maxEntries: number;
}

interface Entry {
  readonly resolution: Resolution;
  readonly checkedAt: number;
  readonly bytes: number;
}

/** What an entry without file bytes is counted as: its key, headers and bookkeeping. */
const ENTRY_OVERHEAD = 512;

export class FileTable {
  private readonly settings: LookupSettings;
  private readonly limits: TableLimits;
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Resolution>>();
  private heldBytes = 0;

  constructor(settings: LookupSettings, limits: TableLimits) {
    this.settings = settings;
    this.limits = limits;
  }

  /** The resolution of `key`: at once when a recent one is held, else after a lookup. */
  get(key: string, now: number): Resolution | Promise<Resolution> {
    const entry = this.entries.get(key);
    if (entry !== undefined && now - entry.checkedAt < this.limits.revalidateMs) return entry.resolution;
    return this.refresh(key, entry?.resolution, now);
  }

  /** Drops what is held for `key` (a streamed file turned out to have changed). */
  forget(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.heldBytes -= entry.bytes;
  }

  private refresh(key: string, previous: Resolution | undefined, startedAt: number): Promise<Resolution> {
    const running = this.pending.get(key);
    if (running !== undefined) return running; // one lookup per path at a time
    const lookup = lookUp(key, this.settings, previous).then(
      (resolution) => {
        this.pending.delete(key);
        // Trusted from when the lookup started: a change made after that is seen by the next check.
        this.store(key, resolution, startedAt);
        return resolution;
      },
      (error: unknown) => {
        this.pending.delete(key);
        this.forget(key);
        throw error;
      },
    );
    this.pending.set(key, lookup);
    return lookup;
  }

  private store(key: string, resolution: Resolution, checkedAt: number): void {
    this.forget(key);
    const bytes = ENTRY_OVERHEAD + key.length + (resolution.kind === 'file' && resolution.body !== null ? resolution.body.length : 0);
    this.entries.set(key, { resolution, checkedAt, bytes });
    this.heldBytes += bytes;
    // Oldest first (Map order is insertion order; a refreshed entry moves to the end).
    for (const [oldKey, old] of this.entries) {
      if (this.heldBytes <= this.limits.budgetBytes && this.entries.size <= this.limits.maxEntries) break;
      this.entries.delete(oldKey);
      this.heldBytes -= old.bytes;
    }
  }
}
