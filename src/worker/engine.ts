// What a worker needs from an HTTP engine, whichever it is (node:http or herd's fast engine).
// Dispatch modes only ever touch `server`: they listen on it, or emit 'connection' on it.
import type net from 'node:net';
import type { AccessRecord } from '../logd/access_record.ts';
import type { NodeTransport } from '../transport/node_server.ts';

export interface EngineOptions {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** 0: no cap. */
  maxConnections: number;
  /** 0: no limit. */
  bodyLimit: number;
  /** A request body with no bytes for this long gets 408; 0 or absent: off. */
  bodyTimeoutMs?: number;
  /** A streaming response that moves no bytes for this long is cut; 0 or absent: off. */
  idleTimeoutMs?: number;
  /** One line per response herd cut by a timeout; absent: stderr. */
  onCut?: (line: string) => void;
  /** --request-id: every request gets an X-Request-Id (its own when valid), echoed and logged. */
  requestId?: boolean;
  /** Called once per finished response; absent when access logging is off. Must not throw. */
  onAccess?: (record: AccessRecord) => void;
  /** --metrics: the same moment, with only what counters need (no record built, no header decoded). */
  onResponse?: (method: string, status: number, bodyBytes: number, durationMs: number) => void;
  /** node engine: TLS and HTTP/2 on its own server; absent: cleartext HTTP/1.1. */
  transport?: NodeTransport;
  /** --trust-proxy: the client address logged for a request from `peer` with this X-Forwarded-For. */
  clientAddress?: (peer: string, forwardedFor: string | string[] | undefined) => string;
}

export interface Engine {
  /** Accepting side: `listen()`ed by reuseport/shared, fed with emit('connection', socket) by handoff. */
  readonly server: net.Server;
  /** Connections open right now. */
  connections(): number;
  /** Responses completed since start. */
  requests(): number;
  /** Connections accepted since start. */
  accepted(): number;
  /**
   * Graceful stop of the connections already accepted: in-flight requests finish with
   * `Connection: close`, idle keep-alive connections close now. Resolves when none is left.
   * Does not close `server`; the caller stops accepting first.
   */
  drain(): Promise<void>;
  /** Resolves when every connection is closed, upgraded ones (WebSockets) included; absent: drain's. */
  allClosed?(): Promise<void>;
  /** Destroys every connection at once (after the grace time). */
  destroyAll(): void;
}
