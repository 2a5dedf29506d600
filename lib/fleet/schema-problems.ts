import { distance as levenshtein } from "fastest-levenshtein";
import { z } from "zod";
import { formatPath, SpecProblem } from "./errors";
import { FleetFile, fleetSchema } from "./schema";

/**
 * From zod's issues to problems a user can act on (the field path, the value received, the fix),
 * and the repair that lets the rules across fields run on a file the schema refused.
 */

/**
 * The document with its invalid optional fields and unknown fields removed, and its invalid list
 * items replaced by a placeholder the checker refuses at the same path (so the indices of later
 * items, and of their problems, stay right), when that makes it pass the schema; undefined when it
 * cannot (a required field is bad). All rules then run in one pass: fixing what is reported never
 * reveals a new stage of problems.
 */
export function withoutBadFields(document: unknown, issues: readonly z.core.$ZodIssue[]): FleetFile | undefined {
  const copy = structuredClone(document) as Record<string, unknown>;
  for (const issue of issues) {
    const path = issue.path;
    if (issue.code === "unrecognized_keys") {
      const parent = valueAt(copy, path) as Record<string, unknown> | undefined;
      for (const key of issue.keys) if (parent) delete parent[key];
    } else if (path.length === 1 && path[0] === "name") {
      copy.name = "x"; // reported already; any valid name lets the other rules run
    } else if (path.length > 0 && typeof path[path.length - 1] !== "number") {
      const parent = valueAt(copy, path.slice(0, -1)) as Record<PropertyKey, unknown> | undefined;
      if (parent && typeof parent === "object") delete parent[path[path.length - 1] as string];
    } else if (path.length > 1) {
      const list = valueAt(copy, path.slice(0, -1));
      if (!Array.isArray(list)) return undefined;
      // Images are mappings (an empty one has no source: refused at its own path); other lists hold strings.
      list[path[path.length - 1] as number] = path[path.length - 2] === "images" ? {} : "";
    } else {
      return undefined;
    }
  }
  const reparsed = fleetSchema.safeParse(copy);
  return reparsed.success ? reparsed.data : undefined;
}

/** Turns zod issues into problems with field paths and fixes. */
export function schemaProblems(file: string, issues: readonly z.core.$ZodIssue[], document: unknown): SpecProblem[] {
  const problems: SpecProblem[] = [];
  // Fields a misspelt key most likely meant: one mistake, one message (not also "is required").
  const meant = new Set<string>();
  const visit = (issue: z.core.$ZodIssue, prefix: readonly PropertyKey[]) => {
    const pathParts = [...prefix, ...issue.path];
    const path = formatPath(pathParts);
    const received = valueAt(document, pathParts);
    switch (issue.code) {
      case "unrecognized_keys":
        for (const key of issue.keys) {
          const allowed = allowedKeys(pathParts);
          const guess = allowed.find((k) => k.toLowerCase() === key.toLowerCase()) ?? nearestName(key, allowed);
          if (guess !== undefined) meant.add(formatPath([...pathParts, guess]));
          problems.push({
            file,
            path: formatPath([...pathParts, key]),
            message: `unknown field "${key}"`,
            fix: guess ? `Did you mean "${guess}"?` : `Remove it (allowed here: ${allowed.join(", ")})`,
          });
        }
        return;
      case "invalid_union": {
        // Report the branch whose shape matched the value (an object for an object), not both.
        const branch =
          issue.errors.find((errs) => errs.every((e) => !(e.code === "invalid_type" && e.path.length === 0))) ??
          issue.errors[0];
        if (branch.every((e) => e.code === "invalid_type" && e.path.length === 0)) {
          problems.push({ file, path, message: `got ${describe(received)}`, fix: "Write a Region name, or an object with a region field" });
          return;
        }
        branch.forEach((e) => visit(e, pathParts));
        return;
      }
      case "invalid_type":
        problems.push(
          received === undefined
            ? { file, path, message: "is required", fix: `Add ${path}` }
            : { file, path, message: `must be ${article(issue.expected)}, got ${describe(received)}`, fix: `Write ${path} as ${article(issue.expected)}` },
        );
        return;
      case "too_small":
        problems.push({
          file,
          path,
          message: issue.origin === "array" ? "must not be empty" : `is too short (${describe(received)})`,
          fix: issue.origin === "array" ? `List at least ${issue.minimum} item` : `Use at least ${issue.minimum} characters`,
        });
        return;
      case "too_big":
        problems.push({ file, path, message: `is too long`, fix: `Use at most ${issue.maximum} ${issue.origin === "array" ? "items" : "characters"}` });
        return;
      default:
        problems.push({
          file,
          path,
          message: `${issue.message}, got ${describe(received)}`,
          fix: FORMAT_EXAMPLES[String(pathParts[pathParts.length - 1])] ?? `Fix ${path || "the file"}`,
        });
    }
  };
  issues.forEach((issue) => visit(issue, []));
  return problems.filter((p) => !(p.message === "is required" && meant.has(p.path)));
}

const FORMAT_EXAMPLES: Record<string, string> = {
  name: "For example: golden-base",
  copyTimeout: "For example: 40m, 2h, 1h30m or 1.5h",
};

function article(type: string): string {
  const names: Record<string, string> = { object: "a mapping", array: "a list", string: "a string", boolean: "true or false", number: "a number", record: "a mapping" };
  return names[type] ?? type;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return JSON.stringify(value);
}

/** The value at a field path of a parsed document; undefined where the path leads nowhere. */
export function valueAt(document: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = document;
  for (const part of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[part as string];
  }
  return node;
}

/** Field names the schema allows at a path, for "did you mean" on unknown fields. */
function allowedKeys(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType | undefined = fleetSchema;
  for (const part of path) schema = schema && childSchema(unwrap(schema), part);
  let object = schema && unwrap(schema);
  if (object instanceof z.ZodUnion) {
    object = (object.options as z.ZodType[]).map(unwrap).find((o) => o instanceof z.ZodObject);
  }
  return object instanceof z.ZodObject ? Object.keys(object.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
  return current;
}

function childSchema(schema: z.ZodType, part: PropertyKey): z.ZodType | undefined {
  if (schema instanceof z.ZodObject) return schema.shape[part as string] as z.ZodType | undefined;
  if (schema instanceof z.ZodArray) return schema.element as z.ZodType;
  if (schema instanceof z.ZodRecord) return schema.valueType as z.ZodType;
  if (schema instanceof z.ZodUnion) {
    return (schema.options as z.ZodType[]).map((o) => childSchema(unwrap(o), part)).find(Boolean) ??
      (schema.options as z.ZodType[]).find((o) => unwrap(o) instanceof z.ZodObject);
  }
  return undefined;
}

/**
 * The allowed name a misspelt one most likely meant: the nearest by edit distance (a third of its
 * length at most, so `acounts` finds `accounts` and `regons` finds `regions`), else one that shares
 * its first four letters (`shares` for `share`).
 */
export function nearestName(key: string, candidates: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const ranked = candidates.map((c) => ({ c, d: levenshtein(lower, c.toLowerCase()) })).sort((a, b) => a.d - b.d);
  if (ranked.length > 0 && ranked[0].d <= Math.max(1, Math.floor(key.length / 3))) return ranked[0].c;
  return candidates.find((c) => c.toLowerCase().startsWith(lower.slice(0, 4)) || lower.startsWith(c.toLowerCase().slice(0, 4)));
}
