import { AmiCopy } from "@cdktf/provider-aws/lib/ami-copy";
import { AmiLaunchPermission } from "@cdktf/provider-aws/lib/ami-launch-permission";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { KmsGrant } from "@cdktf/provider-aws/lib/kms-grant";
import { Fn, ListTerraformIterator, TerraformIterator, TerraformLocal, TerraformOutput, Token } from "cdktf";
import { Construct } from "constructs";
import { copyResourceNameOf, DesiredGrants, desiredCopy, desiredGrants, DesiredPointer, desiredPointers, RECIPIENT_KEY_OPERATIONS } from "../fleet/desired";
import { pointerParameter } from "./pointer";
import { Fleet, SourceImage, TargetRegion } from "../fleet/fleet";
import { copiesOutputName, grantResourceName, keyGrantName, permissionResourceName, pointerResourceName, sourceDataName } from "../fleet/addresses";
import { StackHolds } from "../project/layout";
import { accountRootArn, LAUNCH_PERMISSIONS_LOCAL, LISTED_KINDS, PUBLIC, ShareEntry, shareTable, shareTableKey } from "../fleet/principals";

export { RECIPIENT_KEY_OPERATIONS } from "../fleet/desired";

/** Properties of an AmiFleet. */
export interface AmiFleetProps {
  /** The validated fleet (see `loadFleets`). */
  readonly fleet: Fleet;
  /** The kinds of resource to create (lib/project/layout). @default all */
  readonly holds?: StackHolds;
  /** Where launch permissions read the copy ids when the copies are in another stack. */
  readonly copyIdOf?: CopyIdOf;
}

/** The id of the copy of an image in a Region held by another stack, and the check that it exists. */
export type CopyIdOf = (imageKey: string, region: string) => { readonly id: string; readonly precondition: { condition: string; errorMessage: string } };

/**
 * One fleet as Terraform: a copy per image version and Region, launch permissions per copy and
 * principal, KMS grants for recipients of encrypted copies, and plan-time checks for the rules
 * that cannot be decided before the source image is known.
 *
 * Expects an AWS provider (v6, with the per-resource `region` argument) in the enclosing stack.
 * A fleet's recipients get their copies from stacks of their own, with a provider that assumes
 * their role: `addFleetStacks` makes them; this construct makes the owner's side only.
 *
 * @example
 * new AwsProvider(this, "aws", { region: "us-east-1" });
 * new AmiFleet(this, "golden", { fleet: loadFleets(["fleets/golden.yaml"])[0] });
 */
export class AmiFleet extends Construct {
  /** The copies by image key, then Region. */
  public readonly copies: ReadonlyMap<string, ReadonlyMap<string, AmiCopy>>;

  private readonly fleet: Fleet;
  private callerIdentity?: DataAwsCallerIdentity;
  private readonly shareLocal?: TerraformLocal;
  private readonly shareTable: Readonly<Record<string, ShareEntry>>;

