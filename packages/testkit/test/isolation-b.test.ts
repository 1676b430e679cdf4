import { isolationSuite } from './isolation-shared.js';

isolationSuite('b');
