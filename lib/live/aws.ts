import {
  DescribeImageAttributeCommand,
  DescribeImagesCommandInput,
  DescribeSnapshotAttributeCommand,
  DescribeRegionsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  GetEbsEncryptionByDefaultCommand,
  Image,
  LaunchPermission,
  paginateDescribeImages,
  paginateDescribeSnapshots,
  Snapshot,
} from "@aws-sdk/client-ec2";
import { KMSClient, paginateListGrants } from "@aws-sdk/client-kms";
import { GetParameterCommand, GetParametersCommand, ListTagsForResourceCommand, paginateDescribeParameters, SSMClient } from "@aws-sdk/client-ssm";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { retryStrategy } from "./retry";

/** An SSM parameter's type (`String`, ...) and data type (`aws:ec2:image`, `text`), as GetParameters gives them. */
export interface ParameterKind {
  readonly type?: string;
  readonly dataType?: string;
}

/**
 * The only AWS calls the reconciler makes. A narrow interface, so the reader is written against
 * what it uses; `SdkAwsReader` is the real one (AWS SDK v3, default credential chain, profile,
 * Region settings and AWS_ENDPOINT_URL* honoured), tests may pass a fault-injecting one.
 *
 * Every method either returns what AWS answered or throws: an answer that lacks the list it must
 * carry (an empty or truncated body) throws `MalformedResponseError`, so it is never read as
 * "nothing there".
 */
export interface AwsReader {
  /** All pages of DescribeImages in a Region. */
  describeImages(region: string, input: DescribeImagesCommandInput): Promise<Image[]>;
  /** The launch permissions of one image. */
  describeLaunchPermissions(region: string, imageId: string): Promise<LaunchPermission[]>;
  /** Snapshots by id (one call). */
  describeSnapshots(region: string, snapshotIds: readonly string[]): Promise<Snapshot[]>;
  /** The ids of the account's snapshots that every account may create volumes from (all pages of DescribeSnapshots, OwnerIds=self, RestorableByUserIds=all). */
  describePublicSnapshots(region: string): Promise<string[]>;
  /** An SSM parameter's value. */
  getParameter(region: string, name: string): Promise<string | undefined>;
  /** SSM parameters' values by name (one call, at most PARAMETERS_BATCH names), and the names that do not exist. */
  getParameters(region: string, names: readonly string[]): Promise<{ values: Record<string, string>; missing: string[]; kinds?: Record<string, ParameterKind> }>;
  /** The descriptions of SSM parameters by name (all pages of DescribeParameters, at most PARAMETER_FILTER_VALUES names); "" for none. */
  describeParameters(region: string, names: readonly string[]): Promise<Record<string, string>>;
  /** An SSM parameter's tags (ListTagsForResource). */
  listParameterTags(region: string, name: string): Promise<Record<string, string>>;
  /** Whether the account encrypts new EBS volumes and snapshot copies by default in a Region. */
  getEbsEncryptionByDefault(region: string): Promise<boolean>;
  /** Who may create volumes from a snapshot (its createVolumePermission): account ids, and `all` for public. */
  describeSnapshotPermissions(region: string, snapshotId: string): Promise<string[]>;
  /** Every grant on a KMS key (all pages of ListGrants). */
  listGrants(region: string, keyId: string): Promise<{ granteePrincipal?: string; operations: string[]; name?: string }[]>;
  /** The Regions enabled for the account, asked in `region` (its partition). */
  describeEnabledRegions(region: string): Promise<string[]>;
  /** Resolves the credentials (e.g. assumes the role) once, so that failing is one error, not one per call. */
  checkCredentials?(region: string): Promise<void>;
  /** Calls and attempts so far. */
  stats(): { calls: Record<string, number>; attempts: number };
}

/** DescribeSnapshots takes at most this many ids per call here (the API allows more; URLs stay short). */
export const SNAPSHOT_BATCH = 200;

/** EC2 takes at most this many values in one filter; longer lists are sent in several calls. */
export const FILTER_VALUES_MAX = 200;

/** Names per GetParameters call (SSM's limit). */
export const PARAMETERS_BATCH = 10;
/** Values of one DescribeParameters filter (SSM's limit). */
export const PARAMETER_FILTER_VALUES = 50;

