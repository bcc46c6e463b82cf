import { runLibraryDemo } from './library-demo.js';

/** `npm start`: the demo on the embedded local AWS; exits non-zero if an invariant broke. */
const ok = await runLibraryDemo({ workers: 12, concurrency: 3, workMs: 400 });
process.exitCode = ok ? 0 : 1;
