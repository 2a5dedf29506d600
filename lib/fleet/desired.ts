import { copyResourceName, FleetAddress } from "./addresses";
import { Fleet, MANAGEMENT_TAGS, OWNER_COPY_TAG, Pointer, POINTER_TAG, Recipient, renderCopyName, SourceImage, TargetRegion } from "./fleet";
import { Principal, sharePrincipals } from "./principals";

/**
 * What a fleet wants, as data: one entry per image version and target Region, with everything
 * that identifies the copy. The one place that knows a copy's name, tags, principals and address:
 * the construct synthesizes it, the reader derives the names to look for from it, the diff matches
 * live copies against it, and the emulator test helper deploys it.
 *
 * A copy's name and its source tag depend on the source AMI id, which for `lookup` and `ssm`
 * sources is known only at plan time (a Terraform expression at synth, a value read by the
 * reconciler): they are functions of it.
 */
export interface DesiredCopy {
  readonly fleet: Fleet;
  readonly image: SourceImage;
  readonly target: TargetRegion;
  /** `aws_ami_copy.copy_<image>_<region>`. */
  readonly address: Extract<FleetAddress, { type: "aws_ami_copy" }>;
  /** When the copy becomes deprecated: the image version's deprecateAt, else the fleet's. */
  readonly deprecateAt?: string;
  /** Launch permission principals (the fleet's and the Region's), in a stable order. */
  readonly principals: readonly Principal[];
  /** The AMI name of the copy of `sourceAmi`. */
  name(sourceAmi: string): string;
  /** Every tag of the copy of `sourceAmi`: the fleet's tags and the management tags. */
  tags(sourceAmi: string): Readonly<Record<string, string>>;
  /** The copy's description. */
  description(sourceAmi: string): string;
}

/** Every copy a fleet wants, image by image, Region by Region (the file's order). */
export function desiredCopies(fleet: Fleet): DesiredCopy[] {
  return fleet.images.flatMap((image) => fleet.regions.map((target) => desiredCopy(fleet, image, target)));
}

/** The copy a fleet wants of one image in one target Region. */
export function desiredCopy(fleet: Fleet, image: SourceImage, target: TargetRegion): DesiredCopy {
  return {
    fleet,
    image,
    target,
    address: { type: "aws_ami_copy", image: image.key, region: target.region, ...(fleet.account !== undefined ? { recipient: fleet.account } : {}) },
    deprecateAt: image.deprecateAt ?? fleet.deprecateAt,
    // The share's principals, and the recipients that copy this copy (each has a launch permission on it).
    principals: [
      ...sharePrincipals(target.share),
      ...fleet.recipients.filter((r) => r.regions.some((x) => x.region === target.region)).map((r) => ({ kind: "account" as const, value: r.account })),
    ],
    name: (sourceAmi) => renderCopyName(fleet, image.key, target.region, sourceAmi),
    tags: (sourceAmi) => ({
      ...fleet.tags,
      [MANAGEMENT_TAGS.fleet]: fleet.name,
      [MANAGEMENT_TAGS.image]: image.key,
      [MANAGEMENT_TAGS.sourceAmi]: sourceAmi,
      [MANAGEMENT_TAGS.sourceRegion]: fleet.sourceRegion,
    }),
    description: (sourceAmi) => fleet.description ?? `${fleet.name} ${image.key}: copy of ${sourceAmi} from ${fleet.sourceRegion}`,
  };
}

/**
 * The arguments of `aws_ami_copy` that force a new copy when they change (DOMAIN.md "Copying":
 * the name, the source, `encrypted`, `kms_key_id`), as the fleet file tells them: what a change of
 * the file replaces. A source resolved at plan time is told by its lookup or parameter (whether it
 * finds another AMI only the plan knows), and the name by its template.
 */
export function copyForcingArguments(copy: DesiredCopy): Readonly<Record<string, string>> {
  const { source } = copy.image;
  const sourceAmi = source.kind === "ami" ? source.amiId : source.kind === "ssm" ? `the AMI of parameter ${source.parameter}` : `the AMI of lookup ${JSON.stringify(source)}`;
  return {
    name: copy.name(source.kind === "ami" ? source.amiId : "{sourceAmi}"),
    source_ami_id: sourceAmi,
    source_ami_region: copy.fleet.sourceRegion,
    encrypted: String(copy.target.encrypted ?? "(the source's)"),
    kms_key_id: copy.target.kmsKeyId ?? "(none)",
  };
}

