// Preloaded into a Tasklane server node by e2e-throughput.ts --profile (`node --import` this file;
// plain JS because the node runs the built server without tsx). SIGUSR2 starts the V8 CPU
// profiler; the next SIGUSR2 stops it and writes BENCH_PROFILE_FILE (through a temporary file
// renamed at the end, so whoever waits for it never reads half a profile). So the profile covers
// the measured run only: no module loading, schema compilation or warm-up.
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import process from 'node:process';

const file = process.env.BENCH_PROFILE_FILE;
let session = null;

process.on('SIGUSR2', async () => {
  if (session === null) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  } else {
    const s = session;
    session = null;
    const { profile } = await s.post('Profiler.stop');
    s.disconnect();
    writeFileSync(`${file}.tmp`, JSON.stringify(profile));
    renameSync(`${file}.tmp`, file);
  }
});
