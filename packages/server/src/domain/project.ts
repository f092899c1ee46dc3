/** A project: groups tasks and gives them readable identifiers (`OPS-42`). */
export interface Project {
  id: string;
  orgId: string;
  key: string;
  name: string;
  /** The number the next task of this project gets (`OPS-<n>`); never reused. */
  nextNumber: number;
  createdAt: number;
}