  constructor(scope: Construct, id: string, props: AmiFleetProps) {
    super(scope, id);
    this.fleet = props.fleet;
    const holds = props.holds ?? { copies: true, permissions: true, grants: true, pointers: true };
    if (holds.permissions && !holds.copies && !props.copyIdOf) throw new Error("launch permissions without the copies need copyIdOf");
    if (holds.pointers && !holds.copies) throw new Error("pointers live with the copies");
    // Principal lists live once in a local (per distinct share), not once per copy.
    this.shareTable = shareTable(this.fleet.share, new Map(this.fleet.regions.map((target) => [target.region, target.share])));
    if (holds.permissions || holds.grants) {
      this.shareLocal = new TerraformLocal(this, LAUNCH_PERMISSIONS_LOCAL, this.shareTable);
      this.shareLocal.overrideLogicalId(LAUNCH_PERMISSIONS_LOCAL);
    }

    const copies = new Map<string, Map<string, AmiCopy>>();
    for (const image of this.fleet.images) {
      if (holds.copies) {
        const source = this.sourceFor(image);
        const byRegion = new Map<string, AmiCopy>();
        for (const target of this.fleet.regions) {
          const copy = this.copyFor(image, source, target);
          byRegion.set(target.region, copy);
          if (holds.permissions) this.launchPermissionsFor(image, target, copy.id);
        }
        copies.set(image.key, byRegion);
        const output = new TerraformOutput(this, copiesOutputName(image.key), {
          description: `Copy AMI id by Region of image ${image.key} of fleet ${this.fleet.name}`,
          value: Object.fromEntries([...byRegion].map(([region, copy]) => [region, copy.id])),
        });
        output.overrideLogicalId(copiesOutputName(image.key));
      } else if (holds.permissions) {
        for (const target of this.fleet.regions) {
          const remote = props.copyIdOf!(image.key, target.region);
          this.launchPermissionsFor(image, target, remote.id, [remote.precondition]);
        }
      }
    }
    this.copies = copies;
    if (holds.grants) for (const grants of desiredGrants(this.fleet)) this.keyGrantsFor(grants);
    if (holds.pointers) for (const pointer of desiredPointers(this.fleet)) this.pointerFor(pointer);
  }

  /** The pointer's SSM parameter in its Region, valued with the copy's id (data type aws:ec2:image). */
  private pointerFor(desired: DesiredPointer): void {
    const copy = this.copies.get(desired.copy.image.key)!.get(desired.target.region)!;
    pointerParameter(this, pointerResourceName(desired.pointer.key, desired.target.region), desired, copy.id);
  }

  /** The source image as read at plan time: the id to copy and the data for preconditions. */
  private sourceFor(image: SourceImage): { amiId: string; data: DataAwsAmi } {
    const name = sourceDataName(image.key);
    const region = this.fleet.sourceRegion;
    let data: DataAwsAmi;
    switch (image.source.kind) {
      case "ami":
        data = new DataAwsAmi(this, name, { region, filter: [{ name: "image-id", values: [image.source.amiId] }] });
        break;
      case "lookup":
        data = new DataAwsAmi(this, name, {
          region,
          owners: [...image.source.owners],
          mostRecent: image.source.mostRecent,
          filter: [{ name: "name", values: [image.source.name] }],
        });
        break;
      case "ssm": {
        const parameter = new DataAwsSsmParameter(this, `${name}_parameter`, { region, name: image.source.parameter });
        parameter.overrideLogicalId(`${name}_parameter`);
        data = new DataAwsAmi(this, name, { region, filter: [{ name: "image-id", values: [parameter.insecureValue] }] });
        break;
      }
    }
    data.overrideLogicalId(name);
    // A literal id keeps the synthesized copy readable in review; others resolve at plan time.
    return { amiId: image.source.kind === "ami" ? image.source.amiId : data.id, data };
  }

  private copyFor(image: SourceImage, source: { amiId: string; data: DataAwsAmi }, target: TargetRegion): AmiCopy {
    const fleet = this.fleet;
    const desired = desiredCopy(fleet, image, target);
    const name = copyResourceNameOf(desired);
    const copy = new AmiCopy(this, name, {
      region: target.region,
      name: desired.name(source.amiId),
      description: desired.description(source.amiId),
      sourceAmiId: source.amiId,
      sourceAmiRegion: fleet.sourceRegion,
      encrypted: target.encrypted,
      kmsKeyId: target.kmsKeyId,
      deprecationTime: desired.deprecateAt,
      tags: { ...desired.tags(source.amiId) },
      timeouts: fleet.copyTimeout ? { create: fleet.copyTimeout } : undefined,
      lifecycle: { createBeforeDestroy: true, precondition: this.preconditionsFor(image, source.data, target) },
    });
    copy.overrideLogicalId(name);
    return copy;
  }

