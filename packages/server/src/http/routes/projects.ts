/** Projects: `POST/GET /v1/projects`, `GET /v1/projects/{id or key}`. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ProjectCreateBody, ProjectListSchema, ProjectSchema } from '@tasklane/sdk/schemas';
import type { ProjectService } from '../../service/project-service.js';
import { principalOf } from '../auth.js';
import { ProblemResponses } from '../openapi.js';
import { presentProject } from '../presenters.js';

export const projectRoutes: FastifyPluginAsyncTypebox<{ projects: ProjectService }> = async (app, { projects }) => {
  app.post(
    '/v1/projects',
    {
      config: { scope: 'tasks:write' },
      schema: {
        tags: ['projects'],
        summary: 'Create a project',
        body: ProjectCreateBody,
        response: { 201: ProjectSchema, ...ProblemResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(presentProject(await projects.create(principalOf(request).orgId, request.body))),
  );

  app.get(
    '/v1/projects',
    {
      config: { scope: 'tasks:read' },
      schema: {
        tags: ['projects'],
        summary: 'List projects',
        response: { 200: ProjectListSchema, ...ProblemResponses },
      },
    },
    async (request) => ({ items: (await projects.list(principalOf(request).orgId)).map(presentProject) }),
  );

  app.get(
    '/v1/projects/:projectId',
    {
      config: { scope: 'tasks:read' },
      schema: {
        tags: ['projects'],
        summary: 'Get a project by id or key',
        params: Type.Object({ projectId: Type.String({ maxLength: 64 }) }),
        response: { 200: ProjectSchema, ...ProblemResponses },
      },
    },
    async (request) => presentProject(await projects.get(principalOf(request).orgId, request.params.projectId)),
  );
};
