// The same Express app as a plain node:http process listening on PORT, as PM2 and node's cluster run it.
import app from './express_app.js';

app.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
