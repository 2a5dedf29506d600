/**
 * The validated, normalized fleet: what the construct synthesizes and the reconciler compares
 * against. Built only by `validateFleet` (validate.ts), so every value here has passed the rules.
 */

/** Principals allowed to launch a copy. Lists are sorted and free of duplicates. */
export interface Share {
  readonly accounts: readonly string[];
  readonly organizationArns: readonly string[];
  readonly organizationalUnitArns: readonly string[];
  /** Launch permission group `all`; only ever true when the fleet acknowledged it. */
  readonly public: boolean;
}

/** Where the source AMI id comes from. */
export type ImageSource =
  | { readonly kind: "ami"; readonly amiId: string }
  | {
      readonly kind: "lookup";
      readonly owners: readonly string[];
      readonly name: string;
      readonly mostRecent: boolean;
    }
  | { readonly kind: "ssm"; readonly parameter: string };

/** One source image version, copied to every target Region. */
export interface SourceImage {
  /** Stable id in resource addresses, tags and copy names. */
  readonly key: string;
  readonly source: ImageSource;
  /** The source's snapshots are known to be encrypted (true) or not (false); undefined: unknown. */
  readonly encrypted?: boolean;
  /** When this version's copies become deprecated, overriding the fleet's `deprecateAt`. */
  readonly deprecateAt?: string;
}

/** One target Region with its effective settings. */
export interface TargetRegion {
  readonly region: string;
  /**
   * true: copies are encrypted (with kmsKeyId, or the Region's default EBS key);
   * false: copies must stay unencrypted; undefined: copies keep the source's encryption.
   */
  readonly encrypted?: boolean;
  /** Customer managed key ARN in this Region. */
  readonly kmsKeyId?: string;
  /** Fleet-wide principals plus this Region's own. */
  readonly share: Share;
}

/** A validated fleet. */
export interface Fleet {
  /** The file it was read from. */
  readonly file: string;
  readonly name: string;
  readonly description?: string;
  readonly partition: string;
  readonly sourceRegion: string;
  readonly images: readonly SourceImage[];
  readonly regions: readonly TargetRegion[];
  /** Fleet-wide principals (each Region's share includes them). */
  readonly share: Share;
  /** The key policies already admit the recipients: create no KMS grants. */
  readonly keyPolicyGrantsRecipients: boolean;
  /** The fleet shares unencrypted copies on purpose (`review` does not block on it). */
  readonly acknowledgeUnencryptedSharing: boolean;
  /** User tags (management tags are added on top). */
  readonly tags: Readonly<Record<string, string>>;
  /** RFC 3339 UTC. */
  readonly deprecateAt?: string;
  /** The `copyName` template; undefined for the default. */
  readonly copyNameTemplate?: string;
  readonly copyTimeout?: string;
  /** The owner's Organization, for review of new principals. */
  readonly organization?: { readonly arn: string; readonly memberAccounts?: readonly string[] };
  /** SSM parameters that point at one image version's copy in every target Region. */
  readonly pointers: readonly Pointer[];
  /** Accounts that get copies of their own (cross-account copying), in the file's order. */
  readonly recipients: readonly Recipient[];
  /**
   * Set on a recipient's view of the fleet (lib/fleet/desired `recipientView`): the account whose
   * own copies and pointers it describes; its addresses are that recipient's. Undefined for the fleet itself.
   */
  readonly account?: string;
}

/**
 * An account that owns copies of the fleet's copies: the owner grants it launch permission, read
 * access to each copy's snapshots and, for encrypted copies, its key; Terraform then copies each
 * shared copy into the account through `roleArn`, and keeps the fleet's pointers there.
 */
export interface Recipient {
  readonly account: string;
  /** The role assumed in the account (by Terraform, and by reconcile to read it). */
  readonly roleArn: string;
  /** Its Regions (a subset of the fleet's target Regions, in the fleet's order). */
  readonly regions: readonly RecipientRegion[];
  /** The recipient's own tags on its copies (the fleet's tags are added too). */
  readonly tags: Readonly<Record<string, string>>;
}

/** One Region of a recipient. */
export interface RecipientRegion {
  readonly region: string;
  /** The recipient's own customer managed key there: its copies are re-encrypted with it. */
  readonly kmsKeyId?: string;
}

/** An SSM parameter (data type aws:ec2:image) whose value is one image version's copy, in each target Region. */
export interface Pointer {
  /** Stable id in resource addresses. */
  readonly key: string;
  /** The parameter name, placeholders rendered. */
  readonly parameter: string;
  /** The image version it points at. */
  readonly image: string;
}

/** Placeholders of a pointer's parameter name. */
export const POINTER_PLACEHOLDERS = ["fleet", "image"] as const;

/** A pointer's parameter name with its placeholders filled in. */
export function renderPointerName(template: string, values: { fleet: string; image: string }): string {
  return fillPlaceholders(template, values);
}

/** A template (copy names, pointer names) with each `{name}` of `values` filled in; others stay. */
export function fillPlaceholders(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** The `{name}`s of a template that are not among `allowed`, in order. */
export function unknownPlaceholders(template: string, allowed: readonly string[]): string[] {
  return [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).filter((name) => !allowed.includes(name));
}

/** Management tags set on every copy; the reconciler finds copies by them. */
export const MANAGEMENT_TAGS = {
  fleet: "ami-fleet:fleet",
  image: "ami-fleet:image",
  sourceAmi: "ami-fleet:source-ami",
  sourceRegion: "ami-fleet:source-region",
} as const;

/** The tag on a recipient's copy that names the owner's copy it was copied from (besides the management tags). */
export const OWNER_COPY_TAG = "ami-fleet:owner-copy";

/** The tag that names a pointer's key on its SSM parameter (besides the fleet tag). */
export const POINTER_TAG = "ami-fleet:pointer";

/**
 * Default copy name template. {sourceAmi} keeps names unique across a create-before-destroy
 * replacement. An image whose key is its AMI id (the default key) is named `{fleet}-{sourceAmi}`.
 */
export const DEFAULT_COPY_NAME = "{fleet}-{image}-{sourceAmi}";

/** Placeholders a copy name template may use. */
export const COPY_NAME_PLACEHOLDERS = ["fleet", "image", "region", "sourceAmi"] as const;

/** Renders a copy name; `sourceAmi` is the source AMI id (or a Terraform expression at synth). */
export function renderCopyName(
  fleet: Pick<Fleet, "name" | "copyNameTemplate">,
  imageKey: string,
  region: string,
  sourceAmi: string,
): string {
  const values: Record<string, string> = { fleet: fleet.name, image: imageKey, region, sourceAmi };
  const template = fleet.copyNameTemplate ?? (imageKey === sourceAmi ? "{fleet}-{sourceAmi}" : DEFAULT_COPY_NAME);
  return fillPlaceholders(template, values);
}

/** True when any principal other than the owner may launch the copies. */
export function sharesWithOthers(share: Share): boolean {
  return (
    share.public ||
    share.accounts.length > 0 ||
    share.organizationArns.length > 0 ||
    share.organizationalUnitArns.length > 0
  );
}
