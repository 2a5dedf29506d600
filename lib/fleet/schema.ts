import { z } from "zod";
import { ACCOUNT_ID, AMI_ID, KEY, KMS_KEY_ARN, ORGANIZATION_ARN, OU_ARN, REGION_NAME } from "./formats";

/**
 * The fleet file schema: the one source for the TypeScript types, the structural validation and
 * the published JSON Schema (schema/fleet.schema.json). Rules that span fields (partitions, key
 * Regions, name uniqueness...) live in validate.ts.
 *
 * Every object is strict: an unknown field is an error, so a typo never passes silently.
 */

// Formats are checked in validate.ts (with messages naming the field and the fix, and so one bad
// item does not hide the other rules); the same patterns (formats.ts) go to the JSON Schema, so an
// editor flags what `validate` refuses.
const pattern = (regex: RegExp) => ({ pattern: regex.source });

const accountId = z.string().meta(pattern(ACCOUNT_ID)).describe("A 12-digit AWS account id.");

const organizationArn = z
  .string()
  .meta(pattern(ORGANIZATION_ARN))
  .describe("An AWS Organizations ARN: arn:aws:organizations::111122223333:organization/o-abc123def4");

const organizationalUnitArn = z
  .string()
  .meta(pattern(OU_ARN))
  .describe(
    "An organizational unit ARN: arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cd34ef56",
  );

const kmsKeyArn = z
  .string()
  .meta(pattern(KMS_KEY_ARN))
  .describe("A KMS key ARN in the copy's Region: arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (a UUID, or mrk-... for a multi-Region key)");

const regionName = z.string().meta(pattern(REGION_NAME)).describe("Region name, e.g. eu-west-1.");

/** Launch permissions, for every copy (fleet level) or added for one Region. */
export const shareSchema = z
  .object({
    accounts: z.array(accountId).optional().describe("Account ids that may launch the copies."),
    organizationArns: z
      .array(organizationArn)
      .optional()
      .describe("Organizations whose accounts may launch the copies."),
    organizationalUnitArns: z
      .array(organizationalUnitArn)
      .optional()
      .describe("Organizational units whose accounts may launch the copies."),
    public: z
      .boolean()
      .optional()
      .describe("Share with everyone (launch permission group `all`). @default false"),
    acknowledgePublic: z
      .boolean()
      .optional()
      .describe("Must be true as well as `public: true`: public images are never made by accident."),
  })
  .strict();

const lookupSchema = z
  .object({
    owners: z
      .array(z.string().min(1))
      .min(1)
      .describe("Owners to search: `self`, `amazon`, `aws-marketplace` or account ids."),
    name: z.string().min(1).describe("AMI name pattern, `*` as wildcard."),
    mostRecent: z
      .boolean()
      .optional()
      .describe("Take the newest match when several match. @default true"),
  })
  .strict();

/** One source image version. Exactly one of amiId, lookup, ssmParameter. */
export const imageSchema = z
  .object({
    key: z
      .string()
      .optional()
      .describe(
        "Stable id of this version in resource addresses and copy names. @default the amiId",
      ),
    amiId: z.string().meta(pattern(AMI_ID)).optional().describe("The source AMI id, e.g. ami-0123456789abcdef0."),
    lookup: lookupSchema.optional().describe("Find the source AMI at plan time."),
    ssmParameter: z
      .string()
      .optional()
      .describe("An SSM parameter in the source Region whose value is the source AMI id."),
    encrypted: z
      .boolean()
      .optional()
      .describe(
        "Whether the source's snapshots are encrypted, when known; lets validation refuse impossible requests early.",
      ),
    deprecateAt: z
      .string()
      .optional()
      .describe("RFC 3339 UTC time when this version's copies become deprecated; overrides the fleet's deprecateAt."),
  })
  .strict();

/** A target Region with its own settings. */
export const regionObjectSchema = z
  .object({
    region: regionName,
    kmsKeyId: kmsKeyArn.optional(),
    share: shareSchema.optional().describe("Principals added for this Region's copies only."),
    allowSourceRegion: z
      .boolean()
      .optional()
      .describe(
        "Must be true to copy into the source Region itself (e.g. to re-encrypt). @default false",
      ),
  })
  .strict();

/** An SSM parameter that consumers resolve (`resolve:ssm:`) to the current copy, in every target Region. */
export const pointerSchema = z
  .object({
    key: z.string().meta(pattern(KEY)).describe("Stable id of the pointer in resource addresses, e.g. latest."),
    parameter: z
      .string()
      .describe("SSM parameter name, the same in every target Region; placeholders {fleet}, {image}. e.g. /golden/{fleet}/latest"),
    image: z.string().describe("Key of the image version it points at; change it to move the pointer (a reviewed change)."),
  })
  .strict();

/** Names the IAM role ami-fleet assumes in a recipient account (a role name, or its ARN). */
export const DEFAULT_RECIPIENT_ROLE = "ami-fleet-recipient";

/**
 * An account that gets copies of its own (the copy document's cross-account copying): the owner
 * shares each copy, its snapshots and its key with it, and Terraform, through a role in that
 * account, copies the shared copy there, re-encrypted with the recipient's own key.
 */
