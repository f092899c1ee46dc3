/**
 * The `type` label of every per-type metric, with its cardinality bounded: the first 200 distinct
 * types a node sees keep their name, every later one is counted under `_other`. A node restart
 * starts the list afresh (Prometheus sees a new series then, as after any restart).
 */
export const OTHER_TYPE = '_other';
export const MAX_TYPE_LABELS = 200;

export class TypeLabels {
  private readonly known = new Set<string>();

  constructor(private readonly max: number = MAX_TYPE_LABELS) {}

  /** The label value for this type: itself while there is room or once admitted, else `_other`. */
  of(type: string): string {
    if (this.known.has(type)) return type;
    if (this.known.size >= this.max) return OTHER_TYPE;
    this.known.add(type);
    return type;
  }
}
