// Moved to src/proc/process_stat.ts (one /proc reader for herd bench, herd lab and the bench
// scripts); this re-export keeps the lab's imports working until they name the new path.
export * from '../proc/process_stat.ts';
