import {
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeImagesCommandInput,
  DescribeSnapshotsCommand,
  EC2Client,
  Image,
  LaunchPermission,
  Snapshot,
} from "@aws-sdk/client-ec2";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";

/**
 * The only AWS calls the reconciler makes. A narrow interface, so the reader is written against
 * what it uses; `SdkAwsReader` is the real one (AWS SDK v3, default credential chain, profile,
 * Region settings and AWS_ENDPOINT_URL* honoured), tests may pass a fault-injecting one.
 */
export interface AwsReader {
  /** All pages of DescribeImages in a Region. */
  describeImages(region: string, input: DescribeImagesCommandInput): Promise<Image[]>;
  /** The launch permissions of one image. */
  describeLaunchPermissions(region: string, imageId: string): Promise<LaunchPermission[]>;
  /** Snapshots by id (one call per batch of ids). */
  describeSnapshots(region: string, snapshotIds: readonly string[]): Promise<Snapshot[]>;
  /** An SSM parameter's value. */
  getParameter(region: string, name: string): Promise<string | undefined>;
  /** Calls and attempts so far. */
  stats(): { calls: Record<string, number>; attempts: number };
}

/** DescribeSnapshots takes at most this many ids per call here (the API allows more; URLs stay short). */
export const SNAPSHOT_BATCH = 200;

/** The real reader: one SDK client per service and Region, reused. */
export class SdkAwsReader implements AwsReader {
  private readonly ec2 = new Map<string, EC2Client>();
  private readonly ssm = new Map<string, SSMClient>();
  private readonly calls: Record<string, number> = {};
  private attempts = 0;

  constructor(private readonly options: { maxAttempts?: number } = {}) {}

  async describeImages(region: string, input: DescribeImagesCommandInput): Promise<Image[]> {
    const images: Image[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.send("DescribeImages", () =>
        this.ec2Client(region).send(new DescribeImagesCommand({ ...input, NextToken })),
      );
      images.push(...(page.Images ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return images;
  }

  async describeLaunchPermissions(region: string, imageId: string): Promise<LaunchPermission[]> {
    const out = await this.send("DescribeImageAttribute", () =>
      this.ec2Client(region).send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" })),
    );
    return out.LaunchPermissions ?? [];
  }

  async describeSnapshots(region: string, snapshotIds: readonly string[]): Promise<Snapshot[]> {
    const out = await this.send("DescribeSnapshots", () =>
      this.ec2Client(region).send(new DescribeSnapshotsCommand({ SnapshotIds: [...snapshotIds] })),
    );
    return out.Snapshots ?? [];
  }

  async getParameter(region: string, name: string): Promise<string | undefined> {
    const out = await this.send("GetParameter", () => this.ssmClient(region).send(new GetParameterCommand({ Name: name })));
    return out.Parameter?.Value;
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
      throw error;
    }
  }

  private ec2Client(region: string): EC2Client {
    return clientIn(this.ec2, region, () => new EC2Client({ region, maxAttempts: this.options.maxAttempts }));
  }

  private ssmClient(region: string): SSMClient {
    return clientIn(this.ssm, region, () => new SSMClient({ region, maxAttempts: this.options.maxAttempts }));
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

/** A short, single-line description of an SDK error, e.g. `UnauthorizedOperation: You are not authorized...`. */
export function describeAwsError(error: unknown): string {
  const e = error as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name && e.name !== "Error" ? e.name : e?.code;
  const message = (e?.message ?? String(error)).split("\n")[0];
  return name && !message.startsWith(name) ? `${name}: ${message}` : message;
}
