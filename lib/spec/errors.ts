/**
 * Problems found in fleet files. Validation collects every problem of every file, then throws
 * once; each problem names the file, the field path and the fix.
 */

/** One problem in one fleet file. */
export interface SpecProblem {
  /** The fleet file, as given (relative paths stay relative). */
  readonly file: string;
  /** Field path in the file, e.g. `regions[2].kmsKeyId`; empty for the file as a whole. */
  readonly path: string;
  /** What is wrong, with the value received. */
  readonly message: string;
  /** How to fix it. */
  readonly fix: string;
}

/** `fleets/golden.yaml: regions[2].kmsKeyId: key is in us-east-1, copy is in eu-west-1. Use a key from eu-west-1.` */
export function formatProblem(problem: SpecProblem): string {
  const where = problem.path ? `${problem.file}: ${problem.path}` : problem.file;
  const fix = problem.fix ? ` ${ensureSentence(problem.fix)}` : "";
  return `${where}: ${stripPeriod(problem.message)}.${fix}`;
}

/** Thrown when one or more fleet files are invalid; carries every problem found. */
export class FleetSpecError extends Error {
  /** Every problem, in file order then field order. */
  public readonly problems: readonly SpecProblem[];

  constructor(problems: readonly SpecProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "FleetSpecError";
    this.problems = problems;
  }
}

/** Formats a field path: ["regions", 2, "kmsKeyId"] -> "regions[2].kmsKeyId". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(part))) out += out ? `.${String(part)}` : String(part);
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

function stripPeriod(text: string): string {
  return text.endsWith(".") ? text.slice(0, -1) : text;
}

function ensureSentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