/**
 * The forcing arguments of a recipient's own copy: it is copied from the owner's copy (a new owner's
 * copy is a new source, and its name is the owner's copy's), with the recipient's key.
 */
export function recipientCopyForcingArguments(desired: DesiredRecipientCopy): Readonly<Record<string, string>> {
  const owner = copyForcingArguments(desired.owner);
  const kmsKeyId = desired.copy.target.kmsKeyId;
  return {
    name: owner.name,
    // Any forcing change of the owner's copy gives it a new id, which is this copy's source.
    source_ami_id: `the owner's copy ${JSON.stringify(owner)}`,
    encrypted: kmsKeyId !== undefined ? "true" : "(the source's)",
    kms_key_id: kmsKeyId ?? "(none)",
  };
}

/** The Terraform resource name of a desired copy (`copy_<image>_<region>`). */
export function copyResourceNameOf(copy: DesiredCopy): string {
  return copyResourceName(copy.image.key, copy.target.region);
}

/** What a recipient account needs on the key to launch (and copy) an encrypted shared AMI. */
export const RECIPIENT_KEY_OPERATIONS = [
  "Decrypt",
  "DescribeKey",
  "CreateGrant",
  "ReEncryptFrom",
  "ReEncryptTo",
  "GenerateDataKey",
  "GenerateDataKeyWithoutPlaintext",
] as const;

/** The KMS grants a fleet wants in one Region: one per recipient account on the Region's key. */
export interface DesiredGrants {
  readonly target: TargetRegion;
  readonly keyId: string;
  readonly accounts: readonly string[];
}

/**
 * The grants a fleet wants (DOMAIN.md "Encryption"): on each Region's customer managed key, for
 * each account it shares encrypted copies with; none where the key policy admits the recipients.
 */
export function desiredGrants(fleet: Fleet): DesiredGrants[] {
  if (fleet.keyPolicyGrantsRecipients) return [];
  return fleet.regions.flatMap((target) =>
    target.encrypted && target.kmsKeyId && target.share.accounts.length > 0
      ? [{ target, keyId: target.kmsKeyId, accounts: target.share.accounts }]
      : [],
  );
}

/** What a pointer's SSM parameter is: its `type` and `data_type` (the construct sets them; reconcile checks them). */
export const POINTER_KIND = { type: "String", dataType: "aws:ec2:image" } as const;

/** A pointer in one target Region: an SSM parameter whose value is the copy of `image` there. */
export interface DesiredPointer {
  readonly pointer: Pointer;
  readonly target: TargetRegion;
  /** The copy it points at. */
  readonly copy: DesiredCopy;
  /** `aws_ssm_parameter.pointer_<key>_<region>`. */
  readonly address: Extract<FleetAddress, { type: "aws_ssm_parameter" }>;
  /** The parameter's tags: the fleet's, and the fleet and pointer management tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** The parameter's description (in a recipient's account, it names that account's own copy). */
  readonly description: string;
}

/** Every pointer of a fleet in every target Region. */
export function desiredPointers(fleet: Fleet): DesiredPointer[] {
  return fleet.pointers.flatMap((pointer) => {
    const image = fleet.images.find((i) => i.key === pointer.image);
    if (!image) return []; // a validated fleet's pointers name its images
    return fleet.regions.map((target) => ({
      pointer,
      target,
      copy: desiredCopy(fleet, image, target),
      address: { type: "aws_ssm_parameter" as const, pointer: pointer.key, region: target.region, ...(fleet.account !== undefined ? { recipient: fleet.account } : {}) },
      tags: { ...fleet.tags, [MANAGEMENT_TAGS.fleet]: fleet.name, [POINTER_TAG]: pointer.key },
      description: `ami-fleet ${fleet.name}: ${fleet.account !== undefined ? "this account's copy" : "the copy"} of image ${pointer.image} in ${target.region}`,
    }));
  });
}

/** How many resources of each kind a fleet wants: copies, launch permissions, KMS grants, pointers. */
export interface FleetCounts {
  readonly copies: number;
  readonly permissions: number;
  readonly grants: number;
  readonly pointers: number;
}

