import { CopyImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand } from "@aws-sdk/client-ec2";
import { Ec2 } from "./helpers/live";
import { Moto, startMoto } from "./helpers/moto";

/**
 * emulator/moto_patches.py makes CopyImage honour Encrypted, KmsKeyId and TagSpecifications, as
 * AWS does. These tests pin both sides: the patch works, and plain moto still lacks it. When the
 * second test fails, moto models it itself: delete the patch.
 */
jest.setTimeout(60_000);

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555";

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

describe("emulator patch layer", () => {
  it("patched: a copy is encrypted with the requested key and tagged", async () => {
    const moto = await startMoto();
    try {
      expect(await copyEncryptedAndTagged(moto)).toEqual({
        tags: [{ Key: "ami-fleet:fleet", Value: "probe" }],
        encrypted: true,
        kmsKeyId: KEY,
      });
    } finally {
      await moto.stop();
    }
  });

  it("plain moto still ignores Encrypted, KmsKeyId and TagSpecifications on CopyImage (else drop the patch)", async () => {
    const moto = await startMoto({ patched: false });
    try {
      const result = await copyEncryptedAndTagged(moto);
      expect(result.encrypted).toBe(false);
      expect(result.tags).toEqual([]);
    } finally {
      await moto.stop();
    }
  });
});
