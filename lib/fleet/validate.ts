import { formatPath, quoteValue, SpecProblem } from "./errors";
import {
  COPY_NAME_PLACEHOLDERS,
  DEFAULT_COPY_NAME,
  Fleet,
  MANAGEMENT_TAGS,
  renderCopyName,
  Share,
  sharesWithOthers,
  SourceImage,
  TargetRegion,
} from "./fleet";
import { ACCOUNT_ID, AMI_ID, KMS_KEY_ARN, ORGANIZATION_ARN, OU_ARN } from "./formats";
import { closestRegion, partitionOf } from "./regions";
import { FleetFile, fleetSchema, ImageFile, ShareFile } from "./schema";
import { schemaProblems, withoutBadFields } from "./schema-problems";

/** The result of validating one parsed fleet file. */
export type ValidationResult =
  | { readonly ok: true; readonly fleet: Fleet }
  /** `fleet`: what could be built from the valid parts, so checks across files still run. */
  | { readonly ok: false; readonly problems: readonly SpecProblem[]; readonly fleet?: Fleet };

const IMAGE_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const SSM_PARAMETER = /^\/?[A-Za-z0-9_.\-/]{1,2047}$/;
const LOOKUP_OWNER = /^(?:self|amazon|aws-marketplace|aws-backup-vault|\d{12})$/;
interface ArnFormat {
  readonly pattern: RegExp;
  readonly what: string;
  readonly short: string;
  readonly example: string;
}
const ORGANIZATION_ARN_FORMAT: ArnFormat = {
  pattern: ORGANIZATION_ARN,
  what: "an Organization ARN",
  short: "Organization ARN",
  example: "arn:aws:organizations::111122223333:organization/o-abc123def4",
};
const OU_ARN_FORMAT: ArnFormat = {
  pattern: OU_ARN,
  what: "an organizational unit ARN",
  short: "OU ARN",
  example: "arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cd34ef56",
};
const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/;
const AMI_NAME = /^[A-Za-z0-9()[\]. /\-'@_]{3,128}$/;
/** A stand-in for a source AMI id not known before plan: the longest form, to check name length. */
const UNKNOWN_AMI_ID = "ami-00000000000000000";
/** Tags per resource (EC2) minus the management tags every copy carries. */
export const MAX_USER_TAGS = 50 - Object.keys(MANAGEMENT_TAGS).length;

/**
 * Validates one parsed fleet file: the schema first, then every cross-field rule of DOMAIN.md
 * marked "synth". Collects every problem rather than stopping at the first.
 */
export function validateFleet(file: string, document: unknown): ValidationResult {
  const parsed = fleetSchema.safeParse(document);
  if (!parsed.success) {
    const problems = schemaProblems(file, parsed.error.issues, document);
    // Report the cross-field problems too, when the file can be checked without the bad fields.
    const repaired = withoutBadFields(document, parsed.error.issues);
    if (repaired !== undefined) {
      const reported = new Set(problems.map((p) => p.path));
      const checker = new FleetChecker(file, repaired);
      const fleet = checker.check();
      problems.push(...checker.problems.filter((p) => !reported.has(p.path)));
      return { ok: false, problems, fleet };
    }
    return { ok: false, problems };
  }
  const checker = new FleetChecker(file, parsed.data);
  const fleet = checker.check();
  return checker.problems.length > 0 ? { ok: false, problems: checker.problems, fleet } : { ok: true, fleet: fleet! };
}

class FleetChecker {
  readonly problems: SpecProblem[] = [];

  constructor(
    private readonly file: string,
    private readonly document: FleetFile,
  ) {}

  check(): Fleet | undefined {
    const document = this.document;
    const partition = this.checkSourceRegion();
    const images = this.checkImages();
    const fleetShare = this.checkShare(document.share, "share", partition);
    const regions = this.checkRegions(partition, fleetShare);
    this.checkEncryption(images, regions);
    const tags = this.checkTags();
    this.checkDeprecateAt();
    const fleet: Fleet = {
      file: this.file,
      name: document.name,
      description: document.description,
      partition: partition ?? "aws",
      sourceRegion: document.source.region,
      images,
      regions,
      share: fleetShare,
      keyPolicyGrantsRecipients: document.encryption?.keyPolicyGrantsRecipients ?? false,
      tags,
      deprecateAt: document.deprecateAt,
      copyNameTemplate: document.copyName,
      copyTimeout: document.copyTimeout,
      organization: document.organization,
    };
    this.checkOrganization(partition);
    this.checkCopyNames(fleet);
    return fleet;
  }

  private add(path: string, message: string, fix: string): void {
    this.problems.push({ file: this.file, path, message, fix });
  }

  private checkSourceRegion(): string | undefined {
    const region = this.document.source.region;
    const partition = partitionOf(region);
    if (!partition) this.unknownRegion("source.region", region);
    return partition;
  }

  private unknownRegion(path: string, region: string): void {
    const guess = closestRegion(region);
    this.add(
      path,
      `unknown Region "${region}"`,
      guess ? `Did you mean "${guess}"?` : "Use a Region name such as us-east-1 or eu-west-1",
    );
  }

  private checkImages(): SourceImage[] {
    const seenKeys = new Map<string, number>();
    const seenAmis = new Map<string, number>();
    const images: SourceImage[] = [];
    this.document.source.images.forEach((image, index) => {
      const path = `source.images[${index}]`;
      const result = this.checkImage(image, path);
      if (!result) return;
      const previous = seenKeys.get(result.key);
      if (previous !== undefined) {
        this.add(
          `${path}.key`,
          `duplicate image key "${result.key}" (also source.images[${previous}])`,
          "Give each image version its own key",
        );
      } else {
        seenKeys.set(result.key, index);
      }
      if (result.source.kind === "ami") {
        const previousAmi = seenAmis.get(result.source.amiId);
        if (previousAmi !== undefined) {
          this.add(
            `${path}.amiId`,
            `source AMI ${result.source.amiId} is listed twice (also source.images[${previousAmi}])`,
            "List each source image once",
          );
        } else {
          seenAmis.set(result.source.amiId, index);
        }
      }
      images.push(result);
    });
    return images;
  }

  private checkImage(image: ImageFile, path: string): SourceImage | undefined {
    const given = (["amiId", "lookup", "ssmParameter"] as const).filter((field) => image[field] !== undefined);
    if (given.length !== 1) {
      this.add(
        path,
        given.length === 0
          ? "an image needs a source"
          : `an image has exactly one source, got ${given.join(" and ")}`,
        "Set exactly one of amiId, lookup or ssmParameter",
      );
      return undefined;
    }
    let source: SourceImage["source"] | undefined;
    if (image.amiId !== undefined) {
      if (!AMI_ID.test(image.amiId)) {
        this.add(`${path}.amiId`, `"${image.amiId}" is not an AMI id`, "Use the form ami-0123456789abcdef0");
      } else {
        source = { kind: "ami", amiId: image.amiId };
      }
    } else if (image.lookup !== undefined) {
      image.lookup.owners.forEach((owner, i) => {
        if (!LOOKUP_OWNER.test(owner)) {
          this.add(
            `${path}.lookup.owners[${i}]`,
            `"${owner}" is not an AMI owner`,
            "Use self, amazon, aws-marketplace or a 12-digit account id",
          );
        }
      });
      source = {
        kind: "lookup",
        owners: image.lookup.owners,
        name: image.lookup.name,
        mostRecent: image.lookup.mostRecent ?? true,
      };
    } else if (image.ssmParameter !== undefined) {
      if (!SSM_PARAMETER.test(image.ssmParameter)) {
        this.add(
          `${path}.ssmParameter`,
          `"${image.ssmParameter}" is not an SSM parameter name`,
          "Use a name such as /images/golden-base/latest",
        );
      }
      source = { kind: "ssm", parameter: image.ssmParameter };
    }
    const key = image.key ?? image.amiId;
    if (key === undefined) {
      this.add(
        `${path}.key`,
        "an image found by lookup or ssmParameter needs a key",
        'Add a stable key such as key: "current"; it names the copies in Terraform',
      );
      return undefined;
    }
    if (!IMAGE_KEY.test(key)) {
      this.add(
        `${path}.key`,
        `"${key}" is not a valid image key`,
        "Use 1-64 letters, digits, dashes or underscores, starting with a letter or digit",
      );
      return undefined;
    }
    return source && { key, source, encrypted: image.encrypted };
  }

  private checkShare(share: ShareFile | undefined, path: string, partition: string | undefined): Share {
    const accounts = this.uniqueList(share?.accounts, `${path}.accounts`);
    const organizationArns = this.uniqueList(share?.organizationArns, `${path}.organizationArns`);
    const organizationalUnitArns = this.uniqueList(share?.organizationalUnitArns, `${path}.organizationalUnitArns`);
    (share?.accounts ?? []).forEach((account, index) => {
      if (!ACCOUNT_ID.test(account)) {
        this.add(`${path}.accounts[${index}]`, `"${account}" is not an account id`, "Use the 12-digit AWS account id, quoted");
      }
    });
    (share?.organizationArns ?? []).forEach((arn, index) =>
      this.checkOrganizationsArn(arn, `${path}.organizationArns[${index}]`, ORGANIZATION_ARN_FORMAT, partition),
    );
    (share?.organizationalUnitArns ?? []).forEach((arn, index) =>
      this.checkOrganizationsArn(arn, `${path}.organizationalUnitArns[${index}]`, OU_ARN_FORMAT, partition),
    );
    const isPublic = share?.public === true;
    if (isPublic && share?.acknowledgePublic !== true) {
      this.add(
        `${path}.public`,
        "public sharing is not acknowledged: every AWS account could launch these copies",
        `If that is intended, also set ${path}.acknowledgePublic: true; otherwise remove public`,
      );
    }
    return { accounts, organizationArns, organizationalUnitArns, public: isPublic };
  }

  /** An Organizations ARN: its form, and that it lives in the fleet's partition. */
  private checkOrganizationsArn(arn: string, path: string, format: ArnFormat, partition: string | undefined): void {
    const match = format.pattern.exec(arn);
    if (!match) {
      this.add(path, `"${arn}" is not ${format.what}`, `Use the form ${format.example}`);
    } else if (partition && match[1] !== partition) {
      this.add(path, `${format.short} is in partition ${match[1]}, the fleet is in ${partition}`, `Use one of partition ${partition}`);
    }
  }

  private uniqueList(values: readonly string[] | undefined, path: string): string[] {
    const seen = new Set<string>();
    (values ?? []).forEach((value, index) => {
      if (seen.has(value)) this.add(`${path}[${index}]`, `"${value}" is listed twice`, "Remove the duplicate");
      seen.add(value);
    });
    return [...seen].sort();
  }

  private checkOrganization(partition: string | undefined): void {
    const org = this.document.organization;
    if (!org) return;
    this.checkOrganizationsArn(org.arn, "organization.arn", ORGANIZATION_ARN_FORMAT, partition);
    (org.memberAccounts ?? []).forEach((account, index) => {
      if (!ACCOUNT_ID.test(account)) {
        this.add(`organization.memberAccounts[${index}]`, `"${account}" is not an account id`, "Use the 12-digit AWS account id, quoted");
      }
    });
  }

  private checkRegions(partition: string | undefined, fleetShare: Share): TargetRegion[] {
    const seen = new Map<string, number>();
    const regions: TargetRegion[] = [];
    this.document.regions.forEach((entry, index) => {
      const path = `regions[${index}]`;
      const target = typeof entry === "string" ? { region: entry } : entry;
      const namePath = typeof entry === "string" ? path : `${path}.region`;
      const regionPartition = partitionOf(target.region);
      if (!regionPartition) {
        this.unknownRegion(namePath, target.region);
        return;
      } else if (partition && regionPartition !== partition) {
        this.add(
          namePath,
          `${target.region} is in partition ${regionPartition}, the source is in ${partition} (${this.document.source.region})`,
          "Copies across partitions need another mechanism: remove this Region or use a source in its partition",
        );
        return;
      }
      const previous = seen.get(target.region);
      if (previous !== undefined) {
        this.add(namePath, `${target.region} is listed twice (also regions[${previous}])`, "List each Region once");
        return;
      }
      seen.set(target.region, index);
      if (target.region === this.document.source.region && !("allowSourceRegion" in target && target.allowSourceRegion)) {
        this.add(
          namePath,
          `${target.region} is the source Region: copying an image onto its own Region must be explicit`,
          `Write { region: ${target.region}, allowSourceRegion: true } to copy in place (e.g. to re-encrypt), or remove it`,
        );
      }
      const regionShare = this.checkShare("share" in target ? target.share : undefined, `${path}.share`, partition);
      regions.push({
        region: target.region,
        kmsKeyId: "kmsKeyId" in target ? target.kmsKeyId : undefined,
        share: mergeShares(fleetShare, regionShare),
      });
    });
    return regions;
  }

  /** Fills each Region's encryption and checks keys, key Regions and what sharing needs. */
  private checkEncryption(images: readonly SourceImage[], regions: TargetRegion[]): void {
    const encryption = this.document.encryption;
    const regionIndex = new Map(this.document.regions.map((entry, i) => [typeof entry === "string" ? entry : entry.region, i]));
    const keyPaths = new Map<string, string>();
    for (const [region, key] of Object.entries(encryption?.kmsKeyIds ?? {})) {
      const path = `encryption.kmsKeyIds[${JSON.stringify(region)}]`.replace(/\["([\w-]+)"\]$/, ".$1");
      if (!regionIndex.has(region)) {
        this.add(path, `${region} is not a target Region of this fleet`, "Add it to regions, or remove this key");
        continue;
      }
      const regionEntry = this.document.regions[regionIndex.get(region)!];
      if (typeof regionEntry !== "string" && regionEntry.kmsKeyId !== undefined && regionEntry.kmsKeyId !== key) {
        this.add(
          path,
          `${region} has two keys: this one and regions[${regionIndex.get(region)}].kmsKeyId`,
          "Keep one of them",
        );
        continue;
      }
      keyPaths.set(region, path);
    }
    const encryptedImage = images.find((image) => image.encrypted === true);
    if (encryption?.encrypted === false && encryptedImage) {
      this.add(
        "encryption.encrypted",
        `source image "${encryptedImage.key}" is encrypted, and an encrypted snapshot cannot be copied unencrypted`,
        "Remove encrypted: false (copies stay encrypted), or choose an unencrypted source",
      );
    }
    const encryptedPublic: string[] = [];
    regions.forEach((target, i) => {
      const index = regionIndex.get(target.region) ?? i;
      const ownKeyPath =
        typeof this.document.regions[index] === "string" ? undefined : `regions[${index}].kmsKeyId`;
      const kmsKeyId = target.kmsKeyId ?? encryption?.kmsKeyIds?.[target.region];
      const keyPath = target.kmsKeyId !== undefined ? ownKeyPath! : keyPaths.get(target.region);
      let encrypted = encryption?.encrypted;
      if (kmsKeyId !== undefined && keyPath !== undefined) {
        if (encryption?.encrypted === false) {
          this.add(keyPath, `a key is set for ${target.region} but encryption.encrypted is false`, "Remove the key, or set encryption.encrypted: true");
        }
        this.checkKmsKey(kmsKeyId, keyPath, target.region);
        encrypted = true;
      }
      const shared = sharesWithOthers(target.share);
      if (encrypted === true && target.share.public) {
        encryptedPublic.push(target.region);
      } else if (encrypted === true && kmsKeyId === undefined && shared) {
        this.add(
          `encryption.kmsKeyIds.${target.region}`,
          `copies in ${target.region} would be encrypted with the default EBS key (alias/aws/ebs), which cannot be shared with other accounts`,
          `Set a customer managed key for ${target.region} (encryption.kmsKeyIds.${target.region} or regions[${index}].kmsKeyId)`,
        );
      } else if (
        encrypted === true &&
        !(encryption?.keyPolicyGrantsRecipients ?? false) &&
        (target.share.organizationArns.length > 0 || target.share.organizationalUnitArns.length > 0)
      ) {
        this.add(
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
      const publicPath = this.document.share?.public
        ? "share.public"
        : `regions[${regionIndex.get(encryptedPublic[0])}].share.public`;
      this.add(
        publicPath,
        `copies in ${encryptedPublic.join(", ")} are encrypted${encryptedImage ? ` (source image "${encryptedImage.key}" is encrypted, and so are its copies)` : ""}, and encrypted AMIs cannot be made public`,
        encryptedImage ? "Remove public sharing, or share an unencrypted source" : "Remove public sharing, or leave these copies unencrypted",
      );
    }
  }

  private checkKmsKey(arn: string, path: string, region: string): void {
    if (/(^|:)alias\/aws\/ebs$/.test(arn)) {
      this.add(
        path,
        "alias/aws/ebs is the AWS managed key: AMIs encrypted with it cannot be shared with other accounts",
        `Use a customer managed key ARN from ${region}`,
      );
      return;
    }
    const match = KMS_KEY_ARN.exec(arn);
    if (!match) {
      this.add(
        path,
        `${quoteValue(arn)} is not a KMS key ARN`,
        `Use the form arn:aws:kms:${region}:111122223333:key/KEY-ID, where KEY-ID is the key's UUID (or mrk-… for a multi-Region key)`,
      );
      return;
    }
    const [, keyPartition, keyRegion] = match;
    if (keyRegion !== region) {
      this.add(path, `key is in ${keyRegion}, copy is in ${region}`, `Use a key from ${region}`);
    } else if (keyPartition !== partitionOf(region)) {
      this.add(path, `key ARN is in partition ${keyPartition}, ${region} is in ${partitionOf(region)}`, `Use arn:${partitionOf(region)}:kms:...`);
    }
  }

  private checkTags(): Record<string, string> {
    const tags = this.document.tags ?? {};
    const entries = Object.entries(tags);
    if (entries.length > MAX_USER_TAGS) {
      this.add(
        "tags",
        `${entries.length} tags; a copy takes at most 50, and ami-fleet sets ${50 - MAX_USER_TAGS} management tags`,
        `Keep at most ${MAX_USER_TAGS} tags`,
      );
    }
    for (const [key, value] of entries) {
      const path = formatPath(["tags", key]);
      // AWS counts tag lengths in Unicode characters, not UTF-16 units: an emoji is one.
      const keyLength = [...key].length;
      if (keyLength === 0 || keyLength > 128) {
        this.add(path, `tag key is ${keyLength} characters`, "Use 1-128 characters");
      }
      if (key.toLowerCase().startsWith("aws:")) {
        this.add(path, `tag keys starting with "aws:" are reserved for AWS`, "Rename the tag");
      } else if (key.startsWith("ami-fleet:")) {
        this.add(path, `tag keys starting with "ami-fleet:" are the management tags`, "Rename the tag");
      }
      const valueLength = [...value].length;
      if (valueLength > 256) {
        this.add(path, `tag value is ${valueLength} characters`, "Use at most 256 characters");
      }
    }
    return { ...tags };
  }

  private checkDeprecateAt(): void {
    const value = this.document.deprecateAt;
    if (value === undefined) return;
    const match = RFC3339_UTC.exec(value);
    const valid =
      match !== null &&
      !Number.isNaN(Date.parse(value)) &&
      new Date(value).toISOString().slice(0, 10) === value.slice(0, 10) &&
      Number(match[4]) < 24 &&
      Number(match[5]) < 60 &&
      Number(match[6]) < 60;
    if (!valid) {
      this.add("deprecateAt", `"${value}" is not an RFC 3339 UTC time`, 'Write it like "2027-06-01T00:00:00Z"');
    }
  }

  private checkCopyNames(fleet: Fleet): void {
    const template = fleet.copyNameTemplate ?? DEFAULT_COPY_NAME;
    const unknown = [...template.matchAll(/\{([^}]*)\}/g)]
      .map((m) => m[1])
      .filter((name) => !(COPY_NAME_PLACEHOLDERS as readonly string[]).includes(name));
    if (unknown.length > 0) {
      this.add(
        "copyName",
        `unknown placeholder${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `{${n}}`).join(", ")}`,
        `Use ${COPY_NAME_PLACEHOLDERS.map((n) => `{${n}}`).join(", ")}`,
      );
      return;
    }
    if (!template.includes("{sourceAmi}")) {
      this.add(
        "copyName",
        `"${template}" has no {sourceAmi}: a new source version replaces a copy by creating the new one first, and AMI names are unique per Region`,
        `Include {sourceAmi}, e.g. ${DEFAULT_COPY_NAME}`,
      );
      return;
    }
    const names = new Map<string, string>();
    for (const image of fleet.images) {
      const sourceAmi = image.source.kind === "ami" ? image.source.amiId : UNKNOWN_AMI_ID;
      for (const target of fleet.regions) {
        const name = renderCopyName(fleet, image.key, target.region, sourceAmi);
        if (!AMI_NAME.test(name)) {
          this.add(
            "copyName",
            `copy name "${name}" (image ${image.key}, ${target.region}) is not a valid AMI name`,
            "AMI names are 3-128 characters of letters, digits and ( ) [ ] space . / - ' @ _",
          );
          return;
        }
        const clash = names.get(`${target.region}\0${name}`);
        if (clash !== undefined) {
          this.add(
            "copyName",
            `images "${clash}" and "${image.key}" would both be named "${name}" in ${target.region}`,
            "Include {image} in the template",
          );
          return;
        }
        names.set(`${target.region}\0${name}`, image.key);
      }
    }
  }
}

function mergeShares(a: Share, b: Share): Share {
  const union = (x: readonly string[], y: readonly string[]) => [...new Set([...x, ...y])].sort();
  return {
    accounts: union(a.accounts, b.accounts),
    organizationArns: union(a.organizationArns, b.organizationArns),
    organizationalUnitArns: union(a.organizationalUnitArns, b.organizationalUnitArns),
    public: a.public || b.public,
  };
}

