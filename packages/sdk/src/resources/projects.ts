/** Projects of the caller's org: the prefixes of task identifiers (`OPS-42`). */
import type { Static } from '@sinclair/typebox';
import type { Requester } from '../request.js';
import type { ProjectCreate, ProjectInfo, ProjectListSchema } from '../schemas/index.js';

export class ProjectsResource {
  constructor(private readonly client: Requester) {}

  async create(body: ProjectCreate): Promise<ProjectInfo> {
    return (await this.client.request<ProjectInfo>('POST', '/v1/projects', { body })).body;
  }

  async list(): Promise<ProjectInfo[]> {
    return (await this.client.request<Static<typeof ProjectListSchema>>('GET', '/v1/projects')).body.items;
  }

  /** By id or by key (`OPS`). */
  async get(idOrKey: string): Promise<ProjectInfo> {
    return (await this.client.request<ProjectInfo>('GET', `/v1/projects/${encodeURIComponent(idOrKey)}`)).body;
  }
}
