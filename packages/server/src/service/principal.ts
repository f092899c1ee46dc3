/** Who is calling: the key's org, name and scopes, as authentication established them. */
import type { Scope } from '../domain/scope.js';

export interface Principal {
  orgId: string;
  keyId: string;
  keyName: string;
  scopes: readonly Scope[];
}

/** `admin` holds every task scope of its org; `root` holds everything. (`p`: a principal, or a key.) */
export function hasScope(p: { readonly scopes: readonly Scope[] }, needed: Scope): boolean {
  if (p.scopes.includes('root') || p.scopes.includes(needed)) return true;
  return needed !== 'root' && p.scopes.includes('admin');
}
