// The parts of node:http's req/res the fast engine does not have. Reaching for one throws an error
// that says which engine has it, instead of returning undefined and failing somewhere else.
import { HerdError } from '../errors.ts';

export function defineUnavailable(prototype: object, objectName: string, names: readonly string[]): void {
  for (const name of names) {
    Object.defineProperty(prototype, name, {
      configurable: true,
      enumerable: false,
      get(): never {
        throw new HerdError(`${objectName}.${name} is not available on the fast engine; run with --engine node`, 'HERD_FAST_ENGINE_UNSUPPORTED');
      },
    });
  }
}

export const REQUEST_UNAVAILABLE = [
  'socket', 'connection', 'on', 'once', 'addListener', 'off', 'removeListener', 'emit', 'pipe', 'unpipe',
  'read', 'setEncoding', 'pause', 'resume', 'destroy', 'setTimeout', 'rawHeaders', 'rawTrailers', 'trailers',
  'headersDistinct', 'httpVersionMajor', 'httpVersionMinor', 'complete', 'aborted', 'readable',
] as const;

export const RESPONSE_UNAVAILABLE = [
  'socket', 'connection', 'addListener', 'off', 'removeListener', 'emit', 'pipe', 'cork', 'uncork',
  'destroy', 'setTimeout', 'flushHeaders', 'writeContinue', 'writeProcessing', 'writeEarlyHints', 'addTrailers',
  'req', 'sendDate', 'chunkedEncoding', 'strictContentLength', 'writableCorked', 'writableLength',
] as const;
