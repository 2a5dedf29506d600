import {
  CopyImageCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  ModifySnapshotAttributeCommand,
  DeregisterImageCommand,
  EC2Client,
  LaunchPermission,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import { AddTagsToResourceCommand, DeleteParameterCommand, DescribeParametersCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@smithy/types";
import pLimit = require("p-limit");
import { CreateGrantCommand, KMSClient } from "@aws-sdk/client-kms";
import { desiredCopies, desiredGrants, desiredPointers, RECIPIENT_KEY_OPERATIONS, recipientCopies, recipientGrantKey, recipientPointers } from "../../lib/fleet/desired";
import { keyGrantName } from "../../lib/fleet/addresses";
import { Fleet } from "../../lib/fleet/fleet";
import { toLaunchPermission } from "../../lib/fleet/principals";
import { HARNESS_SESSION } from "./iam";

/** Credentials of a role in another account, assumed through STS (the emulator takes the account from the role). */
export async function assumeRole(env: NodeJS.ProcessEnv, roleArn: string): Promise<AwsCredentialIdentity> {
  const sts = new STSClient({ region: "us-east-1", endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const { Credentials } = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: HARNESS_SESSION }));
  return { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken };
}

/** EC2 clients per Region against whatever AWS_ENDPOINT_URL points at (as the default account, or with `credentials`). */
export class Ec2 {
  private readonly clients = new Map<string, EC2Client>();
  private readonly credentials: AwsCredentialIdentity;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    credentials?: AwsCredentialIdentity,
  ) {
    this.credentials = credentials ?? { accessKeyId: "test", secretAccessKey: "test" };
  }

  in(region: string): EC2Client {
    let client = this.clients.get(region);
    if (!client) {
      client = new EC2Client({
        region,
        endpoint: this.env.AWS_ENDPOINT_URL,
        credentials: this.credentials,
      });
      this.clients.set(region, client);
    }
    return client;
  }

  /** Registers a source AMI (moto backs it with one unencrypted snapshot). */
  async registerSource(region: string, name: string): Promise<string> {
    const out = await this.in(region).send(
      new RegisterImageCommand({ Name: name, RootDeviceName: "/dev/xvda", Architecture: "x86_64", VirtualizationType: "hvm" }),
    );
    return out.ImageId!;
  }

  /**
   * Creates what `cdktf deploy` would for a fleet: a tagged copy per image and Region and its launch
   * permissions, from the desired-state model the construct synthesizes (names, tags, principals).
   * Returns copy ids by `${imageKey}/${region}`.
   */
  async applyFleet(fleet: Fleet, sourceIds: Record<string, string>): Promise<Map<string, string>> {
    const copies = new Map<string, string>();
    // At most 16 at once: the emulator answers an error page when hundreds arrive together.
    const limit = pLimit(16);
    await Promise.all(
      desiredCopies(fleet).map((desired) => limit(async () => {
        const { image, target } = desired;
        const source = sourceIds[image.key];
        const copy = await this.in(target.region).send(
          new CopyImageCommand({
            SourceImageId: source,
            SourceRegion: fleet.sourceRegion,
            Name: desired.name(source),
            Description: desired.description(source),
            Encrypted: target.encrypted,
            KmsKeyId: target.kmsKeyId,
            TagSpecifications: [{ ResourceType: "image", Tags: Object.entries(desired.tags(source)).map(([Key, Value]) => ({ Key, Value })) }],
          }),
        );
        const add = desired.principals.map(toLaunchPermission) as LaunchPermission[];
        if (add.length > 0) {
          await this.in(target.region).send(new ModifyImageAttributeCommand({ ImageId: copy.ImageId, LaunchPermission: { Add: add } }));
        }
        copies.set(`${image.key}/${target.region}`, copy.ImageId!);
      })),
    );
    for (const pointer of desiredPointers(fleet)) {
      await this.putPointer(pointer.target.region, pointer.pointer.parameter, copies.get(`${pointer.copy.image.key}/${pointer.target.region}`)!, pointer);
    }
    // The grants on each Region's key for the accounts the encrypted copies are shared with.
    for (const { target, keyId, accounts } of desiredGrants(fleet)) {
      const kms = new KMSClient({ region: target.region, endpoint: this.env.AWS_ENDPOINT_URL, credentials: this.credentials });
      for (const account of accounts) {
        await kms.send(new CreateGrantCommand({ KeyId: keyId, Name: keyGrantName(fleet.name, account), GranteePrincipal: `arn:aws:iam::${account}:root`, Operations: [...RECIPIENT_KEY_OPERATIONS] }));
      }
    }
    return copies;
  }

  /**
   * What a recipient stack's apply does, for every recipient of `fleet` (this Ec2 is the owner's):
   * read access to each owner copy's snapshots and the grant on the owner's key, then, through
   * the recipient's role, its own copy of each (named as the owner's, tagged as the stack tags it)
   * and the fleet's pointers in its account. Returns the recipients' copy ids by
   * `${account}/${imageKey}/${region}`.
   */
  async applyRecipients(fleet: Fleet, sourceIds: Record<string, string>, ownerCopies: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    const copies = new Map<string, string>();
    for (const recipient of fleet.recipients) {
      const own = new Ec2(this.env, await assumeRole(this.env, recipient.roleArn));
      for (const { region } of recipient.regions) {
        const key = recipientGrantKey(fleet, region);
        if (key) {
          const kms = new KMSClient({ region, endpoint: this.env.AWS_ENDPOINT_URL, credentials: this.credentials });
          await kms.send(new CreateGrantCommand({ KeyId: key, Name: keyGrantName(fleet.name, recipient.account), GranteePrincipal: `arn:aws:iam::${recipient.account}:root`, Operations: [...RECIPIENT_KEY_OPERATIONS] }));
        }
      }
      for (const desired of recipientCopies(fleet, recipient)) {
        const region = desired.copy.target.region;
        const ownerCopy = ownerCopies.get(`${desired.owner.image.key}/${region}`)!;
        const [image] = (await this.in(region).send(new DescribeImagesCommand({ ImageIds: [ownerCopy] }))).Images!;
        for (const mapping of image.BlockDeviceMappings ?? []) {
          if (!mapping.Ebs?.SnapshotId) continue;
          await this.in(region).send(
            new ModifySnapshotAttributeCommand({ SnapshotId: mapping.Ebs.SnapshotId, Attribute: "createVolumePermission", CreateVolumePermission: { Add: [{ UserId: recipient.account }] } }),
          );
        }
        const source = sourceIds[desired.owner.image.key];
        const copy = await own.in(region).send(
          new CopyImageCommand({
            SourceImageId: ownerCopy,
            SourceRegion: region,
            Name: image.Name,
            Description: desired.description(source),
            Encrypted: desired.copy.target.kmsKeyId !== undefined ? true : undefined,
            KmsKeyId: desired.copy.target.kmsKeyId,
            TagSpecifications: [{ ResourceType: "image", Tags: Object.entries(desired.tags(source, ownerCopy)).map(([Key, Value]) => ({ Key, Value })) }],
          }),
        );
        copies.set(`${recipient.account}/${desired.owner.image.key}/${region}`, copy.ImageId!);
      }
      for (const pointer of recipientPointers(fleet, recipient)) {
        const region = pointer.target.region;
        await own.putPointer(region, pointer.pointer.parameter, copies.get(`${recipient.account}/${pointer.pointer.image}/${region}`)!, pointer);
      }
    }
    return copies;
  }

  /**
   * Writes a pointer parameter as the stack does (data type aws:ec2:image; `created`: its description
   * and tags, when the stack creates it), or overwrites its value as by hand, keeping its description
   * (`aws ssm put-parameter --overwrite` with the description it has).
   */
  async putPointer(region: string, name: string, imageId: string, created?: { description: string; tags: Readonly<Record<string, string>> }): Promise<void> {
    const ssm = this.ssm(region);
    const description =
      created?.description ?? (await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: "Name", Option: "Equals", Values: [name] }] }))).Parameters?.[0]?.Description;
    await ssm.send(new PutParameterCommand({ Name: name, Value: imageId, Type: "String", DataType: "aws:ec2:image", Overwrite: true, ...(description !== undefined ? { Description: description } : {}) }));
    if (created) {
      await ssm.send(new AddTagsToResourceCommand({ ResourceType: "Parameter", ResourceId: name, Tags: Object.entries(created.tags).map(([Key, Value]) => ({ Key, Value })) }));
    }
  }

  async deletePointer(region: string, name: string): Promise<void> {
    await this.ssm(region).send(new DeleteParameterCommand({ Name: name }));
  }

  private ssm(region: string): SSMClient {
    return new SSMClient({ region, endpoint: this.env.AWS_ENDPOINT_URL, credentials: this.credentials });
  }

  async addPermission(region: string, imageId: string, permission: LaunchPermission): Promise<void> {
    await this.in(region).send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [permission] } }));
  }

  async removePermission(region: string, imageId: string, permission: LaunchPermission): Promise<void> {
    await this.in(region).send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Remove: [permission] } }));
  }

  async deregister(region: string, imageId: string): Promise<void> {
    await this.in(region).send(new DeregisterImageCommand({ ImageId: imageId }));
  }

  async tag(region: string, imageId: string, tags: Record<string, string>): Promise<void> {
    await this.in(region).send(
      new CreateTagsCommand({ Resources: [imageId], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }),
    );
  }
}
