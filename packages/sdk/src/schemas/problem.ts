/** RFC 9457 problem details, as every Tasklane error is answered (SPEC §9), as application/problem+json. */
import { Type, type Static } from '@sinclair/typebox';

export const FieldErrorSchema = Type.Object({
  path: Type.String({
    description: 'A JSON Pointer into the body (`/tasks/3/type`), or the part and name (`params/taskId`, `cursor`)',
  }),
  message: Type.String(),
});

/**
 * The body of every error answer. `code` is a string here: a client must not break on a code a
 * newer server adds. The server's /openapi.json narrows it to the catalogue's codes.
 */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: '`/docs/errors#<code in lower case>`: where the code is explained' }),
    title: Type.String({ description: 'Fixed per code' }),
    status: Type.Integer({ minimum: 400, maximum: 599, description: 'The HTTP status, repeated' }),
    detail: Type.String({ description: 'What went wrong in this request, for people; do not parse it' }),
    code: Type.String({ description: 'A code of the error catalogue (docs/errors.md): branch on this' }),
    requestId: Type.String({ description: 'The X-Request-Id of the answer' }),
    errors: Type.Optional(Type.Array(FieldErrorSchema, { description: 'Only when single fields are at fault' })),
  },
  { description: 'Problem details (RFC 9457)' },
);

export type Problem = Static<typeof ProblemSchema>;
