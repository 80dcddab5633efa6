// The Express app every server in bench:memory runs: herd takes the default export; the others
// start it through express_listen.js. ACCESS_LOG=1 adds morgan's combined line per request on stdout:
// an app's access log under PM2, whose daemon writes the workers' stdout to its log files.
import express from 'express';
import morgan from 'morgan';

const app = express();
if (process.env.ACCESS_LOG === '1') app.use(morgan('combined'));
app.get('/', (req, res) => res.send('Hello, World!'));
export default app;
