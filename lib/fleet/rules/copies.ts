import { formatPath, ProblemSink, quoteValue } from "../errors";
import { COPY_NAME_PLACEHOLDERS, DEFAULT_COPY_NAME, Fleet, MANAGEMENT_TAGS, renderCopyName, unknownPlaceholders } from "../fleet";
import { FleetFile } from "../schema";

/** Rules for what every copy carries: tags, the deprecation time, and names that are valid and unique per Region. */

const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/;
const AMI_NAME = /^[A-Za-z0-9()[\]. /\-'@_]{3,128}$/;
/** A stand-in for a source AMI id not known before plan: the longest form, to check name length. */
const UNKNOWN_AMI_ID = "ami-00000000000000000";
/** Tags per resource (EC2) minus the management tags every copy carries. */
export const MAX_USER_TAGS = 50 - Object.keys(MANAGEMENT_TAGS).length;

/** The fleet's tags: at most MAX_USER_TAGS, lengths in code points, no reserved prefixes. Returns them. */
export function checkTags(problems: ProblemSink, document: FleetFile): Record<string, string> {
  return checkTagMap(problems, document.tags ?? {}, ["tags"], MAX_USER_TAGS);
}

/**
 * Tags at `path` (the fleet's, or a recipient's): at most `max`, key and value lengths in code points,
 * no reserved prefixes. Returns them.
 */
export function checkTagMap(problems: ProblemSink, tags: Readonly<Record<string, string>>, path: readonly (string | number)[], max: number): Record<string, string> {
  const entries = Object.entries(tags);
  if (entries.length > max) {
    problems.add(
      formatPath(path),
      `${entries.length} tags; a copy takes at most 50, and ${50 - max} of them are ami-fleet's management tags${path.length > 1 ? " and the fleet's tags" : ""}`,
      `Keep at most ${max} tags`,
    );
  }
  for (const [key, value] of entries) {
    const at = formatPath([...path, key]);
    // AWS counts tag lengths in Unicode characters, not UTF-16 units: an emoji is one.
    const keyLength = [...key].length;
    if (keyLength === 0 || keyLength > 128) {
      problems.add(at, `tag key is ${keyLength} characters`, "Use 1-128 characters");
    }
    if (key.toLowerCase().startsWith("aws:")) {
      problems.add(at, `tag keys starting with "aws:" are reserved for AWS`, "Rename the tag");
    } else if (key.startsWith("ami-fleet:")) {
      problems.add(at, `tag keys starting with "ami-fleet:" are the management tags`, "Rename the tag");
    }
    const valueLength = [...value].length;
    if (valueLength > 256) {
      problems.add(at, `tag value is ${valueLength} characters`, "Use at most 256 characters");
    }
  }
  return { ...tags };
}

/** Every deprecateAt (the fleet's, and each image version's) is an RFC 3339 UTC time that exists (no 30 February, no 24:00). */
export function checkDeprecateAt(problems: ProblemSink, document: FleetFile): void {
  const times: [string, string | undefined][] = [
    ["deprecateAt", document.deprecateAt],
    ...document.source.images.map((image, index): [string, string | undefined] => [`source.images[${index}].deprecateAt`, image.deprecateAt]),
  ];
  for (const [path, value] of times) {
    if (value !== undefined && !isRfc3339Utc(value)) {
      problems.add(path, `${quoteValue(value)} is not an RFC 3339 UTC time`, 'Write it like "2027-06-01T00:00:00Z"');
    }
  }
}

function isRfc3339Utc(value: string): boolean {
  const match = RFC3339_UTC.exec(value);
  return (
    match !== null &&
    !Number.isNaN(Date.parse(value)) &&
    new Date(value).toISOString().slice(0, 10) === value.slice(0, 10) &&
    Number(match[4]) < 24 &&
    Number(match[5]) < 60 &&
    Number(match[6]) < 60
  );
}

/** The copy name template: known placeholders, {sourceAmi} present, every rendered name a valid AMI name, unique per Region. */
export function checkCopyNames(problems: ProblemSink, fleet: Fleet): void {
  const template = fleet.copyNameTemplate ?? DEFAULT_COPY_NAME;
  const unknown = unknownPlaceholders(template, COPY_NAME_PLACEHOLDERS);
  if (unknown.length > 0) {
    problems.add(
      "copyName",
      `unknown placeholder${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `{${n}}`).join(", ")}`,
      `Use ${COPY_NAME_PLACEHOLDERS.map((n) => `{${n}}`).join(", ")}`,
    );
    return;
  }
  if (!template.includes("{sourceAmi}")) {
    problems.add(
      "copyName",
      `"${template}" has no {sourceAmi}: a new source version replaces a copy by creating the new one first, and AMI names are unique per Region`,
      `Include {sourceAmi}, e.g. ${DEFAULT_COPY_NAME}`,
    );
    return;
  }
  const names = new Map<string, string>();
  for (const image of fleet.images) {
    const sourceAmi = image.source.kind === "ami" ? image.source.amiId : UNKNOWN_AMI_ID;
    for (const target of fleet.regions) {
      const name = renderCopyName(fleet, image.key, target.region, sourceAmi);
      if (!AMI_NAME.test(name)) {
        problems.add(
          "copyName",
          `copy name "${name}" (image ${image.key}, ${target.region}) is not a valid AMI name`,
          "AMI names are 3-128 characters of letters, digits and ( ) [ ] space . / - ' @ _",
        );
        return;
      }
      const clash = names.get(`${target.region}\0${name}`);
      if (clash !== undefined) {
        problems.add(
          "copyName",
          `images "${clash}" and "${image.key}" would both be named "${name}" in ${target.region}`,
          "Include {image} in the template",
        );
        return;
      }
      names.set(`${target.region}\0${name}`, image.key);
    }
  }
}
