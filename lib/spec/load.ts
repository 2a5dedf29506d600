import * as fs from "fs";
import * as path from "path";
import { isMap, LineCounter, parseDocument } from "yaml";
import { FleetSpecError, SpecProblem } from "./errors";
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
  for (const file of files) {
    const document = readFleetDocument(file, problems);
    if (document === undefined) continue;
    const result = validateFleet(file, document);
    if (result.ok) fleets.push(result.fleet);
    else problems.push(...result.problems);
  }
  problems.push(...crossFleetProblems(fleets));
  if (problems.length > 0) throw new FleetSpecError(problems);
  return fleets;
}

function expandPaths(paths: readonly string[], problems: SpecProblem[]): string[] {
  const files: string[] = [];
  for (const given of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(given);
    } catch {
      problems.push({ file: given, path: "", message: "no such file or directory", fix: "Check the path" });
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

/** Parses one file as YAML (JSON is YAML too), reporting syntax errors with line and column. */
export function readFleetDocument(file: string, problems: SpecProblem[]): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    problems.push({ file, path: "", message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`, fix: "Check the path and its permissions" });
    return undefined;
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      problems.push({
        file,
        path: `line ${line}, column ${col}`,
        message: error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, ""),
        fix: "Fix the YAML/JSON syntax",
      });
    }
    return undefined;
  }
  if (!isMap(document.contents)) {
    problems.push({ file, path: "", message: "is not a fleet (expected a mapping with name, source, regions)", fix: "See fleets/ for examples" });
    return undefined;
  }
  return document.toJS();
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
  return problems;
}
