// Self-signed certificates made by openssl for one test (no network, nothing kept): each valid
// for 127.0.0.1 and localhost, so a client can verify it with the certificate as its CA.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface Certificate {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, as tls getPeerCertificate().fingerprint256 shows it. */
  fingerprint: string;
  pem: Buffer;
}

/** Why these tests cannot run here, or null when openssl is available. */
export function opensslMissing(): string | null {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'openssl is not installed (the tests make their certificates with it)';
  }
}

export function makeCertificate(dir: string, name: string, kind: 'ec' | 'rsa' = 'ec'): Certificate {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const keyArgs = kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const pem = fs.readFileSync(cert);
  return { cert, key, pem, fingerprint: new crypto.X509Certificate(pem).fingerprint256 };
}
