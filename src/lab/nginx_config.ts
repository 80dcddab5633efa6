// nginx as a peer: a config of the lab's own in a temporary prefix, serving the same 'Hello, World!'.
import fs from 'node:fs';
import path from 'node:path';

/**
 * How nginx's workers share the port: `exclusive` is accept_mutex off (nginx's default since 1.11.3,
 * which registers the socket with EPOLLEXCLUSIVE on Linux 4.5+), `mutex` is accept_mutex on (only the
 * worker holding the lock polls the socket), `reuseport` gives each worker a socket of its own.
 */
export type NginxAccept = 'exclusive' | 'mutex' | 'reuseport';

export function nginxConfig(dir: string, host: string, port: number, workers: number, accept: NginxAccept = 'exclusive'): string {
  const p = (name: string) => path.join(dir, name);
  return `# written by herd lab
daemon off;
master_process on;
worker_processes ${workers};
worker_rlimit_nofile 20000;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events {
  worker_connections 10000;
  accept_mutex ${accept === 'mutex' ? 'on' : 'off'};
}
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${p('client_body')};
  proxy_temp_path ${p('proxy')};
  fastcgi_temp_path ${p('fastcgi')};
  uwsgi_temp_path ${p('uwsgi')};
  scgi_temp_path ${p('scgi')};
  server {
    listen ${host}:${port} backlog=511${accept === 'reuseport' ? ' reuseport' : ''};
    default_type text/plain;
    location / {
      return 200 'Hello, World!';
    }
  }
}
`;
}

/** Writes the config into `dir` and returns nginx's arguments. */
export function prepareNginx(dir: string, host: string, port: number, workers: number, accept: NginxAccept = 'exclusive'): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, nginxConfig(dir, host, port, workers, accept));
  return ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')];
}

/** The nginx binary on PATH (or in sbin, where Debian puts it), or null. */
export function findNginx(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  for (const dir of dirs) {
    const file = path.join(dir, 'nginx');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}
