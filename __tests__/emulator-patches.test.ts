import {
  CopyImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EnableEbsEncryptionByDefaultCommand,
  ModifySnapshotAttributeCommand,
} from "@aws-sdk/client-ec2";
import { CreateGrantCommand, CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { assumeRole, Ec2 } from "./helpers/live";
import { Moto, startMoto } from "./helpers/moto";

/**
 * emulator/moto_patches.py makes moto behave as AWS does where ami-fleet's tests need it (CopyImage
 * encryption and tags, NotFound for a deregistered AMI, DescribeImages paging, encryption by
 * default, SSM data types kept on overwrite). These tests pin both sides: the patch works, and plain
 * moto still lacks it. When a "plain moto" assertion fails, moto models it itself: delete the patch.
 */
jest.setTimeout(60_000);

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555";

/**
 * Three copies' snapshots: one private, one another account may restore, one public. Returns which
 * DescribeSnapshots(OwnerIds=self, RestorableByUserIds=all) lists, and which that account may restore.
 */
async function publicSnapshotsListed(moto: Moto): Promise<{ listed: string[]; byAccount: string[] }> {
  const ec2 = new Ec2(moto.env);
  const source = await ec2.registerSource("us-east-1", "public-snapshot-probe");
  const snapshotOf: Record<string, string> = {};
  for (const name of ["private", "private-shared", "public"]) {
    const copy = await ec2.in("eu-west-1").send(new CopyImageCommand({ SourceImageId: source, SourceRegion: "us-east-1", Name: name }));
    const [image] = (await ec2.in("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [copy.ImageId!] }))).Images!;
    snapshotOf[image.BlockDeviceMappings![0].Ebs!.SnapshotId!] = name;
  }
  const ids = Object.keys(snapshotOf);
  const add = (snapshotId: string, permission: { UserId?: string; Group?: "all" }) =>
    ec2.in("eu-west-1").send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission", OperationType: "add", ...(permission.UserId ? { UserIds: [permission.UserId] } : { GroupNames: ["all"] }) }));
  await add(ids.find((id) => snapshotOf[id] === "private-shared")!, { UserId: "444455556666" });
  await add(ids.find((id) => snapshotOf[id] === "public")!, { Group: "all" });
  const names = async (restorableBy: string) =>
    ((await ec2.in("eu-west-1").send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], RestorableByUserIds: [restorableBy] }))).Snapshots ?? [])
      .map((s) => snapshotOf[s.SnapshotId!] ?? s.SnapshotId!)
      .filter((name) => ids.some((id) => snapshotOf[id] === name))
      .sort();
  return { listed: await names("all"), byAccount: await names("444455556666") };
}