  /** Rules that need the source image, which is only known at plan time (DOMAIN.md "plan"). */
  private preconditionsFor(image: SourceImage, data: DataAwsAmi, target: TargetRegion) {
    const ami = data.fqn;
    const conditions = [];
    if (target.encrypted === false && image.encrypted !== false) {
      conditions.push({
        condition: `\${!anytrue([for mapping in ${ami}.block_device_mappings : lookup(mapping.ebs, "encrypted", "false") == "true"])}`,
        errorMessage:
          `${this.fleet.file}: encryption.encrypted is false, but source image ${image.key} (\${${ami}.id}) has encrypted ` +
          `snapshots, and an encrypted snapshot cannot be copied unencrypted. Remove encrypted: false or use an unencrypted source.`,
      });
    }
    const recipients = this.fleet.recipients.filter((recipient) => recipient.regions.some((r) => r.region === target.region));
    if (recipients.length > 0) {
      conditions.push({
        condition: `\${length(${ami}.product_codes) == 0 && ${ami}.platform != "windows"}`,
        errorMessage:
          `${this.fleet.file}: source image ${image.key} (\${${ami}.id}) is a Windows or Marketplace (billing product code) AMI, and ` +
          `such AMIs cannot be copied into another account, as recipients ${recipients.map((r) => r.account).join(", ")} would in ${target.region}. ` +
          `Remove ${target.region} from those recipients, or use another source.`,
      });
    }
    this.callerIdentity ??= this.newCallerIdentity();
    conditions.push({
      condition:
        `\${${ami}.owner_id == ${this.callerIdentity.fqn}.account_id || ` +
        `(length(${ami}.product_codes) == 0 && ${ami}.platform != "windows")}`,
      errorMessage:
        `${this.fleet.file}: source image ${image.key} (\${${ami}.id}) belongs to account \${${ami}.owner_id} and is a ` +
        `Windows or Marketplace (billing product code) AMI: such AMIs cannot be copied into another account. ` +
        `Copy it in its owner's account, or use another source.`,
    });
    return conditions;
  }

  private newCallerIdentity(): DataAwsCallerIdentity {
    const identity = new DataAwsCallerIdentity(this, "current");
    identity.overrideLogicalId("current");
    return identity;
  }

  private launchPermissionsFor(
    image: SourceImage,
    target: TargetRegion,
    imageId: string,
    precondition?: { condition: string; errorMessage: string }[],
  ): void {
    const lifecycle = precondition ? { precondition } : undefined;
    for (const spelling of Object.values(LISTED_KINDS)) {
      if (target.share[spelling.shareList].length === 0) continue;
      const name = permissionResourceName(image.key, target.region, spelling.group);
      const each = this.eachOf(target.region, spelling.localList);
      const permission = new AmiLaunchPermission(this, name, { forEach: each, region: target.region, imageId, lifecycle });
      // The principal argument by its Terraform name, from the one table of principal spellings.
      permission.addOverride(spelling.argument, each.value);
      permission.overrideLogicalId(name);
    }
    if (target.share.public) {
      const name = permissionResourceName(image.key, target.region, PUBLIC.group);
      const permission = new AmiLaunchPermission(this, name, { region: target.region, imageId, group: PUBLIC.value, lifecycle });
      permission.overrideLogicalId(name);
    }
  }

  /** A for_each over one list of the Region's entry in the launch_permissions local. */
  private eachOf(region: string, list: keyof ShareEntry): ListTerraformIterator {
    return TerraformIterator.fromList(Fn.lookupNested(this.shareLocal!.asAnyMap, [shareTableKey(this.shareTable, region), list]));
  }

  /** Grants on the Region's key for each recipient account of an encrypted copy (DOMAIN.md "Encryption"). */
  private keyGrantsFor({ target, keyId }: DesiredGrants): void {
    const fleet = this.fleet;
    const name = grantResourceName(target.region);
    const each = this.eachOf(target.region, LISTED_KINDS.account.localList);
    const grant = new KmsGrant(this, name, {
      forEach: each,
      region: target.region,
      name: keyGrantName(fleet.name, Token.asString(each.value)),
      keyId,
      granteePrincipal: accountRootArn(fleet.partition, Token.asString(each.value)),
      operations: [...RECIPIENT_KEY_OPERATIONS],
    });
    grant.overrideLogicalId(name);
  }
}