/** DescribeImages page size (EC2 allows 5 to 1000 when no ImageIds are given). */
export const IMAGES_PAGE_SIZE = 1000;

/** An AWS answer that does not have the shape the API documents. */
export class MalformedResponseError extends Error {
  constructor(operation: string, missing: string) {
    super(`${operation} answered without ${missing} (an empty or truncated response); the answer was not used`);
    this.name = "MalformedResponse";
  }
}

/** Options of the real reader. */
export interface SdkReaderOptions {
  /** Attempts per call, retries included (`retryStrategy`). @default AWS_MAX_ATTEMPTS, the profile's max_attempts, or 3 */
  readonly maxAttempts?: number;
  /** Milliseconds to open a connection. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Milliseconds a request may wait for its answer, per attempt. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** DescribeImages page size. @default IMAGES_PAGE_SIZE */
  readonly imagesPageSize?: number;
  /** Credentials (e.g. a recipient's role). @default the SDK's default credential chain */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** The real reader: one SDK client per service and Region, reused. */
export class SdkAwsReader implements AwsReader {
  private readonly ec2 = new Map<string, EC2Client>();
  private readonly ssm = new Map<string, SSMClient>();
  private readonly kms = new Map<string, KMSClient>();
  private readonly calls: Record<string, number> = {};
  private attempts = 0;

  constructor(private readonly options: SdkReaderOptions = {}) {}

  async describeImages(region: string, input: DescribeImagesCommandInput): Promise<Image[]> {
    const images: Image[] = [];
    // MaxResults cannot be combined with ImageIds; everything else is paged.
    const paged = input.ImageIds === undefined ? { ...input, MaxResults: this.options.imagesPageSize ?? IMAGES_PAGE_SIZE } : input;
    const client = this.counting(this.ec2Client(region), "DescribeImages");
    for await (const page of paginateDescribeImages({ client, pageSize: paged.MaxResults }, paged)) {
      if (!Array.isArray(page.Images)) throw new MalformedResponseError("DescribeImages", "an imagesSet");
      images.push(...page.Images);
    }
    return images;
  }

  async describeLaunchPermissions(region: string, imageId: string): Promise<LaunchPermission[]> {
    const out = await this.send("DescribeImageAttribute", () =>
      this.ec2Client(region).send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" })),
    );
    if (out.ImageId === undefined) throw new MalformedResponseError("DescribeImageAttribute", "the imageId it describes");
    return out.LaunchPermissions ?? [];
  }

  async describeSnapshots(region: string, snapshotIds: readonly string[]): Promise<Snapshot[]> {
    const out = await this.send("DescribeSnapshots", () =>
      this.ec2Client(region).send(new DescribeSnapshotsCommand({ SnapshotIds: [...snapshotIds] })),
    );
    if (!Array.isArray(out.Snapshots)) throw new MalformedResponseError("DescribeSnapshots", "a snapshotSet");
    return out.Snapshots;
  }

  async describePublicSnapshots(region: string): Promise<string[]> {
    const ids: string[] = [];
    const client = this.counting(this.ec2Client(region), "DescribeSnapshots");
    for await (const page of paginateDescribeSnapshots({ client, pageSize: 1000 }, { OwnerIds: ["self"], RestorableByUserIds: ["all"] })) {
      if (!Array.isArray(page.Snapshots)) throw new MalformedResponseError("DescribeSnapshots", "a snapshotSet");
      for (const snapshot of page.Snapshots) if (snapshot.SnapshotId) ids.push(snapshot.SnapshotId);
    }
    return ids.sort();
  }

  async getParameter(region: string, name: string): Promise<string | undefined> {
    const out = await this.send("GetParameter", () => this.ssmClient(region).send(new GetParameterCommand({ Name: name })));
    if (out.Parameter === undefined) throw new MalformedResponseError("GetParameter", "a Parameter");
    return out.Parameter.Value;
  }