async function copyEncryptedAndTagged(moto: Moto) {
  const ec2 = new Ec2(moto.env);
  const source = await ec2.registerSource("us-east-1", "patch-probe");
  const copy = await ec2.in("eu-west-1").send(
    new CopyImageCommand({
      SourceImageId: source,
      SourceRegion: "us-east-1",
      Name: "patch-probe-copy",
      Encrypted: true,
      KmsKeyId: KEY,
      TagSpecifications: [{ ResourceType: "image", Tags: [{ Key: "ami-fleet:fleet", Value: "probe" }] }],
    }),
  );
  const [image] = (await ec2.in("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [copy.ImageId!] }))).Images!;
  const snapshotId = image.BlockDeviceMappings![0].Ebs!.SnapshotId!;
  const [snapshot] = (await ec2.in("eu-west-1").send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots!;
  return { tags: image.Tags ?? [], encrypted: snapshot.Encrypted, kmsKeyId: snapshot.KmsKeyId };
}

/** The error code (or HTTP status) DescribeImageAttribute gives for a deregistered AMI. */
async function attributeOfDeregistered(moto: Moto): Promise<string> {
  const ec2 = new Ec2(moto.env);
  const image = await ec2.registerSource("us-east-1", "gone");
  await ec2.deregister("us-east-1", image);
  try {
    await ec2.in("us-east-1").send(new DescribeImageAttributeCommand({ ImageId: image, Attribute: "launchPermission" }));
    return "no error";
  } catch (error: any) {
    return error.$metadata?.httpStatusCode === 500 ? "HTTP 500" : error.name;
  }
}

/** DescribeImages with MaxResults over 7 images: the first page's size and whether it has a NextToken. */
async function firstPage(moto: Moto) {
  const ec2 = new Ec2(moto.env);
  for (let i = 0; i < 7; i++) await ec2.registerSource("us-east-1", `page-probe-${i}`);
  const page = await ec2.in("us-east-1").send(new DescribeImagesCommand({ Owners: ["self"], MaxResults: 5 }));
  return { size: page.Images!.length, nextToken: page.NextToken !== undefined };
}

/** Whether a copy made without Encrypted is encrypted when the Region encrypts by default. */
async function copyUnderEncryptionByDefault(moto: Moto): Promise<boolean | undefined> {
  const ec2 = new Ec2(moto.env);
  await ec2.in("eu-west-1").send(new EnableEbsEncryptionByDefaultCommand({}));
  const source = await ec2.registerSource("us-east-1", "default-probe");
  const copy = await ec2.in("eu-west-1").send(new CopyImageCommand({ SourceImageId: source, SourceRegion: "us-east-1", Name: "default-probe-copy" }));
  const [image] = (await ec2.in("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [copy.ImageId!] }))).Images!;
  const [snapshot] = (await ec2.in("eu-west-1").send(new DescribeSnapshotsCommand({ SnapshotIds: [image.BlockDeviceMappings![0].Ebs!.SnapshotId!] }))).Snapshots!;
  return snapshot.Encrypted;
}

/** The DataType of an aws:ec2:image parameter after an overwrite that omits DataType (as the AWS provider's update does). */
async function dataTypeAfterOverwrite(moto: Moto): Promise<string | undefined> {
  const { SSMClient, PutParameterCommand, GetParameterCommand } = await import("@aws-sdk/client-ssm");
  const ssm = new SSMClient({ region: "eu-west-1", endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  await ssm.send(new PutParameterCommand({ Name: "/probe/latest", Value: "ami-0aaaaaaaaaaaaaaaa", Type: "String", DataType: "aws:ec2:image" }));
  await ssm.send(new PutParameterCommand({ Name: "/probe/latest", Value: "ami-0bbbbbbbbbbbbbbbb", Type: "String", Overwrite: true }));
  return (await ssm.send(new GetParameterCommand({ Name: "/probe/latest" }))).Parameter!.DataType;
}

const RECIPIENT = "222233334444";

/**
 * An owner's encrypted AMI shared with RECIPIENT as the copy document says (launch permission,
 * snapshot read access in the provider's CreateVolumePermission.Add form, a grant on the key unless
 * `grant: false`), then copied by the recipient with a key of its own.
 */
async function crossAccountCopy(moto: Moto, share: { snapshot: boolean; grant: boolean }) {
  const owner = new Ec2(moto.env);
  const ownerKms = new KMSClient({ region: "eu-west-1", endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const ownerKey = (await ownerKms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  const source = await owner.registerSource("eu-west-1", "shared-probe");
  const shared = await owner.in("eu-west-1").send(new CopyImageCommand({ SourceImageId: source, SourceRegion: "eu-west-1", Name: "shared-probe-encrypted", Encrypted: true, KmsKeyId: ownerKey }));
  const imageId = shared.ImageId!;
  await owner.addPermission("eu-west-1", imageId, { UserId: RECIPIENT });
  const [image] = (await owner.in("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images!;
  const snapshotId = image.BlockDeviceMappings![0].Ebs!.SnapshotId!;
  if (share.snapshot) {
    await owner.in("eu-west-1").send(
      new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission", CreateVolumePermission: { Add: [{ UserId: RECIPIENT }] } }),
    );
  }
  const snapshotReaders = (await owner.in("eu-west-1").send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission" })))
    .CreateVolumePermissions!.map((p) => p.UserId);
  if (share.grant) {
    await ownerKms.send(
      new CreateGrantCommand({ KeyId: ownerKey, GranteePrincipal: `arn:aws:iam::${RECIPIENT}:root`, Operations: ["Decrypt", "DescribeKey", "CreateGrant", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey"] }),
    );
  }
  const credentials = await assumeRole(moto.env, `arn:aws:iam::${RECIPIENT}:role/ami-fleet-recipient`);
  const recipient = new Ec2(moto.env, credentials);
  const recipientKms = new KMSClient({ region: "eu-west-1", endpoint: moto.endpoint, credentials });
  const recipientKey = (await recipientKms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  try {
    const copy = await recipient.in("eu-west-1").send(
      new CopyImageCommand({ SourceImageId: imageId, SourceRegion: "eu-west-1", Name: "own-copy", Encrypted: true, KmsKeyId: recipientKey }),
    );
    const [own] = (await recipient.in("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [copy.ImageId!] }))).Images!;
    const [snapshot] = (await recipient.in("eu-west-1").send(new DescribeSnapshotsCommand({ SnapshotIds: [own.BlockDeviceMappings![0].Ebs!.SnapshotId!] }))).Snapshots!;
    return { snapshotReaders, copy: { owner: own.OwnerId, keyIsRecipients: snapshot.KmsKeyId === recipientKey, encrypted: snapshot.Encrypted } };
  } catch (error: any) {
    return { snapshotReaders, error: `${error.name}: ${error.message}` };
  }
}

describe("emulator patch layer", () => {
  it("patched: a recipient copies an AMI shared with it (launch permission, snapshot read access, key grant) and owns the copy", async () => {
    const moto = await startMoto();
    try {
      expect(await crossAccountCopy(moto, { snapshot: true, grant: true })).toEqual({
        snapshotReaders: [RECIPIENT],
        copy: { owner: RECIPIENT, keyIsRecipients: true, encrypted: true },
      });
      await moto.reset();
      expect(await crossAccountCopy(moto, { snapshot: false, grant: true })).toEqual({
        snapshotReaders: [],
        error: "InvalidRequest: You do not have permission to access the storage of this ami",
      });
      await moto.reset();
      expect(await crossAccountCopy(moto, { snapshot: true, grant: false })).toMatchObject({ error: expect.stringMatching(/^InvalidRequest: Given key ID is not accessible/) });
    } finally {
      await moto.stop();
    }
  });

  it("plain moto still ignores CreateVolumePermission.Add and cannot copy another account's AMI (when this fails, drop those patches)", async () => {
    const moto = await startMoto({ patched: false });
    try {
      const result = await crossAccountCopy(moto, { snapshot: true, grant: true });
      expect(result.snapshotReaders).toEqual([]);
      expect(result.error).toMatch(/^InvalidAMIID\.NotFound/);
    } finally {
      await moto.stop();
    }
  });

  it("patched: DescribeImages pages with MaxResults; a copy is encrypted under EBS encryption by default", async () => {
    const moto = await startMoto();
    try {
      expect(await firstPage(moto)).toEqual({ size: 5, nextToken: true });
      await moto.reset();
      expect(await copyUnderEncryptionByDefault(moto)).toBe(true);
    } finally {
      await moto.stop();
    }
  });

  it("plain moto still lacks paging and encryption by default on copies (when this fails, drop that patch)", async () => {
    const moto = await startMoto({ patched: false });
    try {
      expect(await firstPage(moto)).toEqual({ size: 7, nextToken: false });
      await moto.reset();
      expect(await copyUnderEncryptionByDefault(moto)).toBe(false);
    } finally {
      await moto.stop();
    }
  });

  it("patched: a copy is encrypted with the requested key and tagged; a deregistered AMI is NotFound", async () => {
    const moto = await startMoto();
    try {
      expect(await copyEncryptedAndTagged(moto)).toEqual({
        tags: [{ Key: "ami-fleet:fleet", Value: "probe" }],
        encrypted: true,
        kmsKeyId: KEY,
      });
      expect(await attributeOfDeregistered(moto)).toBe("InvalidAMIID.NotFound");
    } finally {
      await moto.stop();
    }
  });

  it("patched: DescribeSnapshots with OwnerIds=self and RestorableByUserIds=all lists only the account's public snapshots; plain moto still lists every snapshot (when that fails, drop the patch)", async () => {
    const patched = await startMoto();
    const plain = await startMoto({ patched: false });
    try {
      expect(await publicSnapshotsListed(patched)).toEqual({ listed: ["public"], byAccount: ["private-shared", "public"] });
      expect((await publicSnapshotsListed(plain)).listed).toEqual(["private", "private-shared", "public"]);
    } finally {
      await patched.stop();
      await plain.stop();
    }
  });

  it("patched: an SSM overwrite without DataType keeps aws:ec2:image; plain moto still resets it to text (when that fails, drop the patch)", async () => {
    const patched = await startMoto();
    const plain = await startMoto({ patched: false });
    try {
      expect(await dataTypeAfterOverwrite(patched)).toBe("aws:ec2:image");
      expect(await dataTypeAfterOverwrite(plain)).toBe("text");
    } finally {
      await patched.stop();
      await plain.stop();
    }
  });

  it("plain moto still lacks both (when this fails, moto does it itself: drop that patch)", async () => {
    const moto = await startMoto({ patched: false });
    try {
      const result = await copyEncryptedAndTagged(moto);
      expect(result.encrypted).toBe(false);
      expect(result.tags).toEqual([]);
      expect(await attributeOfDeregistered(moto)).toBe("HTTP 500");
    } finally {
      await moto.stop();
    }
  });
});
