import { AmiCopy } from "@cdktf/provider-aws/lib/ami-copy";
import { AmiLaunchPermission } from "@cdktf/provider-aws/lib/ami-launch-permission";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { KmsGrant } from "@cdktf/provider-aws/lib/kms-grant";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SnapshotCreateVolumePermission } from "@cdktf/provider-aws/lib/snapshot-create-volume-permission";
import { TerraformOutput, TerraformResource } from "cdktf";
import { Construct } from "constructs";
import { formatAddress, keyGrantName, ownerCopyDataName, recipientCopiesOutputName } from "../fleet/addresses";
import { DesiredRecipientCopy, recipientCopies, recipientGrantKey, recipientPointers, RECIPIENT_KEY_OPERATIONS } from "../fleet/desired";
import { pointerParameter } from "./pointer";
import { Fleet, MANAGEMENT_TAGS, Recipient } from "../fleet/fleet";
import { accountRootArn } from "../fleet/principals";
import { CopyIdOf } from "./ami-fleet";

/** Properties of a RecipientCopies. */
export interface RecipientCopiesProps {
  /** The validated fleet. */
  readonly fleet: Fleet;
  readonly recipient: Recipient;
  /** Where the owner's copy of an image in a Region is (another stack's state), and the check that it is there. */
  readonly copyIdOf: CopyIdOf;
  /** The provider that assumes the recipient's role; the stack's default provider is the owner's. */
  readonly recipientProvider: AwsProvider;
}

/**
 * One recipient of a fleet (DOMAIN.md "Cross-account copying", the copy-and-share walkthrough):
 * on the owner's side, for each of the owner's copies in the recipient's Regions, a launch
 * permission for the recipient, read access to the copy's snapshots (createVolumePermission) and,
 * for copies under a customer managed key, a KMS grant on that key; on the recipient's side,
 * through its role, its own copy of each, re-encrypted with its key, and the fleet's pointers.
 *
 * The snapshot ids exist only once the owner's copy does, so the owner's copies come from another
 * stack's state (applied first) and their snapshots from a data source read at plan time.
 */
export class RecipientCopies extends Construct {
  /** The recipient's copies by image key, then Region. */
  public readonly copies: ReadonlyMap<string, ReadonlyMap<string, AmiCopy>>;

  private readonly notOwner: { condition: string; errorMessage: string };

  constructor(scope: Construct, id: string, props: RecipientCopiesProps) {
    super(scope, id);
    const { fleet, recipient, copyIdOf, recipientProvider } = props;
    // Terraform's own account (the owner's) must not be the recipient: validation sees only the keys' accounts.
    const caller = new DataAwsCallerIdentity(this, "current");
    caller.overrideLogicalId("current");
    this.notOwner = {
      condition: `\${${caller.fqn}.account_id != ${JSON.stringify(recipient.account)}}`,
      errorMessage: `${fleet.file}: recipient ${recipient.account} is the account this stack runs in, the owner's: a recipient is another account. Remove it from recipients.`,
    };
    const grants = new Map<string, KmsGrant>();
    for (const region of recipient.regions) {
      const keyId = recipientGrantKey(fleet, region.region);
      if (keyId === undefined) continue;
      const name = nameOf({ type: "aws_kms_grant", region: region.region, recipient: recipient.account });
      const grant = new KmsGrant(this, name, {
        region: region.region,
        name: keyGrantName(fleet.name, recipient.account),
        keyId,
        granteePrincipal: accountRootArn(fleet.partition, recipient.account),
        operations: [...RECIPIENT_KEY_OPERATIONS],
      });
      grant.overrideLogicalId(name);
      grants.set(region.region, grant);
    }
    const copies = new Map<string, Map<string, AmiCopy>>();
    for (const desired of recipientCopies(fleet, recipient)) {
      const grant = grants.get(desired.copy.target.region);
      const copy = this.copyFor(fleet, desired, copyIdOf, recipientProvider, grant);
      if (!copies.has(desired.owner.image.key)) copies.set(desired.owner.image.key, new Map());
      copies.get(desired.owner.image.key)!.set(desired.copy.target.region, copy);
    }
    this.copies = copies;
    for (const image of fleet.images) {
      const byRegion = copies.get(image.key);
      if (!byRegion) continue;
      const outputName = recipientCopiesOutputName(image.key);
      const output = new TerraformOutput(this, outputName, {
        description: `Copy AMI id by Region of image ${image.key} of fleet ${fleet.name} in account ${recipient.account}`,
        value: Object.fromEntries([...byRegion].map(([region, copy]) => [region, copy.id])),
      });
      output.overrideLogicalId(outputName);
    }
    for (const desired of recipientPointers(fleet, recipient)) {
      const copy = copies.get(desired.pointer.image)!.get(desired.target.region)!;
      pointerParameter(this, nameOf(desired.address), desired, copy.id, recipientProvider);
    }
  }

