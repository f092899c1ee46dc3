/** Wire schemas of orgs, keys and projects (SPEC §8). */
import { Type, type Static } from '@sinclair/typebox';
import { SCOPES } from '../vocabulary.js';

const Timestamp = Type.String({ format: 'date-time' });

/** @deprecated The same list as `SCOPES` of the vocabulary (`@tasklane/sdk/vocabulary`); use that. */
export const SCOPE_VALUES = SCOPES;
export const ScopeSchema = Type.Union(SCOPES.map((s) => Type.Literal(s)));

export const OrgCreateBody = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9-]{2,63}$', description: 'lower-case letters, digits and dashes, 2-63' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

export const OrgSchema = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Timestamp });

export const KeyCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: 5, uniqueItems: true }),
    expiresAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

export const KeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(ScopeSchema),
  createdAt: Timestamp,
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  revokedAt: Type.Union([Timestamp, Type.Null()]),
});

export const KeyWithSecretSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(ScopeSchema),
  secret: Type.String({ description: 'Shown once, now; only its SHA-256 is stored' }),
  createdAt: Timestamp,
  expiresAt: Type.Union([Timestamp, Type.Null()]),
});

export const OrgCreatedSchema = Type.Object({ org: OrgSchema, adminKey: KeyWithSecretSchema });
export const KeyListSchema = Type.Object({ items: Type.Array(KeySchema) });

export const PROJECT_KEY_PATTERN = '^[A-Z][A-Z0-9]{1,9}$';

export const ProjectCreateBody = Type.Object(
  {
    key: Type.String({ pattern: PROJECT_KEY_PATTERN, description: 'Identifier prefix: OPS gives OPS-1, OPS-2, …' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

export const ProjectSchema = Type.Object({
  id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  createdAt: Timestamp,
});
export const ProjectListSchema = Type.Object({ items: Type.Array(ProjectSchema) });

export type { Scope } from '../vocabulary.js';
export type OrgCreate = Static<typeof OrgCreateBody>;
export type OrgCreated = Static<typeof OrgCreatedSchema>;
export type KeyCreate = Static<typeof KeyCreateBody>;
export type KeyInfo = Static<typeof KeySchema>;
export type KeyWithSecret = Static<typeof KeyWithSecretSchema>;
export type ProjectCreate = Static<typeof ProjectCreateBody>;
export type ProjectInfo = Static<typeof ProjectSchema>;
