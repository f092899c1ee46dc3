#!/usr/bin/env node
// The installed `tasklane` command. It lives outside dist/ so that npm can link it at install time,
// before the TypeScript build (the root `prepare` script) has produced dist/.
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('tasklane: not built yet; run `npm run build` at the repository root.\n');
    process.exit(1);
  }
  throw err;
});
