/** RFC 9457 problem details, as every Tasklane error is answered (SPEC §9). */
import { Type, type Static } from '@sinclair/typebox';

export const ProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String(),
  requestId: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
});

export type Problem = Static<typeof ProblemSchema>;
