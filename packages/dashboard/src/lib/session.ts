/**
 * The signed-in key: kept in sessionStorage (this tab only, gone when it closes), never in
 * localStorage, a cookie or a URL, and never logged. What the key may do comes from GET /v1/whoami.
 */
import { TasklaneApiError, TasklaneClient, type Scope, type Whoami } from '@tasklane/sdk';

const STORAGE_KEY = 'tasklane.key';

export interface Session {
  client: TasklaneClient;
  key: string;
  who: Whoami;
}

export function newClient(key: string): TasklaneClient {
  return new TasklaneClient({ url: location.origin, key, fetch: (input, init) => fetch(input, init) });
}

/** Checks the key with the server; throws TasklaneApiError (401: not a valid key). */
export async function signIn(key: string): Promise<Session> {
  const client = newClient(key);
  const who = await client.keys.whoami();
  sessionStorage.setItem(STORAGE_KEY, key);
  return { client, key, who };
}

/** The key this tab signed in with, if it still works. */
export async function resume(): Promise<Session | null> {
  const key = sessionStorage.getItem(STORAGE_KEY);
  if (key === null) return null;
  try {
    return await signIn(key);
  } catch (err) {
    if (err instanceof TasklaneApiError && err.status === 401) sessionStorage.removeItem(STORAGE_KEY);
    throw err;
  }
}

export function signOut(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** Whether the key holds `scope`: admin holds every task scope, root everything (as the server rules). */
export function can(who: Whoami, scope: Scope): boolean {
  if (who.scopes.includes('root') || who.scopes.includes(scope)) return true;
  return scope !== 'root' && who.scopes.includes('admin');
}

/** A message for a failed call, for people: the server's detail, or what went wrong on the way. */
export function describeError(err: unknown): string {
  if (err instanceof TasklaneApiError) return err.detail;
  if (err instanceof Error) return err.message;
  return String(err);
}
