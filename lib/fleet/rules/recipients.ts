import { ProblemSink, quoteValue } from "../errors";
import { Recipient, RecipientRegion, SourceImage, TargetRegion } from "../fleet";
import { ACCOUNT_ID, KMS_KEY_ARN } from "../formats";
import { DEFAULT_RECIPIENT_ROLE, FleetFile } from "../schema";
import { MAX_USER_TAGS, checkTagMap } from "./copies";

/**
 * Rules for recipients, the accounts that get copies of their own (DOMAIN.md "Cross-account
 * copying"): a 12-digit account that is not the owner's and not also a plain share principal, a
 * role in that account, Regions among the fleet's, the recipient's own keys in its account and
 * Region, and on the owner side a customer managed key wherever the copy it copies is encrypted.
 */

/** An IAM role name, with an optional path (IAM's characters). */
const ROLE_NAME = /^(?:\/[\w+=,.@-]+)*\/?[\w+=,.@-]{1,64}$/;
/** An IAM role ARN. Groups: partition, account, name (with path). */
const ROLE_ARN = /^arn:([a-z-]+):iam::(\d{12}):role\/([\w+=,.@/-]{1,512})$/;

/** The fleet's recipients, normalized (every Region filled in, the role as an ARN); problems for the rest. */
export function checkRecipients(
  problems: ProblemSink,
  document: FleetFile,
  partition: string,
  images: readonly SourceImage[],
  regions: readonly TargetRegion[],
  fleetTags: Readonly<Record<string, string>>,
): Recipient[] {
  const recipients: Recipient[] = [];
  const seen = new Map<string, number>();
  const targets = new Set(regions.map((target) => target.region));
  const ownerAccounts = ownerAccountsOf(document);
  const shareAccounts = shareAccountPaths(document);
  (document.recipients ?? []).forEach((entry, index) => {
    const path = `recipients[${index}]`;
    let valid = true;
    const account = entry.account;
    if (!ACCOUNT_ID.test(account)) {
      problems.add(`${path}.account`, `${quoteValue(account)} is not an account id`, "Use the 12-digit AWS account id, quoted");
      return;
    }
    if (seen.has(account)) {
      problems.add(`${path}.account`, `account ${account} is listed twice (also recipients[${seen.get(account)}])`, "List each recipient once");
      return;
    }
    seen.set(account, index);
    const owner = ownerAccounts.get(account);
    if (owner !== undefined) {
      problems.add(
        `${path}.account`,
        `${account} is the owner account (the account of ${owner}): a recipient is another account, which gets copies of its own`,
        "Remove this recipient; the owner's copies are the fleet's copies",
      );
      valid = false;
    }
    const shared = shareAccounts.get(account);
    if (shared !== undefined) {
      problems.add(
        `${path}.account`,
        `${account} is also in ${shared}: both would manage the same launch permission, and removing one would revoke the other's`,
        `Remove it from ${shared}: a recipient gets launch permission on every copy it copies`,
      );
      valid = false;
    }
    const roleArn = checkRole(problems, entry.role, `${path}.role`, account, partition);
    const own: RecipientRegion[] = [];
    const names = entry.regions ?? regions.map((target) => target.region);
    const listed = new Map<string, number>();
    (entry.regions ?? []).forEach((region, i) => {
      if (!targets.has(region)) {
        problems.add(`${path}.regions[${i}]`, `${region} is not a target Region of this fleet`, "Add it to regions, or remove it here: a recipient copies the fleet's copies");
        valid = false;
      } else if (listed.has(region)) {
        problems.add(`${path}.regions[${i}]`, `${region} is listed twice (also regions[${listed.get(region)}])`, "List each Region once");
        valid = false;
      }
      listed.set(region, i);
    });
    for (const [region, key] of Object.entries(entry.kmsKeyIds ?? {})) {
      const keyPath = `${path}.kmsKeyIds.${region}`;
      if (!names.includes(region)) {
        problems.add(keyPath, `${region} is not one of this recipient's Regions`, `Remove this key, or add ${region} to ${path}.regions`);
        valid = false;
        continue;
      }
      if (!checkRecipientKey(problems, key, keyPath, region, account, partition)) valid = false;
    }
    // In the fleet's Region order, whatever order the recipient lists them in.
    const wanted = new Set(names);
    for (const target of regions.filter((t) => wanted.has(t.region))) {
      const region = target.region;
      // The recipient copies the owner's copy: an encrypted one is shared with its key, which must be
      // a customer managed key (the AWS managed key cannot be shared; DOMAIN.md "Encryption").
      const encrypted = target.encrypted === true || (target.encrypted === undefined && images.some((image) => image.encrypted === true));
      if (encrypted && target.kmsKeyId === undefined) {
        problems.add(
          `${path}.regions`,
          `the owner's copies in ${region} are encrypted without a customer managed key, and the key of a copy shared with another account must be one`,
          `Set a customer managed key for ${region} (encryption.kmsKeyIds.${region}), or remove ${region} from this recipient`,
        );
        valid = false;
      }
      const kmsKeyId = entry.kmsKeyIds?.[region];
      own.push({ region, ...(kmsKeyId !== undefined ? { kmsKeyId } : {}) });
    }
    // A recipient's copy carries the management tags, the owner-copy tag, the fleet's tags and its own.
    const maxTags = Math.max(0, MAX_USER_TAGS - 1 - Object.keys(fleetTags).length);
    const tags = checkTagMap(problems, entry.tags ?? {}, ["recipients", index, "tags"], maxTags);
    if (valid && roleArn !== undefined) {
      recipients.push({ account, roleArn, regions: own, tags: { ...fleetTags, ...tags } });
    }
  });
  return recipients;
}

