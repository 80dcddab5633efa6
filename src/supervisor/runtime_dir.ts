// The private runtime directory: where a herd puts its control and logd sockets by default, and where
// every herd command looks for the herds this user runs. $XDG_RUNTIME_DIR/herd where systemd gives each
// user a private /run/user/UID, else /tmp/herd-UID. In /tmp anyone can create that name first, so an
// existing directory is used only when it is a real directory (no symlink) owned by this user with no
// access for group or others; anything else is refused with one line, never "fixed" silently.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HerdError } from '../errors.ts';

export function runtimeDirPath(env: NodeJS.ProcessEnv = process.env): string {
  const uid = process.getuid?.() ?? 0;
  return env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'herd') : path.join(os.tmpdir(), `herd-${uid}`);
}

/** Creates `dir` (mode 0700) or checks that the one there is private to this user. */
export function ensurePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new HerdError(`cannot create the runtime directory ${dir}: ${(err as Error).message}`, 'ERUNTIMEDIR');
    }
  }
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  const refuse = (why: string) =>
    new HerdError(`the runtime directory ${dir} ${why}; remove it, or set XDG_RUNTIME_DIR or --control elsewhere`, 'ERUNTIMEDIR');
  if (st.isSymbolicLink()) throw refuse('is a symbolic link');
  if (!st.isDirectory()) throw refuse('is not a directory');
  if (uid !== undefined && st.uid !== uid) throw refuse(`belongs to uid ${st.uid}, not to you (uid ${uid})`);
  if ((st.mode & 0o077) !== 0) throw refuse(`has mode ${(st.mode & 0o777).toString(8)}: others may reach it (want 700)`);
}

/** The control sockets in the runtime directory (a herd's and stale ones alike; logd's are not listed). */
export function controlSocketsIn(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^herd-.+\.sock$/.test(n)).sort().map((n) => path.join(dir, n));
}

/** Writes the pid file without following a symbolic link planted at its path. */
export function writePidFile(file: string): void {
  const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new HerdError(`--pid-file ${file} is a symbolic link; herd does not write through it`, 'EPIDFILE');
    throw new HerdError(`cannot write --pid-file ${file}: ${(err as Error).message}`, code ?? 'EPIDFILE');
  }
  try {
    fs.writeSync(fd, `${process.pid}\n`);
  } finally {
    fs.closeSync(fd);
  }
}
