#!/usr/bin/env node
import { main } from './main.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// After Ctrl-C, some SDKs keep a request open that was aborted (an aborted GCS resumable upload does:
// nodejs-storage #2367), which would keep the process alive. Node exits by itself when nothing is
// pending; otherwise this ends a cancelled run a second later.
if (code === 130 || code === 143) setTimeout(() => process.exit(code), 1_000).unref();
