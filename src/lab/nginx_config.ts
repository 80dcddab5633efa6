// nginx as a peer: a config of the lab's own in a temporary prefix, serving the same 'Hello, World!'.
import fs from 'node:fs';
import path from 'node:path';

export function nginxConfig(dir: string, host: string, port: number, workers: number): string {
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
    listen ${host}:${port} backlog=511;
    default_type text/plain;
    location / {
      return 200 'Hello, World!';
    }
  }
}
`;
}

/** Writes the config into `dir` and returns nginx's arguments. */
export function prepareNginx(dir: string, host: string, port: number, workers: number): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, nginxConfig(dir, host, port, workers));
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
