// The Express app every server in bench:memory runs: herd takes the default export; the others
// start it through express_listen.js.
import express from 'express';

const app = express();
app.get('/', (req, res) => res.send('Hello, World!'));
export default app;
