#!/usr/bin/env -S node --heap-growing-percent=50 --expose-gc
// The `nowcast` command: runs app/main.ts through tsx in this process (so signals reach it
// directly). tsx is resolved next to this file, from the package's own node_modules, so the
// command works from any working directory. The shebang carries app/node-flags.ts's flags.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../app/main.ts', import.meta.url).href);
