/**
 * The callbacks a create names (docs/webhooks.md): each URL allowed by the address rules, and
 * callbackEvents only beside a callbackUrl (the schema's dependentRequired, which the validator
 * does not enforce).
 */
import { TasklaneError } from '../domain/errors.js';

/** callbackEvents needs a callbackUrl (the schema's dependentRequired), which must be allowed. */
export async function checkCallback(
  t: { callbackUrl?: string; callbackEvents?: unknown },
  at: string,
  check: (url: string, path: string) => Promise<void>,
): Promise<void> {
  if (t.callbackUrl !== undefined) return check(t.callbackUrl, `${at}/callbackUrl`);
  if (t.callbackEvents !== undefined) {
    throw new TasklaneError('VALIDATION_FAILED', 'callbackEvents needs a callbackUrl.', {
      errors: [{ path: `${at}/callbackEvents`, message: 'needs callbackUrl' }],
    });
  }
}

/**
 * A batch's callbacks: each distinct URL resolved once, all at once (a thousand items naming one
 * receiver cost one lookup); the first refused item, in order, answers with its own path.
 */
export async function checkCallbacks(
  items: ReadonlyArray<{ callbackUrl?: string; callbackEvents?: unknown }>,
  check: (url: string, path: string) => Promise<void>,
): Promise<void> {
  const outcomes = new Map<string, Promise<unknown>>();
  const outcomeOf = (url: string, path: string): Promise<unknown> => {
    let outcome = outcomes.get(url);
    if (outcome === undefined) {
      // The first item naming the URL is the first to be refused for it: its path is the one to name.
      outcome = check(url, path).then(
        () => null,
        (err: unknown) => err,
      );
      outcomes.set(url, outcome);
    }
    return outcome;
  };
  const refusals = items.map((t, i) =>
    t.callbackUrl === undefined ? null : outcomeOf(t.callbackUrl, `/tasks/${i}/callbackUrl`),
  );
  for (const [i, t] of items.entries()) {
    const refused = await refusals[i];
    if (refused !== null && refused !== undefined) throw refused;
    await checkCallback(t, `/tasks/${i}`, async () => undefined);
  }
}
