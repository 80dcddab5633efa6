// Respawn policy: exponential backoff for workers that die young, and the crash-loop verdict.
export const BACKOFF_BASE_MS = 100;
export const BACKOFF_CAP_MS = 5_000;
/**
 * A worker that dies before it is ready, or sooner than this after, "died young". Counted from
 * ready, not from spawn: on a loaded machine start-up alone can take longer than this.
 */
export const MIN_UPTIME_MS = 1_000;
/** This many young deaths in a row in one slot is a crash loop: herd gives up. */
export const CRASH_LOOP_DEATHS = 5;

export class SlotHealth {
  youngDeaths = 0;
  restarts = 0;

  /** Records a death; returns the delay before the respawn, or null for a crash loop. */
  recordDeath(servedMs: number | null): number | null {
    this.restarts++;
    if (servedMs !== null && servedMs >= MIN_UPTIME_MS) {
      this.youngDeaths = 0;
      return 0;
    }
    this.youngDeaths++;
    if (this.youngDeaths >= CRASH_LOOP_DEATHS) return null;
    return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (this.youngDeaths - 1));
  }
}
