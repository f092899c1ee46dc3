/** What an API key may do (SPEC §8): each route asks for one of these. */
export const SCOPES = ['tasks:read', 'tasks:write', 'tasks:work', 'admin', 'root'] as const;
export type Scope = (typeof SCOPES)[number];