  /**
   * The owner's side of one copy (launch permission, snapshot permissions) and the recipient's
   * copy of it, created once the owner's side is in place.
   */
  private copyFor(fleet: Fleet, desired: DesiredRecipientCopy, copyIdOf: CopyIdOf, recipientProvider: AwsProvider, grant?: KmsGrant): AmiCopy {
    const { recipient, owner } = desired;
    const image = owner.image.key;
    const region = desired.copy.target.region;
    const kmsKeyId = desired.copy.target.kmsKeyId;
    const remote = copyIdOf(image, region);
    const dataName = ownerCopyDataName(image, region);
    // Read at plan time, in the owner's account: the owner copy's name, tags and snapshots.
    const ownerCopy = new DataAwsAmi(this, dataName, {
      region,
      owners: ["self"],
      filter: [{ name: "image-id", values: [remote.id] }],
      lifecycle: { precondition: [remote.precondition, this.notOwner] },
    });
    ownerCopy.overrideLogicalId(dataName);
    const permissionName = nameOf({ type: "aws_ami_launch_permission", image, region, group: "accounts", recipient: recipient.account });
    const permission = new AmiLaunchPermission(this, permissionName, { region, imageId: remote.id, accountId: recipient.account });
    permission.overrideLogicalId(permissionName);
    const snapshotsName = nameOf({ type: "aws_snapshot_create_volume_permission", image, region, recipient: recipient.account });
    const snapshotPermission = new SnapshotCreateVolumePermission(this, snapshotsName, { region, snapshotId: "${each.value}", accountId: recipient.account });
    // One instance per EBS snapshot of the owner's copy, keyed by its id (known at plan time: the copy exists).
    snapshotPermission.addOverride(
      "for_each",
      `\${toset([for mapping in ${ownerCopy.fqn}.block_device_mappings : lookup(mapping.ebs, "snapshot_id", "") if lookup(mapping.ebs, "snapshot_id", "") != ""])}`,
    );
    snapshotPermission.overrideLogicalId(snapshotsName);
    const copyName = nameOf(desired.copy.address);
    const ownerTag = (tag: string) => `\${${ownerCopy.fqn}.tags[${JSON.stringify(tag)}]}`;
    const dependsOn: TerraformResource[] = [permission, snapshotPermission, ...(grant ? [grant] : [])];
    const copy = new AmiCopy(this, copyName, {
      provider: recipientProvider,
      region,
      name: `\${${ownerCopy.fqn}.name}`,
      description: desired.description(ownerTag(MANAGEMENT_TAGS.sourceAmi)),
      sourceAmiId: remote.id,
      sourceAmiRegion: region,
      // The recipient's key where it has one; otherwise EC2 decides (an encrypted copy gets the recipient's default key).
      ...(kmsKeyId !== undefined ? { encrypted: true, kmsKeyId } : {}),
      deprecationTime: desired.copy.deprecateAt,
      tags: { ...desired.tags(ownerTag(MANAGEMENT_TAGS.sourceAmi), remote.id) },
      timeouts: fleet.copyTimeout ? { create: fleet.copyTimeout } : undefined,
      dependsOn,
      lifecycle: { createBeforeDestroy: true },
    });
    copy.overrideLogicalId(copyName);
    return copy;
  }
}

/** The resource name of a recipient's address (its address less the type). */
function nameOf(address: Parameters<typeof formatAddress>[0]): string {
  const formatted = formatAddress(address);
  return formatted.slice(formatted.indexOf(".") + 1);
}
