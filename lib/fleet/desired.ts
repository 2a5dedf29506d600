import { copyResourceName, FleetAddress } from "./addresses";
import { Fleet, MANAGEMENT_TAGS, Pointer, POINTER_TAG, renderCopyName, SourceImage, TargetRegion } from "./fleet";
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
    address: { type: "aws_ami_copy", image: image.key, region: target.region },
    deprecateAt: image.deprecateAt ?? fleet.deprecateAt,
    principals: sharePrincipals(target.share),
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
      address: { type: "aws_ssm_parameter" as const, pointer: pointer.key, region: target.region },
      tags: { ...fleet.tags, [MANAGEMENT_TAGS.fleet]: fleet.name, [POINTER_TAG]: pointer.key },
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
