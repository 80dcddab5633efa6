// What `import ... from 'herd'` gives an app: the handler API's types (the portable subset of
// node:http's request and response that both engines serve). The runtime is the `herd` command.
export type {
  Handler, IncomingHeaders, OutgoingHeaders, OutgoingHeaderValue, Request, Response, ResponseEvent,
} from './http/types.ts';
