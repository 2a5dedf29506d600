import * as fs from "fs";
import * as path from "path";
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml";
import { FleetSpecError, quoteValue, SpecProblem } from "./errors";
import { Fleet, renderCopyName } from "./fleet";
import { validateFleet } from "./validate";

/** File endings read as fleet files. */
export const FLEET_FILE_PATTERN = /\.(ya?ml|json)$/i;

/** The default place for fleet files, relative to the working directory. */
export const DEFAULT_FLEET_DIR = "fleets";

/**
 * Reads and validates fleet files. Directories are read one level deep for *.yaml, *.yml and
 * *.json. Every problem of every file is collected; when there is any, throws one FleetSpecError
 * and returns nothing, so no caller ever works on a partly valid set of fleets.
 */
export function loadFleets(paths: readonly string[] = [DEFAULT_FLEET_DIR]): Fleet[] {
  const problems: SpecProblem[] = [];
  const files = expandPaths(paths, problems);
  const fleets: Fleet[] = [];
  // Partly valid fleets take part in the checks across files, so every problem shows in one run.
  const checked: Fleet[] = [];
  for (const file of files) {
    try {
      const document = readFleetDocument(file, problems);
      if (document === undefined) continue;
      const result = validateFleet(file, document);
      if (result.ok) fleets.push(result.fleet);
      else problems.push(...result.problems);
      if (result.fleet) checked.push(result.fleet);
    } catch (error) {
      // Nothing in a file may escape this function's contract (throw FleetSpecError or return fleets).
      problems.push({ file, path: "", message: `cannot be validated: ${(error as Error)?.message ?? String(error)}`, fix: "Report this as a bug of ami-fleet" });
    }
  }
  problems.push(...crossFleetProblems(checked));
  if (problems.length > 0) throw new FleetSpecError(problems);
  return fleets;
}

function expandPaths(paths: readonly string[], problems: SpecProblem[]): string[] {
  const files: string[] = [];
  for (const given of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(given);
    } catch (error) {
      problems.push({ file: given, path: "", message: describeFileError(error), fix: "Check the path" });
      continue;
    }
    if (stat.isDirectory()) {
      const inDir = fs
        .readdirSync(given)
        .filter((name) => FLEET_FILE_PATTERN.test(name))
        .sort()
        .map((name) => path.join(given, name));
      if (inDir.length === 0) {
        problems.push({ file: given, path: "", message: "holds no fleet files", fix: "Add a .yaml, .yml or .json fleet file" });
      }
      files.push(...inDir);
    } else {
      files.push(given);
    }
  }
  return [...new Set(files)];
}

/** The largest fleet file read: a fleet of hundreds of accounts is a few tens of KiB. */
export const MAX_FLEET_FILE_BYTES = 1024 * 1024;

/** Aliases one file may expand (YAML's alias bombs expand a few lines into gigabytes). */
const MAX_ALIAS_COUNT = 100;

/**
 * Reads one fleet file: YAML, or strict JSON for a `.json` file. Refuses, with a message naming the
 * file, what is not a single text document of reasonable size: over 1 MiB, binary or not UTF-8,
 * several documents, duplicate or `__proto__` keys, alias bombs, nesting the parser cannot follow.
 * Never throws for the file's content.
 */
