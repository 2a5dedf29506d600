import { ProblemSink, quoteValue } from "../errors";
import { sharesWithOthers, SourceImage, TargetRegion } from "../fleet";
import { KMS_KEY_ARN } from "../formats";
import { partitionOf } from "../regions";
import { FleetFile } from "../schema";

/** Rules for encryption (DOMAIN.md "Encryption"): one key per Region, in that Region and partition, shareable, and what sharing encrypted copies needs. */

/** Fills each Region's encryption and checks keys, key Regions and what sharing needs. */
export function checkEncryption(problems: ProblemSink, document: FleetFile, images: readonly SourceImage[], regions: TargetRegion[]): void {
  const encryption = document.encryption;
  const regionIndex = new Map(document.regions.map((entry, i) => [typeof entry === "string" ? entry : entry.region, i]));
  const keyPaths = new Map<string, string>();
  for (const [region, key] of Object.entries(encryption?.kmsKeyIds ?? {})) {
    const path = `encryption.kmsKeyIds[${JSON.stringify(region)}]`.replace(/\["([\w-]+)"\]$/, ".$1");
    if (!regionIndex.has(region)) {
      problems.add(path, `${region} is not a target Region of this fleet`, "Add it to regions, or remove this key");
      continue;
    }
    const regionEntry = document.regions[regionIndex.get(region)!];
    if (typeof regionEntry !== "string" && regionEntry.kmsKeyId !== undefined && regionEntry.kmsKeyId !== key) {
      problems.add(
        path,
        `${region} has two keys: this one and regions[${regionIndex.get(region)}].kmsKeyId`,
        "Keep one of them",
      );
      continue;
    }
    keyPaths.set(region, path);
  }
  if (encryption?.acknowledgeUnencryptedSharing === true && encryption.encrypted === true) {
    problems.add(
      "encryption.acknowledgeUnencryptedSharing",
      "every copy is encrypted (encryption.encrypted: true), so none is shared unencrypted",
      "Remove acknowledgeUnencryptedSharing, or encrypted: true if the copies are meant to stay unencrypted",
    );
  }
  const encryptedImage = images.find((image) => image.encrypted === true);
  if (encryption?.encrypted === false && encryptedImage) {
    problems.add(
      "encryption.encrypted",
      `source image "${encryptedImage.key}" is encrypted, and an encrypted snapshot cannot be copied unencrypted`,
      "Remove encrypted: false (copies stay encrypted), or choose an unencrypted source",
    );
  }
  const encryptedPublic: string[] = [];
  regions.forEach((target, i) => {
    const index = regionIndex.get(target.region) ?? i;
    const ownKeyPath =
      typeof document.regions[index] === "string" ? undefined : `regions[${index}].kmsKeyId`;
    const kmsKeyId = target.kmsKeyId ?? encryption?.kmsKeyIds?.[target.region];
    const keyPath = target.kmsKeyId !== undefined ? ownKeyPath! : keyPaths.get(target.region);
    let encrypted = encryption?.encrypted;
    if (kmsKeyId !== undefined && keyPath !== undefined) {
      if (encryption?.encrypted === false) {
        problems.add(keyPath, `a key is set for ${target.region} but encryption.encrypted is false`, "Remove the key, or set encryption.encrypted: true");
      }
      checkKmsKey(problems, kmsKeyId, keyPath, target.region);
      encrypted = true;
    }
    const shared = sharesWithOthers(target.share);
    if (encrypted === true && target.share.public) {
      encryptedPublic.push(target.region);
    } else if (encrypted === true && kmsKeyId === undefined && shared) {
      problems.add(
        `encryption.kmsKeyIds.${target.region}`,
        `copies in ${target.region} would be encrypted with the default EBS key (alias/aws/ebs), which cannot be shared with other accounts`,
        `Set a customer managed key for ${target.region} (encryption.kmsKeyIds.${target.region} or regions[${index}].kmsKeyId)`,
      );
    } else if (
      encrypted === true &&
      !(encryption?.keyPolicyGrantsRecipients ?? false) &&
      (target.share.organizationArns.length > 0 || target.share.organizationalUnitArns.length > 0)
    ) {
      problems.add(
        "encryption.keyPolicyGrantsRecipients",
        `copies in ${target.region} are encrypted and shared with an Organization or OU, which a KMS grant cannot name`,
        "Allow the Organization in the key policy (condition aws:PrincipalOrgID; see README) and set encryption.keyPolicyGrantsRecipients: true",
      );
    }
    regions[i] = { ...target, encrypted, kmsKeyId: encrypted ? kmsKeyId : undefined };
  });
  // A copy of an encrypted source stays encrypted whatever the fleet asks, and EC2 refuses to make it public.
  if (encryptedImage && encryptedPublic.length === 0) {
    const publicRegions = regions.filter((t) => t.share.public && t.encrypted !== true).map((t) => t.region);
    encryptedPublic.push(...publicRegions);
  }
  if (encryptedPublic.length > 0) {
    const publicPath = document.share?.public
      ? "share.public"
      : `regions[${regionIndex.get(encryptedPublic[0])}].share.public`;
    problems.add(
      publicPath,
      `copies in ${encryptedPublic.join(", ")} are encrypted${encryptedImage ? ` (source image "${encryptedImage.key}" is encrypted, and so are its copies)` : ""}, and encrypted AMIs cannot be made public`,
      encryptedImage ? "Remove public sharing, or share an unencrypted source" : "Remove public sharing, or leave these copies unencrypted",
    );
  }
}

function checkKmsKey(problems: ProblemSink, arn: string, path: string, region: string): void {
  if (/(^|:)alias\/aws\/ebs$/.test(arn)) {
    problems.add(
      path,
      "alias/aws/ebs is the AWS managed key: AMIs encrypted with it cannot be shared with other accounts",
      `Use a customer managed key ARN from ${region}`,
    );
    return;
  }
  const match = KMS_KEY_ARN.exec(arn);
  if (!match) {
    problems.add(
      path,
      `${quoteValue(arn)} is not a KMS key ARN`,
      `Use the form arn:aws:kms:${region}:111122223333:key/KEY-ID, where KEY-ID is the key's UUID (or mrk-… for a multi-Region key)`,
    );
    return;
  }
  const [, keyPartition, keyRegion] = match;
  if (keyRegion !== region) {
    problems.add(path, `key is in ${keyRegion}, copy is in ${region}`, `Use a key from ${region}`);
  } else if (keyPartition !== partitionOf(region)) {
    problems.add(path, `key ARN is in partition ${keyPartition}, ${region} is in ${partitionOf(region)}`, `Use arn:${partitionOf(region)}:kms:...`);
  }
}
