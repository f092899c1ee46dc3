/** Projects: `POST/GET /v1/projects`, `GET /v1/projects/{id or key}`. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ProjectCreateBody, ProjectListSchema, ProjectSchema } from '@tasklane/sdk/schemas';
import type { ProjectService } from '../../service/project-service.js';
import { principalOf } from '../auth.js';
import { documented, json } from '../openapi-answers.js';
import { presentProject } from '../presenters.js';

export const projectRoutes: FastifyPluginAsyncTypebox<{ projects: ProjectService }> = async (app, { projects }) => {
  app.post(
    '/v1/projects',
    documented(
      'POST',
      {
        config: { scope: 'tasks:write' },
        schema: {
          tags: ['projects'],
          summary: 'Create a project',
          body: ProjectCreateBody,
          response: { 201: json(ProjectSchema, 'Created') },
        },
      },
      ['CONFLICT'],
    ),
    async (request, reply) =>
      reply.code(201).send(presentProject(await projects.create(principalOf(request).orgId, request.body))),
  );

  app.get(
    '/v1/projects',
    documented('GET', {
      config: { scope: 'tasks:read' },
      schema: {
        tags: ['projects'],
        summary: 'List projects',
        response: { 200: json(ProjectListSchema, 'The projects of the org, by key') },
      },
    }),
    async (request) => ({ items: (await projects.list(principalOf(request).orgId)).map(presentProject) }),
  );

  app.get(
    '/v1/projects/:projectId',
    documented(
      'GET',
      {
        config: { scope: 'tasks:read' },
        schema: {
          tags: ['projects'],
          summary: 'Get a project by id or key',
          params: Type.Object({ projectId: Type.String({ maxLength: 64 }) }),
          response: { 200: json(ProjectSchema, 'The project') },
        },
      },
      ['NOT_FOUND'],
    ),
    async (request) => presentProject(await projects.get(principalOf(request).orgId, request.params.projectId)),
  );
};
