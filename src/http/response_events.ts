// The listeners of a fast-engine response: 'drain', 'finish' and 'close', the events a portable
// handler uses. Allocated at a response's first on()/once(): most responses have none.
import { HerdError } from '../errors.ts';
import type { ResponseEvent } from './types.ts';

type Listener = () => void;

export class ResponseEvents {
  private readonly listeners = new Map<ResponseEvent, Listener[]>();

  on(event: ResponseEvent, listener: Listener): void {
    if (event !== 'drain' && event !== 'finish' && event !== 'close') {
      throw new HerdError(`res.on('${String(event)}') is not available on the fast engine; run with --engine node`, 'HERD_FAST_ENGINE_UNSUPPORTED');
    }
    const list = this.listeners.get(event);
    if (list) list.push(listener);
    else this.listeners.set(event, [listener]);
  }

  once(event: ResponseEvent, listener: Listener): void {
    const wrapped = (): void => {
      const list = this.listeners.get(event);
      if (list) list.splice(list.indexOf(wrapped), 1);
      listener();
    };
    this.on(event, wrapped);
  }

  /** Runs the listeners of an event; one added or removed meanwhile does not change this run. */
  fire(event: ResponseEvent): void {
    const list = this.listeners.get(event);
    if (list === undefined || list.length === 0) return;
    for (const listener of list.slice()) listener();
  }
}