  async getParameters(region: string, names: readonly string[]): Promise<{ values: Record<string, string>; missing: string[]; kinds: Record<string, ParameterKind> }> {
    const out = await this.send("GetParameters", () => this.ssmClient(region).send(new GetParametersCommand({ Names: [...names] })));
    if (!Array.isArray(out.Parameters)) throw new MalformedResponseError("GetParameters", "a Parameters list");
    const values: Record<string, string> = {};
    const kinds: Record<string, ParameterKind> = {};
    for (const parameter of out.Parameters) {
      if (parameter.Name === undefined) continue;
      values[parameter.Name] = parameter.Value ?? "";
      kinds[parameter.Name] = { ...(parameter.Type !== undefined ? { type: parameter.Type } : {}), ...(parameter.DataType !== undefined ? { dataType: parameter.DataType } : {}) };
    }
    const missing = names.filter((name) => !(name in values));
    return { values, missing, kinds };
  }

  async describeParameters(region: string, names: readonly string[]): Promise<Record<string, string>> {
    const descriptions: Record<string, string> = {};
    const client = this.counting(this.ssmClient(region), "DescribeParameters");
    const input = { ParameterFilters: [{ Key: "Name", Option: "Equals", Values: [...names] }] };
    for await (const page of paginateDescribeParameters({ client, pageSize: 50 }, input)) {
      if (!Array.isArray(page.Parameters)) throw new MalformedResponseError("DescribeParameters", "a Parameters list");
      for (const parameter of page.Parameters) if (parameter.Name !== undefined) descriptions[parameter.Name] = parameter.Description ?? "";
    }
    return descriptions;
  }

  async listParameterTags(region: string, name: string): Promise<Record<string, string>> {
    const out = await this.send("ListTagsForResource", () => this.ssmClient(region).send(new ListTagsForResourceCommand({ ResourceType: "Parameter", ResourceId: name })));
    if (!Array.isArray(out.TagList)) throw new MalformedResponseError("ListTagsForResource", "a TagList");
    return Object.fromEntries(out.TagList.map((t) => [t.Key ?? "", t.Value ?? ""]));
  }

  async getEbsEncryptionByDefault(region: string): Promise<boolean> {
    const out = await this.send("GetEbsEncryptionByDefault", () => this.ec2Client(region).send(new GetEbsEncryptionByDefaultCommand({})));
    if (typeof out.EbsEncryptionByDefault !== "boolean") {
      throw new MalformedResponseError("GetEbsEncryptionByDefault", "an ebsEncryptionByDefault value");
    }
    return out.EbsEncryptionByDefault;
  }

  async describeSnapshotPermissions(region: string, snapshotId: string): Promise<string[]> {
    const out = await this.send("DescribeSnapshotAttribute", () =>
      this.ec2Client(region).send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission" })),
    );
    if (!Array.isArray(out.CreateVolumePermissions)) throw new MalformedResponseError("DescribeSnapshotAttribute", "a createVolumePermission list");
    return out.CreateVolumePermissions.flatMap((p) => (p.UserId ? [p.UserId] : p.Group ? [p.Group] : []));
  }

  async listGrants(region: string, keyId: string): Promise<{ granteePrincipal?: string; operations: string[]; name?: string }[]> {
    const grants: { granteePrincipal?: string; operations: string[]; name?: string }[] = [];
    for await (const page of paginateListGrants({ client: this.counting(this.kmsClient(region), "ListGrants") }, { KeyId: keyId })) {
      if (!Array.isArray(page.Grants)) throw new MalformedResponseError("ListGrants", "a Grants list");
      for (const grant of page.Grants) grants.push({ granteePrincipal: grant.GranteePrincipal, operations: [...(grant.Operations ?? [])], name: grant.Name });
    }
    return grants;
  }

  async describeEnabledRegions(region: string): Promise<string[]> {
    const out = await this.send("DescribeRegions", () => this.ec2Client(region).send(new DescribeRegionsCommand({})));
    if (!Array.isArray(out.Regions)) throw new MalformedResponseError("DescribeRegions", "a regionInfo set");
    return out.Regions.flatMap((r) => (r.RegionName ? [r.RegionName] : [])).sort();
  }

  /** Resolves the credentials once, so a missing or mistyped profile is one clear error, not one per call. */
  async checkCredentials(region: string): Promise<void> {
    await this.ec2Client(region).config.credentials();
  }

  stats() {
    return { calls: { ...this.calls }, attempts: this.attempts };
  }

