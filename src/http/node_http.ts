// node:http, without the 13 MB that `import http from 'node:http'` costs every process that loads it.
// An ES module import builds the module's namespace by reading every export, and reading http's lazy
// WebSocket, CloseEvent and MessageEvent getters loads undici (measured on Node 24: a worker's RSS
// 61 MB with the import, 48 MB with this). getBuiltinModule returns the same object, getters untouched.
const http: typeof import('node:http') = process.getBuiltinModule('node:http');
export default http;
