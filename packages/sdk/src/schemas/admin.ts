/** Wire schemas of orgs, keys and projects (SPEC §8). */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
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

/** Bounds of the org defaults: the same as a task's own fields (domain LIMITS; a server test checks). */
const MaxRetries = Type.Integer({ minimum: 0, maximum: 100 });
const TtlSeconds = Type.Integer({ minimum: 1, maximum: 315_360_000 });
const OrNull = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const OrgDefaultsSchema = Type.Object(
  {
    maxRetries: OrNull(MaxRetries),
    ttlSeconds: OrNull(TtlSeconds),
  },
  {
    description:
      "What the org's new tasks take when neither the request nor the task's type says; null: the built-in default (3 retries, 30 days)",
  },
);

export const OrgSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Timestamp,
  defaults: OrgDefaultsSchema,
});

/** PATCH /v1/org: fields left out stay as they are; a default set to null goes back to the built-in one. */
export const OrgUpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    defaults: Type.Optional(
      Type.Object(
        {
          maxRetries: Type.Optional(OrNull(MaxRetries)),
          ttlSeconds: Type.Optional(OrNull(TtlSeconds)),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

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

/** `GET /v1/whoami`: the key that made the request, for any valid key (never its secret). */
export const WhoamiSchema = Type.Object({
  keyId: Type.String(),
  name: Type.String(),
  orgId: Type.String(),
  scopes: Type.Array(ScopeSchema),
});

export type { Scope } from '../vocabulary.js';
export type OrgCreate = Static<typeof OrgCreateBody>;
export type OrgCreated = Static<typeof OrgCreatedSchema>;
export type OrgInfo = Static<typeof OrgSchema>;
export type OrgDefaults = Static<typeof OrgDefaultsSchema>;
export type OrgUpdate = Static<typeof OrgUpdateBody>;
export type KeyCreate = Static<typeof KeyCreateBody>;
export type KeyInfo = Static<typeof KeySchema>;
export type KeyWithSecret = Static<typeof KeyWithSecretSchema>;
export type ProjectCreate = Static<typeof ProjectCreateBody>;
export type ProjectInfo = Static<typeof ProjectSchema>;
export type Whoami = Static<typeof WhoamiSchema>;
