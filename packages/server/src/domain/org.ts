/** An org: the tenant that owns tasks, keys and projects; nothing crosses from one org to another. */
export interface Org {
  id: string;
  name: string;
  createdAt: number;
}