export function readFleetDocument(file: string, problems: SpecProblem[]): unknown {
  const problem = (path: string, message: string, fix: string) => {
    problems.push({ file, path, message, fix });
    return undefined;
  };
  let bytes: Buffer;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return problem("", "is not a regular file", "Give a fleet file or a directory of them");
    if (stat.size > MAX_FLEET_FILE_BYTES) {
      return problem("", `is ${(stat.size / 1024 / 1024).toFixed(1)} MiB; a fleet file is at most 1 MiB`, "Split it into several fleets, or check that it is the right file");
    }
    bytes = fs.readFileSync(file);
  } catch (error) {
    return problem("", describeFileError(error), "Check the path and its permissions");
  }
  if (bytes.includes(0)) return problem("", "is not a text file (it holds NUL bytes)", "Give a YAML or JSON fleet file");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return problem("", "is not valid UTF-8 text", "Save it as UTF-8");
  }
  if (/\.json$/i.test(file)) {
    try {
      JSON.parse(text);
    } catch (error) {
      const message = (error as Error).message;
      const position = Number(/at position (\d+)/.exec(message)?.[1]);
      const before = Number.isFinite(position) ? text.slice(0, position).split("\n") : undefined;
      return problem(
        before ? `line ${before.length}, column ${before[before.length - 1].length + 1}` : "",
        `is not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, "")}`,
        "Fix the JSON syntax (JSON allows no trailing commas or comments; a .yaml file does)",
      );
    }
  }
  const lineCounter = new LineCounter();
  let documents: ReturnType<typeof parseAllDocuments>;
  try {
    documents = parseAllDocuments(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  } catch (error) {
    return problem("", `cannot be parsed: ${(error as Error).message}`, "Fix the YAML/JSON syntax");
  }
  const list = Array.isArray(documents) ? documents : [];
  if (list.length > 1) {
    return problem("", `holds ${list.length} YAML documents (separated by ---); a fleet file holds one fleet`, "Put each fleet in a file of its own");
  }
  const document = list[0];
  if (!document || document.contents === null) return problem("", "is empty", "Write a fleet: a mapping with name, source and regions (see fleets/)");
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      const tooDeep = /call stack/i.test(error.message);
      problems.push({
        file,
        path: `line ${line}, column ${col}`,
        message: tooDeep ? "is nested too deeply to be read" : error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, ""),
        fix: tooDeep ? "A fleet file nests a few levels: check the brackets" : "Fix the YAML/JSON syntax",
      });
    }
    return undefined;
  }
  if (!isMap(document.contents)) {
    return problem("", "is not a fleet (expected a mapping with name, source, regions)", "See fleets/ for examples");
  }
  const before = problems.length;
  checkKeys(document.contents, lineCounter, (path, message, fix) => problem(path, message, fix));
  if (problems.length > before) return undefined;
  try {
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return /alias/i.test((error as Error).message)
      ? problem("", `its YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} expansions)`, "Write the values out, or use fewer aliases (*name)")
      : problem("", `cannot be read: ${(error as Error).message}`, "Fix the YAML/JSON syntax");
  }
}

/**
 * Duplicate keys (YAML and JSON both let the last one win silently) and `__proto__` keys (which
 * JavaScript objects treat specially), in one pass over the document: a Set per mapping, so a
 * mapping of n keys costs n, not n².
 */
function checkKeys(root: unknown, lines: LineCounter, report: (path: string, message: string, fix: string) => void): void {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        const where = () => {
          const offset = (pair.key as { range?: [number] } | null)?.range?.[0];
          if (offset === undefined) return "";
          const { line, col } = lines.linePos(offset);
          return `line ${line}, column ${col}`;
        };
        if (key === "__proto__") report(where(), 'the key "__proto__" is not allowed', "Rename it");
        else if (seen.has(key)) report(where(), `duplicate key ${quoteValue(key)}`, "Keep one of them");
        seen.add(key);
        pending.push(pair.value);
      }
    } else if (isSeq(node)) {
      pending.push(...node.items);
    }
  }
}

function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "ELOOP":
      return "is a symbolic link loop (it points back at itself)";
    case "EACCES":
    case "EPERM":
      return "cannot be read (permission denied)";
    case "EISDIR":
      return "is a directory";
    default:
      return `cannot be read (${code ?? (error as Error).message})`;
  }
}

/** Rules across files: fleet names unique, copy names unique per Region. */
function crossFleetProblems(fleets: readonly Fleet[]): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const byName = new Map<string, Fleet>();
  for (const fleet of fleets) {
    const other = byName.get(fleet.name);
    if (other) {
      problems.push({
        file: fleet.file,
        path: "name",
        message: `fleet name "${fleet.name}" is also used by ${other.file}`,
        fix: "Give every fleet its own name",
      });
    } else {
      byName.set(fleet.name, fleet);
    }
  }
  const copyNames = new Map<string, Fleet>();
  for (const fleet of fleets) {
    for (const image of fleet.images) {
      if (image.source.kind !== "ami") continue;
      for (const target of fleet.regions) {
        const name = renderCopyName(fleet, image.key, target.region, image.source.amiId);
        const key = `${target.region}\0${name}`;
        const other = copyNames.get(key);
        if (other && other !== fleet) {
          problems.push({
            file: fleet.file,
            path: "copyName",
            message: `copy name "${name}" in ${target.region} is also used by ${other.file}`,
            fix: "Keep {fleet} in copyName so fleets cannot collide",
          });
        }
        copyNames.set(key, fleet);
      }
    }
  }
  const pointerNames = new Map<string, Fleet>();
  for (const fleet of fleets) {
    for (const [index, pointer] of fleet.pointers.entries()) {
      for (const target of fleet.regions) {
        const key = `${target.region}\0${pointer.parameter}`;
        const other = pointerNames.get(key);
        if (other && other !== fleet) {
          problems.push({
            file: fleet.file,
            path: `pointers[${index}].parameter`,
            message: `parameter "${pointer.parameter}" in ${target.region} is also a pointer of ${other.file}`,
            fix: "Keep {fleet} in the parameter name so fleets cannot collide",
          });
          break;
        }
        pointerNames.set(key, fleet);
      }
    }
  }
  return problems;
}