export function fleetCounts(fleet: Fleet): FleetCounts {
  const copies = desiredCopies(fleet);
  return {
    copies: copies.length,
    permissions: copies.reduce((n, copy) => n + copy.principals.length, 0),
    grants: desiredGrants(fleet).reduce((n, grants) => n + grants.accounts.length, 0),
    pointers: desiredPointers(fleet).length,
  };
}

/**
 * A recipient's copy of the owner's copy of one image in one of its Regions (DOMAIN.md
 * "Cross-account copying"): the copy the recipient's view of the fleet wants (`recipientView`:
 * its address, Region and key, its tags, its deprecation), and the owner's copy it copies.
 */
export interface DesiredRecipientCopy {
  readonly recipient: Recipient;
  /** The copy in the recipient's account, as its view of the fleet wants it. */
  readonly copy: DesiredCopy;
  /** The owner's copy it copies (in the same Region). */
  readonly owner: DesiredCopy;
  /**
   * Its tags: the view's (the fleet's and the recipient's, the management tags; tags are never
   * copied across accounts: Terraform sets them), and the id of the owner's copy it was copied from.
   */
  tags(sourceAmi: string, ownerCopyId: string): Readonly<Record<string, string>>;
  /** Its description: the owner's copy's, naming the account whose own copy it is. */
  description(sourceAmi: string): string;
}

/** Every copy the fleet's recipients want: recipient by recipient, image by image, Region by Region. */
export function desiredRecipientCopies(fleet: Fleet): DesiredRecipientCopy[] {
  return fleet.recipients.flatMap((recipient) => recipientCopies(fleet, recipient));
}

/** The copies one recipient wants. */
export function recipientCopies(fleet: Fleet, recipient: Recipient): DesiredRecipientCopy[] {
  const targets = new Map(fleet.regions.map((target) => [target.region, target]));
  return desiredCopies(recipientView(fleet, recipient)).map((copy) => ({
    recipient,
    copy,
    owner: desiredCopy(fleet, copy.image, targets.get(copy.target.region)!),
    tags: (sourceAmi: string, ownerCopyId: string) => ({ ...copy.tags(sourceAmi), [OWNER_COPY_TAG]: ownerCopyId }),
    description: (sourceAmi: string) => `${desiredCopy(fleet, copy.image, targets.get(copy.target.region)!).description(sourceAmi)} (account ${recipient.account}'s own copy)`,
  }));
}

/** The fleet's pointers in one recipient's account, each naming its own copy there. */
export function recipientPointers(fleet: Fleet, recipient: Recipient): DesiredPointer[] {
  return desiredPointers(recipientView(fleet, recipient));
}

/** The owner's key a recipient needs a grant on in a Region: the copy's customer managed key, unless the key policy admits recipients. */
export function recipientGrantKey(fleet: Fleet, region: string): string | undefined {
  if (fleet.keyPolicyGrantsRecipients) return undefined;
  const target = fleet.regions.find((t) => t.region === region);
  return target?.encrypted && target.kmsKeyId ? target.kmsKeyId : undefined;
}

/**
 * The fleet as one recipient's account holds it: its Regions, its own copies (encrypted with its
 * key where it has one; encrypted, with whatever key, where the owner's copy is), shared with
 * no one, tagged with its tags, and the fleet's pointers naming them. The reconciler diffs the
 * recipient's account against it as against a fleet; its addresses are the recipient's.
 */
export function recipientView(fleet: Fleet, recipient: Recipient): Fleet {
  const none = { accounts: [], organizationArns: [], organizationalUnitArns: [], public: false };
  const regions = recipient.regions.flatMap(({ region, kmsKeyId }) => {
    const target = fleet.regions.find((t) => t.region === region);
    if (!target) return [];
    const encrypted = kmsKeyId !== undefined || target.encrypted === true ? true : target.encrypted;
    return [{ region, share: none, ...(encrypted !== undefined ? { encrypted } : {}), ...(kmsKeyId !== undefined ? { kmsKeyId } : {}) }];
  });
  return { ...fleet, regions, share: none, tags: recipient.tags, recipients: [], keyPolicyGrantsRecipients: true, account: recipient.account };
}
