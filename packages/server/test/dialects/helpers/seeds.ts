/**
 * The seed documents of ../shared/seeds, read as they are: each product's own schema (an OpenAPI YAML
 * block, a JSON example, a field table) is extracted from the document and turned into a JSON Schema,
 * so that a dialect's answers are checked against the product's words, never against a retyped copy.
 */
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

export type JsonSchema = Record<string, unknown>;

/** The project's shared folder, beside the repository (where CI and every session have it). */
export const SHARED_SEEDS_DIR = fileURLToPath(new URL('../../../../../../shared/seeds/', import.meta.url));
/** A verbatim copy, for a clone without the shared folder beside it; a test keeps it equal to the original. */
export const COPIED_SEEDS_DIR = fileURLToPath(new URL('../seeds/', import.meta.url));

const SEEDS_DIR =
  process.env.TASKLANE_SEEDS_DIR ?? (existsSync(SHARED_SEEDS_DIR) ? SHARED_SEEDS_DIR : COPIED_SEEDS_DIR);

/** The text of the seed whose file name starts with `prefix` (`000`, `001`, …). */
export function seedText(prefix: string): string {
  const name = readdirSync(SEEDS_DIR).find((f) => f.startsWith(`${prefix}_`));
  if (name === undefined) throw new Error(`no seed ${prefix}_* in ${SEEDS_DIR}`);
  return readFileSync(join(SEEDS_DIR, name), 'utf8');
}

/** The body of the first fenced block of `lang` (``` or ````). */
export function fencedBlock(text: string, lang: string): string {
  const match = new RegExp('^(`{3,})' + lang + '\\b[^\\n]*\\n([\\s\\S]*?)^\\1\\s*$', 'm').exec(text);
  if (match === null) throw new Error(`no ${lang} block in the seed`);
  return match[2] ?? '';
}

/** `components.schemas` of the seed's OpenAPI YAML block. */
export function openApiSchemas(text: string): Record<string, JsonSchema> {
  const doc = parseYaml(fencedBlock(text, 'yaml')) as { components: { schemas: Record<string, JsonSchema> } };
  return doc.components.schemas;
}

/** The seed's JSON example. */
export function jsonExample(text: string): unknown {
  return JSON.parse(fencedBlock(text, 'json'));
}

/**
 * A schema from an example value: every key of every object is required with the JSON type of its
 * example value (integers as integers). Objects named in `freeForm` are data maps (any keys); `null`
 * in the example admits only null.
 */
export function schemaFromExample(value: unknown, freeForm: ReadonlySet<string> = new Set(), name = ''): JsonSchema {
  if (value === null) return { type: 'null' };
  if (Array.isArray(value)) {
    return value.length === 0 ? { type: 'array' } : { type: 'array', items: schemaFromExample(value[0], freeForm) };
  }
  switch (typeof value) {
    case 'string':
      return { type: 'string' };
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      return { type: Number.isInteger(value) ? 'integer' : 'number' };
    case 'object': {
      if (freeForm.has(name)) return { type: 'object' };
      const entries = Object.entries(value as Record<string, unknown>);
      return {
        type: 'object',
        required: entries.map(([k]) => k),
        properties: Object.fromEntries(entries.map(([k, v]) => [k, schemaFromExample(v, freeForm, k)])),
      };
    }
    default:
      throw new Error(`no schema for ${typeof value}`);
  }
}

const TYPE_LINE = /^(string|number|integer|boolean|object|Array<(\w+)>)(?: format: (\S+))?$/;

/**
 * QuantCDN's rendered field list (name, description, `type format: x`, `nullable`, `<= 1`,
 * `Allowed values: …`), between the response's `object` line and `Example`, as a schema that admits
 * exactly those fields (`additionalProperties: false`) and requires the ones the example shows.
 */
export function quantFieldSchema(text: string): { schema: JsonSchema; example: unknown } {
  const start = text.indexOf('Media typeapplication/json');
  const end = text.indexOf('\nExample', start);
  const lines = text
    .slice(start, end)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  lines.splice(0, lines.indexOf('object') + 1);
  const fields = new Map<string, JsonSchema & { nullable?: boolean }>();
  let current: (JsonSchema & { nullable?: boolean }) | null = null;
  for (const line of lines) {
    const type = TYPE_LINE.exec(line);
    const max = /^<= ([\d.]+)$/.exec(line);
    const allowed = /^Allowed values: (.+)$/.exec(line);
    if (type !== null && current !== null && current.type === undefined) {
      if (type[2] !== undefined) {
        current.type = 'array';
        current.items = { type: type[2] };
      } else {
        current.type = type[1];
      }
      if (type[3] !== undefined) current.format = type[3];
    } else if (line === 'nullable' && current !== null) {
      current.nullable = true;
    } else if (max !== null && current !== null) {
      current.maximum = Number(max[1]);
    } else if (allowed !== null && current !== null) {
      current.enum = allowed[1]?.split(/\s+/);
    } else if (/^[a-z][A-Za-z]*$/.test(line)) {
      current = {};
      fields.set(line, current);
    }
  }
  const properties = Object.fromEntries(
    [...fields].map(([name, { nullable, ...s }]) => {
      if (nullable !== true) return [name, s];
      const { enum: values, ...rest } = s;
      return [
        name,
        { ...rest, type: [s.type, 'null'], ...(values === undefined ? {} : { enum: [...(values as string[]), null] }) },
      ];
    }),
  );
  const example = JSON.parse(text.slice(text.indexOf('{', end), text.lastIndexOf('}') + 1));
  return {
    schema: { type: 'object', properties, required: Object.keys(example as object), additionalProperties: false },
    example,
  };
}

/**
 * A markdown table `| \`field\` | type | … |` after `heading` as a schema: every field required, no other
 * field; `object \| null` admits both; an array's items take the shape of the example's first item.
 */
export function markdownFieldSchema(text: string, heading: string, example: Record<string, unknown>): JsonSchema {
  const at = text.indexOf(heading);
  const rows = text
    .slice(at)
    .split('\n')
    .filter((l) => /^\|\s*`\w+`/.test(l));
  const properties: Record<string, JsonSchema> = {};
  for (const row of rows) {
    const [, name, type] = /^\|\s*`(\w+)`\s*\|\s*([^|]+?)\s*\|/.exec(row.replace('\\|', '¦')) ?? [];
    if (name === undefined || type === undefined) continue;
    const types = type.split('¦').map((t) => t.trim());
    const schema: JsonSchema = { type: types.length === 1 ? types[0] : types };
    if (types.includes('array')) schema.items = schemaFromExample((example[name] as unknown[])[0]);
    properties[name] = schema;
  }
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

/** A JSON Schema 2020-12 validator with the formats OpenAPI documents use. */
export function makeValidator(): Ajv2020.default {
  return addFormats.default(new Ajv2020.default({ allErrors: true, strict: false }));
}
