import type { Scope } from './scope.js';

/** An API key of one org. The secret itself is never stored, only its hash. */
export interface ApiKey {
  id: string;
  orgId: string;
  name: string;
  scopes: Scope[];
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  hash: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}