/** The role as an ARN: a name (default ami-fleet-recipient) in the recipient's account, or an ARN of that account. */
function checkRole(problems: ProblemSink, role: string | undefined, path: string, account: string, partition: string): string | undefined {
  const value = role ?? DEFAULT_RECIPIENT_ROLE;
  const arn = ROLE_ARN.exec(value);
  if (arn) {
    const [, rolePartition, roleAccount] = arn;
    if (roleAccount !== account) {
      problems.add(path, `the role is in account ${roleAccount}, the recipient is ${account}`, `Use a role of account ${account}, or just its name`);
      return undefined;
    }
    if (rolePartition !== partition) {
      problems.add(path, `the role ARN is in partition ${rolePartition}, the fleet is in ${partition}`, `Use arn:${partition}:iam::${account}:role/NAME`);
      return undefined;
    }
    return value;
  }
  if (!ROLE_NAME.test(value)) {
    problems.add(path, `${quoteValue(value)} is neither an IAM role name nor a role ARN`, `Use a role name such as ${DEFAULT_RECIPIENT_ROLE}, or arn:${partition}:iam::${account}:role/NAME`);
    return undefined;
  }
  const name = value.replace(/^\//, "");
  return `arn:${partition}:iam::${account}:role/${name}`;
}

/** A recipient's own key: a key ARN (not the AWS managed key) in the recipient's account and the Region. */
function checkRecipientKey(problems: ProblemSink, arn: string, path: string, region: string, account: string, partition: string): boolean {
  const match = KMS_KEY_ARN.exec(arn);
  if (!match) {
    problems.add(
      path,
      `${quoteValue(arn)} is not a KMS key ARN`,
      `Use the form arn:${partition}:kms:${region}:${account}:key/KEY-ID, where KEY-ID is the key's UUID (or mrk-… for a multi-Region key)`,
    );
    return false;
  }
  const [, keyPartition, keyRegion, keyAccount] = match;
  if (keyPartition !== partition) {
    problems.add(path, `key ARN is in partition ${keyPartition}, the fleet is in ${partition}`, `Use arn:${partition}:kms:...`);
    return false;
  }
  if (keyRegion !== region) {
    problems.add(path, `key is in ${keyRegion}, the recipient's copy is in ${region}`, `Use a key of account ${account} from ${region}`);
    return false;
  }
  if (keyAccount !== account) {
    problems.add(
      path,
      `key is in account ${keyAccount}, the recipient is ${account}: its copies are re-encrypted with a key it owns`,
      `Use a customer managed key of account ${account} in ${region}`,
    );
    return false;
  }
  return true;
}

/** Accounts the file names as the owner's (its keys' accounts), with where. */
function ownerAccountsOf(document: FleetFile): Map<string, string> {
  const owners = new Map<string, string>();
  const note = (arn: string | undefined, path: string) => {
    const match = arn === undefined ? null : KMS_KEY_ARN.exec(arn);
    if (match && !owners.has(match[3])) owners.set(match[3], path);
  };
  for (const [region, arn] of Object.entries(document.encryption?.kmsKeyIds ?? {})) note(arn, `encryption.kmsKeyIds.${region}`);
  document.regions.forEach((entry, i) => {
    if (typeof entry !== "string") note(entry.kmsKeyId, `regions[${i}].kmsKeyId`);
  });
  return owners;
}

/** Where each account of a share list is (the fleet's, or a Region's). */
function shareAccountPaths(document: FleetFile): Map<string, string> {
  const paths = new Map<string, string>();
  (document.share?.accounts ?? []).forEach((account, i) => paths.has(account) || paths.set(account, `share.accounts[${i}]`));
  document.regions.forEach((entry, r) => {
    if (typeof entry === "string") return;
    (entry.share?.accounts ?? []).forEach((account, i) => paths.has(account) || paths.set(account, `regions[${r}].share.accounts[${i}]`));
  });
  return paths;
}