  /** Counts one call of `operation` and the HTTP attempts the SDK's retry strategy made for it. */
  private async send<T extends { $metadata: { attempts?: number } }>(operation: string, call: () => Promise<T>): Promise<T> {
    this.calls[operation] = (this.calls[operation] ?? 0) + 1;
    try {
      const out = await call();
      this.attempts += out.$metadata.attempts ?? 1;
      return out;
    } catch (error) {
      this.attempts += (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      // Which action failed: a throttled call is reported with it (describeAwsError).
      if (error && typeof error === "object") (error as { $operation?: string }).$operation ??= operation;
      throw error;
    }
  }

  /** The client with every `send` counted as a call of `operation` (for the SDK's paginators). */
  private counting<C extends EC2Client | KMSClient | SSMClient>(client: C, operation: string): C {
    return new Proxy(client, {
      get: (target, property, receiver) =>
        property === "send"
          ? (command: unknown) => this.send(operation, () => (target.send as (c: unknown) => Promise<{ $metadata: { attempts?: number } }>)(command))
          : Reflect.get(target, property, receiver),
    });
  }

  private clientConfig(region: string) {
    return {
      region,
      retryStrategy: retryStrategy(this.options.maxAttempts),
      ...(this.options.credentials !== undefined ? { credentials: this.options.credentials } : {}),
      // An endpoint that accepts the connection and never answers must not hang the check.
      requestHandler: {
        connectionTimeout: this.options.connectTimeoutMs ?? 5_000,
        requestTimeout: this.options.requestTimeoutMs ?? 30_000,
        throwOnRequestTimeout: true,
      },
    };
  }

  private ec2Client(region: string): EC2Client {
    return clientIn(this.ec2, region, () => new EC2Client(this.clientConfig(region)));
  }

  private ssmClient(region: string): SSMClient {
    return clientIn(this.ssm, region, () => new SSMClient(this.clientConfig(region)));
  }

  private kmsClient(region: string): KMSClient {
    return clientIn(this.kms, region, () => new KMSClient(this.clientConfig(region)));
  }
}

/** The client of a Region, created once. */
function clientIn<T>(clients: Map<string, T>, region: string, create: () => T): T {
  let client = clients.get(region);
  if (!client) {
    client = create();
    clients.set(region, client);
  }
  return client;
}

/** The error code of an SDK error, e.g. `InvalidSnapshot.NotFound`. */
export function awsErrorCode(error: unknown): string | undefined {
  const e = error as { name?: string; Code?: string; code?: string };
  return e?.Code ?? (e?.name && e.name !== "Error" ? e.name : e?.code);
}

/** A short, single-line description of an SDK error, e.g. `UnauthorizedOperation: You are not authorized...`. */
export function describeAwsError(error: unknown): string {
  const e = error as { message?: string; $metadata?: { httpStatusCode?: number } };
  const name = awsErrorCode(error);
  let message = (e?.message ?? String(error)).split("\n")[0];
  if (/^(TimeoutError|RequestTimeout)/.test(name ?? "") || /timed? ?out/i.test(message)) message = `${message} (no answer in time; see --timeout)`;
  if (!message || message === "UnknownError") message = `HTTP ${e?.$metadata?.httpStatusCode ?? "?"} with no error message`;
  const described = name && !message.startsWith(name) ? `${name}: ${message}` : message;
  if (!isThrottling(error)) return described;
  const operation = (error as { $operation?: string }).$operation;
  return `${described} (throttled${operation ? ` on ${operation}` : ""}: the SDK's retries ran out; run again, or with a lower --concurrency)`;
}

/** EC2's, SSM's and KMS's throttling answers, and the SDK's own refusal to retry once its retry quota is spent. */
export function isThrottling(error: unknown): boolean {
  const name = awsErrorCode(error) ?? "";
  return /^(Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequestsException|ThrottledException|RequestThrottled|SlowDown)$/.test(name) || /No retry token available/i.test(String((error as Error)?.message));
}

/** True for errors that mean "no usable credentials": they are the same in every Region. */
export function isCredentialsError(error: unknown): boolean {
  const name = awsErrorCode(error) ?? "";
  return name === "CredentialsProviderError" || /Could not (load|resolve) credentials/i.test(String((error as Error)?.message));
}
