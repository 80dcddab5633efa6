// One HTTPS request on a new connection, verifying the server against the test's certificate; it
// returns the body and the fingerprint of the certificate the server presented.
import https from 'node:https';

export interface HttpsReply {
  status: number;
  body: string;
  fingerprint: string;
  headers: Record<string, string | string[] | undefined>;
}

export function httpsGet(url: string, ca: Buffer | Buffer[], path = '/', options: { method?: string; body?: string; headers?: Record<string, string>; agent?: https.Agent | false; timeoutMs?: number; maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, url), { method: options.method ?? 'GET', ca, agent: options.agent ?? false, headers: options.headers, maxVersion: options.maxVersion, timeout: options.timeoutMs ?? 10_000 }, (res) => {
      const fingerprint = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(options.body);
  });
}
