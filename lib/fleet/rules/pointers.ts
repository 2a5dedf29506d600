import { ProblemSink, quoteValue } from "../errors";
import { Pointer, POINTER_PLACEHOLDERS, renderPointerName, SourceImage, TargetRegion, unknownPlaceholders } from "../fleet";
import { KEY, SSM_PARAMETER_NAME } from "../formats";
import { FleetFile } from "../schema";

/** Rules for pointers (SSM parameters consumers resolve): keys, the image they name, and parameter names SSM accepts. */

/** SSM's limit on a parameter name, counted with the parameter's full ARN. */
const MAX_PARAMETER_ARN = 1011;
/** SSM's limit on the levels of a parameter path. */
const MAX_PARAMETER_LEVELS = 15;

/** The fleet's pointers, names rendered: the valid ones; problems for the rest. */
export function checkPointers(
  problems: ProblemSink,
  document: FleetFile,
  images: readonly SourceImage[],
  regions: readonly TargetRegion[],
  partition: string,
): Pointer[] {
  const pointers: Pointer[] = [];
  const keys = new Map<string, number>();
  const names = new Map<string, number>();
  const imageKeys = new Set(images.map((image) => image.key));
  // The longest ARN the name gets, over the target Regions.
  const longestRegion = regions.reduce((longest, t) => (t.region.length > longest.length ? t.region : longest), "");
  (document.pointers ?? []).forEach((pointer, index) => {
    const path = `pointers[${index}]`;
    let valid = true;
    if (!KEY.test(pointer.key)) {
      problems.add(`${path}.key`, `${quoteValue(pointer.key)} is not a valid pointer key`, "Use 1-64 letters, digits, dashes or underscores, starting with a letter or digit");
      valid = false;
    } else if (keys.has(pointer.key)) {
      problems.add(`${path}.key`, `duplicate pointer key "${pointer.key}" (also pointers[${keys.get(pointer.key)}])`, "Give each pointer its own key");
      valid = false;
    } else {
      keys.set(pointer.key, index);
    }
    if (!imageKeys.has(pointer.image)) {
      const declared = [...imageKeys].map((k) => `"${k}"`).join(", ");
      problems.add(`${path}.image`, `${quoteValue(pointer.image)} is not an image key of this fleet`, declared ? `Use one of ${declared}` : "Declare the image under source.images");
      valid = false;
    }
    const unknown = unknownPlaceholders(pointer.parameter, POINTER_PLACEHOLDERS);
    if (unknown.length > 0) {
      problems.add(
        `${path}.parameter`,
        `unknown placeholder${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => quoteValue(`{${n}}`)).join(", ")}`,
        `Use ${POINTER_PLACEHOLDERS.map((n) => `{${n}}`).join(", ")}`,
      );
      return;
    }
    const name = renderPointerName(pointer.parameter, { fleet: document.name, image: pointer.image });
    const problem = parameterNameProblem(name, `arn:${partition}:ssm:${longestRegion}:111122223333:parameter`);
    if (problem) {
      problems.add(`${path}.parameter`, `${quoteValue(name)} ${problem}`, "Use a name such as /golden/{fleet}/latest: letters, digits, _ . - in up to 15 /-separated levels, not starting with aws or ssm");
      return;
    }
    if (names.has(name)) {
      problems.add(`${path}.parameter`, `parameter ${quoteValue(name)} is also pointers[${names.get(name)}]`, "Give each pointer its own parameter name");
      return;
    }
    names.set(name, index);
    if (valid) pointers.push({ key: pointer.key, parameter: name, image: pointer.image });
  });
  return pointers;
}

/** What SSM would refuse in a parameter name, or undefined. */
function parameterNameProblem(name: string, arnPrefix: string): string | undefined {
  if (!SSM_PARAMETER_NAME.test(name)) return "is not an SSM parameter name";
  const first = name.replace(/^\//, "").split("/")[0].toLowerCase();
  if (first.startsWith("aws") || first.startsWith("ssm")) return "starts with aws or ssm, which SSM reserves";
  const levels = name.split("/").filter(Boolean).length;
  if (levels > MAX_PARAMETER_LEVELS) return `has ${levels} levels; SSM allows ${MAX_PARAMETER_LEVELS}`;
  const arnLength = arnPrefix.length + (name.startsWith("/") ? name.length : name.length + 1);
  if (arnLength > MAX_PARAMETER_ARN) return `is too long: its ARN would be ${arnLength} characters; SSM allows ${MAX_PARAMETER_ARN}`;
  return undefined;
}
