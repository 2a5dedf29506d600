import { SpecProblem } from "./errors";
import { Fleet } from "./fleet";
import { checkCopyNames, checkDeprecateAt, checkTags } from "./rules/copies";
import { checkEncryption } from "./rules/encryption";
import { checkImages } from "./rules/images";
import { checkPointers } from "./rules/pointers";
import { checkRecipients } from "./rules/recipients";
import { checkRegions, checkSourceRegion } from "./rules/regions";
import { checkOrganization, checkShare } from "./rules/sharing";
import { FleetFile, fleetSchema } from "./schema";
import { schemaProblems, withoutBadFields } from "./schema-problems";

export { MAX_USER_TAGS } from "./rules/copies";

/** The result of validating one parsed fleet file. */
export type ValidationResult =
  | { readonly ok: true; readonly fleet: Fleet }
  /** `fleet`: what could be built from the valid parts, so checks across files still run. */
  | { readonly ok: false; readonly problems: readonly SpecProblem[]; readonly fleet?: Fleet };

/**
 * Validates one parsed fleet file: the schema first, then every cross-field rule of DOMAIN.md
 * marked "synth" (in `rules/`, one file per family). Collects every problem rather than stopping
 * at the first.
 */
export function validateFleet(file: string, document: unknown): ValidationResult {
  const parsed = fleetSchema.safeParse(document);
  if (!parsed.success) {
    const problems = schemaProblems(file, parsed.error.issues, document);
    // Report the cross-field problems too, when the file can be checked without the bad fields.
    const repaired = withoutBadFields(document, parsed.error.issues);
    if (repaired !== undefined) {
      const reported = new Set(problems.map((p) => p.path));
      const checked = checkFleet(file, repaired);
      problems.push(...checked.problems.filter((p) => !reported.has(p.path)));
      return { ok: false, problems, fleet: checked.fleet };
    }
    return { ok: false, problems };
  }
  const { fleet, problems } = checkFleet(file, parsed.data);
  return problems.length > 0 ? { ok: false, problems, fleet } : { ok: true, fleet };
}

/** Runs every rule family on a schema-valid document and builds the normalized Fleet. */
function checkFleet(file: string, document: FleetFile): { fleet: Fleet; problems: SpecProblem[] } {
  const problems: SpecProblem[] = [];
  const sink = { add: (path: string, message: string, fix: string) => problems.push({ file, path, message, fix }) };
  const partition = checkSourceRegion(sink, document);
  const images = checkImages(sink, document);
  const fleetShare = checkShare(sink, document.share, "share", partition);
  const regions = checkRegions(sink, document, partition, fleetShare);
  checkEncryption(sink, document, images, regions);
  const tags = checkTags(sink, document);
  checkDeprecateAt(sink, document);
  const fleet: Fleet = {
    file,
    name: document.name,
    description: document.description,
    partition: partition ?? "aws",
    sourceRegion: document.source.region,
    images,
    regions,
    share: fleetShare,
    keyPolicyGrantsRecipients: document.encryption?.keyPolicyGrantsRecipients ?? false,
    acknowledgeUnencryptedSharing: document.encryption?.acknowledgeUnencryptedSharing ?? false,
    tags,
    deprecateAt: document.deprecateAt,
    copyNameTemplate: document.copyName,
    copyTimeout: document.copyTimeout,
    organization: document.organization,
    pointers: checkPointers(sink, document, images, regions, partition ?? "aws"),
    recipients: checkRecipients(sink, document, partition ?? "aws", images, regions, tags),
  };
  checkOrganization(sink, document, partition);
  checkCopyNames(sink, fleet);
  return { fleet, problems };
}
