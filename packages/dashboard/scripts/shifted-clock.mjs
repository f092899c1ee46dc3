/* global process */
// Preloaded (`node --import`) into the server that the screenshots run, and only there: Date.now()
// runs `offsetMs` behind (or ahead), as the parent sets it over IPC, so the seeded tasks get the
// spread of times real ones have (created days ago, claimed minutes ago) instead of all "just now".
// The server's clock is Date.now() (domain/clock.ts); each change is acknowledged once in effect.
const realNow = Date.now.bind(Date);
let offsetMs = 0;
Date.now = () => realNow() + offsetMs;
process.on('message', (m) => {
  if (m === null || typeof m !== 'object' || m.type !== 'clock') return;
  offsetMs = m.offsetMs;
  process.send?.({ type: 'clock-set', offsetMs });
});
process.channel?.unref();
