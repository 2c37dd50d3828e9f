export { Io } from './io.js';
export { main, VERSION } from './main.js';
