// The certificate and key of --tls-cert/--tls-key: the flags checked, the files read and proved to
// belong together. The supervisor calls this at start (a bad file: one line, exit 1) and before a
// reload (a bad file: the reload is refused and the old workers keep the old certificate); each
// worker calls it when it starts, so a reload's new workers serve what the files hold now.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { TLS_VERSIONS, type TlsConfig } from '../config.ts';
import { HerdError, UsageError } from '../errors.ts';

export interface TlsFlags {
  'tls-cert'?: string;
  'tls-key'?: string;
  'tls-ca'?: string;
  'tls-min-version'?: string;
  'no-tls-tickets'?: boolean;
}

/** The TLS part of the serve flags; null when neither --tls-cert nor --tls-key is given. */
export function tlsConfigFromFlags(v: TlsFlags): TlsConfig | null {
  const cert = v['tls-cert'];
  const key = v['tls-key'];
  if (cert === undefined && key === undefined) {
    const stray = (['tls-ca', 'tls-min-version', 'no-tls-tickets'] as const).find((f) => v[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --tls-cert FILE and --tls-key FILE`);
    return null;
  }
  if (cert === undefined) throw new UsageError('--tls-key needs --tls-cert FILE (the certificate, PEM)');
  if (key === undefined) throw new UsageError('--tls-cert needs --tls-key FILE (its private key, PEM)');
  const version = v['tls-min-version'] ?? 'TLSv1.2';
  const minVersion = TLS_VERSIONS.find((known) => known.toLowerCase() === version.toLowerCase().replace(/^(\d)/, 'tlsv$1'));
  if (minVersion === undefined) throw new UsageError(`--tls-min-version must be TLSv1.2 or TLSv1.3 (or 1.2, 1.3), not '${version}'`);
  return { cert: path.resolve(cert), key: path.resolve(key), ca: v['tls-ca'] === undefined ? null : path.resolve(v['tls-ca']), minVersion, tickets: v['no-tls-tickets'] !== true };
}

/** What a TLS server is made from; a HerdError naming the file and what is wrong with it otherwise. */
export function readTlsCredentials(config: TlsConfig): tls.SecureContextOptions {
  const cert = readPem(config.cert, '--tls-cert');
  const key = readPem(config.key, '--tls-key');
  const ca = config.ca === null ? undefined : readPem(config.ca, '--tls-ca');
  let leaf: crypto.X509Certificate;
  try {
    leaf = new crypto.X509Certificate(cert);
  } catch {
    throw new HerdError(`--tls-cert ${config.cert} holds no PEM certificate`, 'TLS_CERT');
  }
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(key);
  } catch {
    throw new HerdError(`--tls-key ${config.key} holds no PEM private key (an encrypted key is not supported)`, 'TLS_KEY');
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new HerdError(`--tls-key ${config.key} is not the key of the certificate in --tls-cert ${config.cert}`, 'TLS_KEY_MISMATCH');
  }
  if (ca !== undefined) {
    try {
      new crypto.X509Certificate(ca);
    } catch {
      throw new HerdError(`--tls-ca ${config.ca} holds no PEM certificate`, 'TLS_CA');
    }
  }
  // Client-initiated renegotiation (TLS 1.2) refused, as nginx does: node:tls only bounds it, from a
  // handshake hook that the fast engine's TLS handles do without (uv/tls_handle.ts). Without
  // tickets nothing is resumable: node keeps no server-side session cache.
  const secureOptions = crypto.constants.SSL_OP_NO_RENEGOTIATION | (config.tickets ? 0 : crypto.constants.SSL_OP_NO_TICKET);
  const options: tls.SecureContextOptions = { cert: ca === undefined ? cert : Buffer.concat([cert, Buffer.from('\n'), ca]), key, minVersion: config.minVersion, secureOptions };
  try {
    tls.createSecureContext(options);
  } catch (err) {
    throw new HerdError(`--tls-cert ${config.cert} and --tls-key ${config.key} cannot be used: ${(err as Error).message}`, 'TLS_CONTEXT');
  }
  return options;
}

function readPem(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? (err as Error).message})`;
    throw new HerdError(`${flag} ${file} ${why}`, 'TLS_FILE');
  }
}

/**
 * Before a rolling reload: null when the files the new workers will read are good, else why not
 * (the supervisor then keeps the workers it has, which keep the certificate they loaded).
 */
export function tlsReloadRefusal(config: TlsConfig | null): string | null {
  if (config === null) return null;
  try {
    readTlsCredentials(config);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