export const recipientSchema = z
  .object({
    account: accountId.describe("The recipient's 12-digit account id (not the owner's)."),
    role: z
      .string()
      .optional()
      .describe(
        `The IAM role Terraform and reconcile assume in the recipient account: a role name (path allowed) or its ARN. @default ${DEFAULT_RECIPIENT_ROLE}`,
      ),
    regions: z
      .array(regionName)
      .min(1)
      .optional()
      .describe("The fleet's target Regions where the recipient gets copies. @default every target Region of the fleet"),
    kmsKeyIds: z
      .record(z.string(), kmsKeyArn)
      .optional()
      .describe(
        "The recipient's own customer managed key per Region (an ARN in the recipient account): its copies are re-encrypted with it (recommended, so a revoked owner key cannot strand its volumes). @default none: an unencrypted copy stays unencrypted, an encrypted one is encrypted with the recipient's default EBS key",
      ),
    tags: z.record(z.string(), z.string()).optional().describe("Tags added to the recipient's copies, besides the fleet's tags and the ami-fleet:* management tags."),
  })
  .strict();

export const encryptionSchema = z
  .object({
    encrypted: z
      .boolean()
      .optional()
      .describe(
        "true: every copy is encrypted. false: copies stay unencrypted (impossible for an encrypted source). @default each copy keeps its source's encryption",
      ),
    kmsKeyIds: z
      .record(z.string(), kmsKeyArn)
      .optional()
      .describe("KMS key ARN per target Region (a Region entry's kmsKeyId does the same)."),
    acknowledgeUnencryptedSharing: z
      .boolean()
      .optional()
      .describe(
        "The copies are shared unencrypted on purpose: `review` shows unencrypted-shared as allowed for this fleet instead of blocking. @default false",
      ),
    keyPolicyGrantsRecipients: z
      .boolean()
      .optional()
      .describe(
        "The keys' policies already let the recipients use them: no aws_kms_grant is created. @default false",
      ),
  })
  .strict();

/** The zod schema of a fleet file as written (before normalization into a `Fleet`); `fleetJsonSchema()` is its JSON Schema. */
export const fleetSchema = z
  .object({
    $schema: z.string().optional().describe("Path or URL of this JSON Schema, for editors."),
    name: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, {
        message: "must be 1-64 lower-case letters, digits and dashes, not starting or ending with a dash",
      })
      .describe("Fleet id: lower-case letters, digits, dashes; unique across fleets/."),
    description: z.string().max(255).optional().describe("Description given to every copy."),
    source: z
      .object({
        region: regionName.describe("Region where the source images live."),
        images: z.array(imageSchema).min(1).describe("Image versions; each is copied to every Region."),
      })
      .strict(),
    regions: z
      .array(z.union([regionName, regionObjectSchema]))
      .min(1)
      .describe("Target Regions: a name, or an object with per-Region settings."),
    encryption: encryptionSchema.optional(),
    share: shareSchema.optional().describe("Launch permissions for every copy."),
    tags: z
      .record(z.string(), z.string())
      .optional()
      .describe("Tags added to every copy, besides the ami-fleet:* management tags."),
    deprecateAt: z
      .string()
      .optional()
      .describe("RFC 3339 UTC time when the copies become deprecated, e.g. 2027-06-01T00:00:00Z."),
    copyName: z
      .string()
      .optional()
      .describe(
        "Copy name template; placeholders {fleet}, {image}, {region}, {sourceAmi}. @default {fleet}-{image}-{sourceAmi}",
      ),
    organization: z
      .object({
        arn: organizationArn,
        memberAccounts: z
          .array(accountId)
          .optional()
          .describe("Accounts of the Organization; `review` flags a new account principal not listed."),
      })
      .strict()
      .optional()
      .describe("The fleet owner's Organization: `review` flags new principals outside it."),
    pointers: z
      .array(pointerSchema)
      .optional()
      .describe("SSM parameters (data type aws:ec2:image) that point at one image version's copy in each target Region."),
    recipients: z
      .array(recipientSchema)
      .optional()
      .describe("Accounts that get copies of their own in their Regions (cross-account copying), and the fleet's pointers to them."),
    copyTimeout: z
      .string()
      // Terraform reads timeouts with Go's time.ParseDuration: units h, m, s (and smaller), decimals allowed.
      .regex(/^(?:\d+(?:\.\d+)?(?:h|m|s|ms|us|µs|ns))+$/, { message: "must be a duration like 40m, 1h30m or 1.5h" })
      .optional()
      .describe("How long Terraform waits for one copy. @default 40m"),
  })
  .strict();

/** The fleet file as written. */
export type FleetFile = z.infer<typeof fleetSchema>;
export type ShareFile = z.infer<typeof shareSchema>;
export type ImageFile = z.infer<typeof imageSchema>;
export type PointerFile = z.infer<typeof pointerSchema>;
export type RegionObjectFile = z.infer<typeof regionObjectSchema>;
export type RecipientFile = z.infer<typeof recipientSchema>;

/** The JSON Schema of a fleet file, generated from the zod schema above. */
export function fleetJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(fleetSchema, { target: "draft-2020-12", io: "input" }),
    title: "ami-fleet fleet file",
  };
}
