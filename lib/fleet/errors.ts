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

/** Where rules report: a problem at a field path, with the fix (the file is the sink's). */
export interface ProblemSink {
  add(path: string, message: string, fix: string): void;
}

/** `fleets/golden.yaml: regions[2].kmsKeyId: key is in us-east-1, copy is in eu-west-1. Use a key from eu-west-1.` */
export function formatProblem(problem: SpecProblem): string {
  const where = problem.path ? `${oneLine(problem.file, 300)}: ${oneLine(problem.path, 200)}` : oneLine(problem.file, 300);
  const fix = problem.fix ? ` ${ensureSentence(oneLine(problem.fix, 300))}` : "";
  return `${where}: ${stripPeriod(oneLine(problem.message, 400))}.${fix}`;
}

/** Longest value echoed back in a message. */
export const MAX_ECHOED = 80;

/**
 * Characters that would move the cursor, start a new line or reorder text in a terminal or CI log:
 * C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional overrides.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text made safe for one line of a terminal: unsafe characters escaped (`\u001b`), at most `max` characters. */
export function oneLine(text: string, max = 1000): string {
  const cut = text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
  return cut.replace(UNSAFE, (c) => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/** A value as echoed in a message: quoted, unsafe characters escaped, at most MAX_ECHOED characters. */
export function quoteValue(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return `"${oneLine(text, MAX_ECHOED)}"`;
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

  /** One line per problem, then `N problem(s) in M file(s).`: what `validate` and synth print. */
  report(): string {
    const files = new Set(this.problems.map((p) => p.file)).size;
    return [...this.problems.map(formatProblem), `${this.problems.length} problem(s) in ${files} file(s).`].join("\n") + "\n";
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
