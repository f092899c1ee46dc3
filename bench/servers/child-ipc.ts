/**
 * Child side of a server process: say where it listens, profile on request, close when the parent
 * says stop. The profiler runs only between `profile-start` and `profile-stop`, so a profile holds
 * the load it was asked about, not start-up (module loading, schema compilation).
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'stop' }
  | { type: 'profile-start' }
  | { type: 'profile-started' }
  | { type: 'profile-stop'; file: string }
  | { type: 'profile-written'; file: string };

export function announce(url: string, close: () => Promise<void>): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('Start this file through bench/get-task.ts (it needs an IPC channel).');
  const reply = (m: ChildMessage) => send(m);
  let session: Session | null = null;
  process.on('message', async (m: ChildMessage) => {
    if (m.type === 'stop') {
      await close();
      process.exit(0);
    } else if (m.type === 'profile-start') {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
      reply({ type: 'profile-started' });
    } else if (m.type === 'profile-stop' && session !== null) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      session = null;
      writeFileSync(m.file, JSON.stringify(profile));
      reply({ type: 'profile-written', file: m.file });
    }
  });
  // The parent died: nobody will ever say stop.
  process.on('disconnect', () => process.exit(1));
  reply({ type: 'ready', url });
}

export function requiredEnv(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is not set`);
  return v;
}
