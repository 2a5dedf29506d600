import { writeFileAtomic } from "./files";
import { CliIo } from "./io";

/** Report formats of reconcile and review. */
export type OutputFormat = "text" | "json" | "markdown";

/** Renderers of one report, by format; text gets whether to colour. */
export interface Renderers<T> {
  readonly text: (value: T, options: { color: boolean }) => string;
  readonly markdown: (value: T) => string;
}

/**
 * Renders a report and writes it to `out` (whole or not at all) or stdout. The format is text unless
 * `--format` says otherwise, wherever the output goes (a pipe to less or tee, a CI log): a script
 * that wants JSON asks for it. Colour only for text on a terminal, unless NO_COLOR is set
 * (https://no-color.org: any non-empty value).
 */
export function writeReport<T>(io: CliIo, value: T, renderers: Renderers<T>, options: { format?: OutputFormat; out?: string }): void {
  const format = options.format ?? "text";
  const color = format === "text" && !options.out && io.stdout.isTTY === true && !io.env.NO_COLOR;
  const rendered =
    format === "json" ? `${JSON.stringify(value, null, 2)}\n` : format === "markdown" ? renderers.markdown(value) : renderers.text(value, { color });
  if (options.out) writeFileAtomic(options.out, rendered);
  else io.stdout.write(rendered);
}
