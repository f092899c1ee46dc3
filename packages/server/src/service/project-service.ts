/** Projects: long-lived containers whose tasks get identifiers `KEY-1`, `KEY-2`, … (SPEC §1). */
import { TasklaneError } from '../domain/errors.js';
import type { Project } from '../domain/project.js';
import type { TaskStore } from '../storage/task-store.js';
import { UUID_PATTERN, newProjectId } from './ids.js';

export class ProjectService {
  constructor(private readonly store: TaskStore) {}

  create(orgId: string, input: { key: string; name: string }): Promise<Project> {
    return this.store.write(async (tx) => {
      if ((await tx.getProjectByKey(orgId, input.key)) !== null) {
        throw new TasklaneError('CONFLICT', `A project with key '${input.key}' exists in this org.`);
      }
      const project: Project = {
        id: newProjectId(),
        orgId,
        key: input.key,
        name: input.name,
        nextNumber: 1,
        createdAt: tx.now,
      };
      await tx.insertProject(project);
      return project;
    });
  }

  list(orgId: string): Promise<Project[]> {
    return this.store.read((tx) => tx.listProjects(orgId));
  }

  /** By id or by key. */
  async get(orgId: string, ref: string): Promise<Project> {
    const project = await this.store.read((tx) =>
      UUID_PATTERN.test(ref) ? tx.getProject(orgId, ref.toLowerCase()) : tx.getProjectByKey(orgId, ref),
    );
    if (project === null) throw new TasklaneError('NOT_FOUND', 'No such project.');
    return project;
  }
}
