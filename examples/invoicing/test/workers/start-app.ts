// Starts the app from the environment, says which stores it chose, and stops.
import { startApp } from '../../src/app.js';

const app = await startApp({ config: { port: 0 } });
console.log(`started; mongo stores: ${app.services.mongo ? 'yes' : 'no'}`);
await app.close();
