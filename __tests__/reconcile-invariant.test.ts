import { DescribeImagesCommandInput, Image, LaunchPermission, Snapshot } from "@aws-sdk/client-ec2";
import fc from "fast-check";
import { diffFleets } from "../lib/drift/diff";
import { DriftFinding, exitCodeOf } from "../lib/drift/findings";
import { AwsReader } from "../lib/live/aws";
import { readLiveState } from "../lib/live/read";
import { desiredPointers, RECIPIENT_KEY_OPERATIONS, recipientView } from "../lib/fleet/desired";
import { keyGrantName } from "../lib/fleet/addresses";
import { Fleet, MANAGEMENT_TAGS, OWNER_COPY_TAG, renderCopyName } from "../lib/fleet/fleet";
import { fleetOf, keyArn } from "./helpers/fleets";

/**
 * The reconcile invariant as a property (README, "Reconcile"): with read failures injected at every
 * level (a target Region, a scanned Region, DescribeImages, one image's attributes, a snapshot
 * batch, a source, the encryption-by-default setting), whenever anything could not be read the
 * report is not in sync and exits 1; no finding comes from data that was not read (every finding
 * is one the same world gives with nothing failing); and what was read is still reported (a copy
 * DescribeImages calls public stays critical, a Region read whole keeps all its findings).
 *
 * The world is an in-memory implementation of the reader's narrow AwsReader interface: hundreds of
 * generated worlds per run are out of reach of the emulator. The emulator and the fault proxy
 * cover the same paths case by case in reconcile-trust.test.ts.
 */

const SRC1 = "ami-0aaaaaaaaaaaaaaa1";
const SRC2 = "ami-0aaaaaaaaaaaaaaa2";
const TARGETS = ["eu-west-1", "us-west-2"] as const;
const SCANNED = "ca-central-1";
const ACCOUNTS = ["444455556666", "777788889999", "111122223333"];

/** The fleet's recipient, in both target Regions: its account is read through its role. */
const RECIPIENT = "222233334444";

interface WorldCopy {
  readonly key: "v1" | "v2" | "old";
  readonly region: string;
  readonly tagged: boolean;
  readonly public: boolean;
  readonly accounts: readonly string[];
  readonly encrypted: boolean;
  readonly snapshotState: "completed" | "error";
  /** Who may copy its snapshot (createVolumePermission). */
  readonly readers: readonly string[];
  /** For a copy in the recipient's account: the index of the owner's copy it was copied from (any number). */
  readonly from: number;
}

interface World {
  readonly encryptedFleet: boolean | undefined;
  readonly copies: readonly WorldCopy[];
  readonly encryptionByDefault: Readonly<Record<string, boolean>>;
  /** The value of the fleet's pointer per target Region; undefined: no such parameter. */
  readonly pointers: Readonly<Record<string, string | undefined>>;
  /** The recipient's own copies, its pointers, and whether the owner's key grants it access, per Region. */
  readonly recipientCopies: readonly WorldCopy[];
  readonly recipientPointers: Readonly<Record<string, string | undefined>>;
  readonly grants: Readonly<Record<string, boolean>>;
}

/** A read that fails: the operation and what it is about (a Region, an image, a parameter). */
type Fault = string;

const copyArb = fc.record({
  key: fc.constantFrom("v1" as const, "v2" as const, "old" as const),
  region: fc.constantFrom(...TARGETS, SCANNED),
  tagged: fc.boolean(),
  public: fc.boolean(),
  accounts: fc.subarray(ACCOUNTS),
  encrypted: fc.boolean(),
  snapshotState: fc.constantFrom("completed" as const, "completed" as const, "error" as const),
  readers: fc.subarray([RECIPIENT, "999988887777", "all"]),
  from: fc.nat(7),
});

const worldArb: fc.Arbitrary<World> = fc.record({
  encryptedFleet: fc.constantFrom(undefined, false, true),
  copies: fc.array(copyArb, { maxLength: 7 }),
  encryptionByDefault: fc.record({ "eu-west-1": fc.boolean(), "us-west-2": fc.boolean() }),
  // A world copy's id, another AMI, or no parameter.
  pointers: fc.record({ "eu-west-1": pointerArb(), "us-west-2": pointerArb() }),
  recipientCopies: fc.array(copyArb.filter((c) => c.region !== SCANNED), { maxLength: 5 }),
  recipientPointers: fc.record({ "eu-west-1": pointerArb(), "us-west-2": pointerArb() }),
  grants: fc.record({ "eu-west-1": fc.boolean(), "us-west-2": fc.boolean() }),
});

function pointerArb(): fc.Arbitrary<string | undefined> {
  return fc.oneof(fc.constant(undefined), fc.constant("ami-0cccccccccccccccc"), fc.nat(6).map((i) => `ami-0000000000000000${i}`));
}

const faultArb: fc.Arbitrary<Fault[]> = fc.subarray([
  "DescribeImages@eu-west-1",
  "DescribeImages@us-west-2",
  `DescribeImages@${SCANNED}`,
  "DescribeImageAttribute@0",
  "DescribeImageAttribute@1",
  "DescribeImageAttribute@2",
  "DescribeSnapshots@eu-west-1",
  "DescribeSnapshots@us-west-2",
  "GetParameter@/golden/v2",
  "GetEbsEncryptionByDefault@eu-west-1",
  "GetEbsEncryptionByDefault@us-west-2",
  "GetParameters@eu-west-1",
  "GetParameters@us-west-2",
  "DescribeSnapshotAttribute@eu-west-1",
  "DescribeSnapshotAttribute@us-west-2",
  "ListGrants@eu-west-1",
  "ListGrants@us-west-2",
  "DescribePublicSnapshots@eu-west-1",
  "DescribePublicSnapshots@us-west-2",
  // In the recipient's account: its role, and its reads.
  `AssumeRole@${RECIPIENT}`,
  `${RECIPIENT}:DescribeImages@eu-west-1`,
  `${RECIPIENT}:DescribeImageAttribute@0`,
  `${RECIPIENT}:DescribeSnapshots@us-west-2`,
  `${RECIPIENT}:GetEbsEncryptionByDefault@eu-west-1`,
  `${RECIPIENT}:GetParameters@us-west-2`,
  `${RECIPIENT}:DescribePublicSnapshots@eu-west-1`,
  "DescribeParameters@eu-west-1",
  "ListTagsForResource@us-west-2",
  `${RECIPIENT}:DescribeParameters@us-west-2`,
]);

function fleetOfWorld(world: World): Fleet {
  return fleetOf({
    name: "golden",
    source: { region: "us-east-1", images: [{ key: "v1", amiId: SRC1 }, { key: "v2", ssmParameter: "/golden/v2" }] },
    regions: [...TARGETS],
    share: { accounts: ACCOUNTS.slice(0, 2) },
    pointers: [{ key: "latest", parameter: "/golden/latest", image: "v1" }],
    recipients: [{ account: RECIPIENT }],
    ...(world.encryptedFleet === undefined
      ? {}
      : world.encryptedFleet
        ? { encryption: { encrypted: true, kmsKeyIds: Object.fromEntries(TARGETS.map((r) => [r, keyArn(r)])) } }
        : { encryption: { encrypted: false } }),
  });
}

/** The reader over a world; a call named in `faults` throws, and is recorded when it does. */
class WorldReader implements AwsReader {
  readonly failed = new Set<Fault>();
  private readonly images: Image[];
  private readonly snapshots = new Map<string, Snapshot & { region: string }>();
  private readonly permissions = new Map<string, LaunchPermission[]>();

  private readonly readers = new Map<string, readonly string[]>();

  /** `account`: the recipient's account (its copies, pointers; faults named `<account>:...`); undefined: the owner's. */
  constructor(
    private readonly world: World,
    private readonly fleet: Fleet,
    private readonly faults: ReadonlySet<Fault>,
    private readonly account?: string,
  ) {
    const copies = account === undefined ? world.copies : world.recipientCopies;
    // The recipient's ids differ from the owner's (ami-1..., snap-r...).
    const prefix = account === undefined ? "ami-0000000000000000" : "ami-1000000000000000";
    this.images = copies.map((copy, i) => {
      const imageId = `${prefix}${i}`;
      const source = copy.key === "v1" ? SRC1 : copy.key === "v2" ? SRC2 : "ami-0bbbbbbbbbbbbbbbb";
      const snapshotId = `snap-${account === undefined ? "" : "r"}${i}`;
      this.snapshots.set(snapshotId, { region: copy.region, SnapshotId: snapshotId, Encrypted: copy.encrypted, KmsKeyId: copy.encrypted ? keyArn(copy.region) : undefined, State: copy.snapshotState });
      this.readers.set(snapshotId, copy.readers);
      this.permissions.set(imageId, [...copy.accounts.map((UserId) => ({ UserId })), ...(copy.public ? [{ Group: "all" as const }] : [])]);
      const tags = copy.tagged
        ? {
            [MANAGEMENT_TAGS.fleet]: "golden",
            [MANAGEMENT_TAGS.image]: copy.key,
            [MANAGEMENT_TAGS.sourceAmi]: source,
            [MANAGEMENT_TAGS.sourceRegion]: "us-east-1",
            ...(account !== undefined ? { [OWNER_COPY_TAG]: `ami-0000000000000000${copy.from}` } : {}),
          }
        : {};
      return {
        ImageId: imageId,
        Name: renderCopyName(this.fleet, copy.key, copy.region, source),
        State: "available",
        Public: copy.public,
        CreationDate: "2026-11-01T00:00:00.000Z",
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        BlockDeviceMappings: [{ Ebs: { SnapshotId: snapshotId } }],
        region: copy.region,
      } as Image & { region: string };
    });
  }

  private fail(call: Fault): void {
    const fault = this.account === undefined ? call : `${this.account}:${call}`;
    if (this.faults.has(fault)) {
      this.failed.add(fault);
      throw Object.assign(new Error(`injected: ${fault}`), { name: "InjectedFault" });
    }
  }

  async describeImages(region: string, input: DescribeImagesCommandInput): Promise<Image[]> {
    this.fail(`DescribeImages@${region}`);
    const filter = input.Filters?.[0];
    return this.images.filter((image) => {
      if ((image as { region?: string }).region !== region) return false;
      if (filter?.Name === "name") return filter.Values!.includes(image.Name!);
      if (filter?.Name === `tag:${MANAGEMENT_TAGS.fleet}`) return image.Tags!.some((t) => t.Key === MANAGEMENT_TAGS.fleet && filter.Values!.includes(t.Value!));
      return false;
    });
  }

  async describeLaunchPermissions(_region: string, imageId: string): Promise<LaunchPermission[]> {
    this.fail(`DescribeImageAttribute@${Number(imageId.slice(-1))}`);
    return this.permissions.get(imageId) ?? [];
  }

  async describeSnapshots(region: string, ids: readonly string[]): Promise<Snapshot[]> {
    this.fail(`DescribeSnapshots@${region}`);
    return ids.flatMap((id) => {
      const snapshot = this.snapshots.get(id);
      return snapshot && snapshot.region === region ? [snapshot] : [];
    });
  }

  async getParameter(_region: string, name: string): Promise<string | undefined> {
    this.fail(`GetParameter@${name}`);
    return SRC2;
  }

  async getParameters(region: string, names: readonly string[]): Promise<{ values: Record<string, string>; missing: string[] }> {
    this.fail(`GetParameters@${region}`);
    const value = (this.account === undefined ? this.world.pointers : this.world.recipientPointers)[region];
    const values: Record<string, string> = {};
    for (const name of names) if (name === "/golden/latest" && value !== undefined) values[name] = value;
    return { values, missing: names.filter((name) => !(name in values)) };
  }

  async describeParameters(region: string, names: readonly string[]): Promise<Record<string, string>> {
    this.fail(`DescribeParameters@${region}`);
    return Object.fromEntries(names.map((name) => [name, this.pointerOf(name).description]));
  }

  async listParameterTags(region: string, name: string): Promise<Record<string, string>> {
    this.fail(`ListTagsForResource@${region}`);
    return { ...this.pointerOf(name).tags };
  }

  /** The fleet's pointer as the stacks made it, in this reader's account. */
  private pointerOf(name: string): { description: string; tags: Record<string, string> } {
    const fleet = this.account === undefined ? this.fleet : recipientView(this.fleet, this.fleet.recipients[0]);
    const pointer = desiredPointers(fleet).find((p) => p.pointer.parameter === name)!;
    return { description: pointer.description, tags: { ...pointer.tags } };
  }

  async getEbsEncryptionByDefault(region: string): Promise<boolean> {
    this.fail(`GetEbsEncryptionByDefault@${region}`);
    return this.world.encryptionByDefault[region] ?? false;
  }

  async describeSnapshotPermissions(region: string, snapshotId: string): Promise<string[]> {
    this.fail(`DescribeSnapshotAttribute@${region}`);
    return [...(this.readers.get(snapshotId) ?? [])];
  }

  async describePublicSnapshots(region: string): Promise<string[]> {
    this.fail(`DescribePublicSnapshots@${region}`);
    return [...this.readers].filter(([id, readers]) => readers.includes("all") && this.snapshots.get(id)?.region === region).map(([id]) => id).sort();
  }

  async listGrants(region: string): Promise<{ granteePrincipal?: string; operations: string[]; name?: string }[]> {
    this.fail(`ListGrants@${region}`);
    return this.world.grants[region] ? [{ name: keyGrantName(this.fleet.name, RECIPIENT), granteePrincipal: `arn:aws:iam::${RECIPIENT}:root`, operations: [...RECIPIENT_KEY_OPERATIONS] }] : [];
  }

  async checkCredentials(): Promise<void> {
    if (this.account !== undefined && this.faults.has(`AssumeRole@${this.account}`)) {
      this.failed.add(`AssumeRole@${this.account}`);
      throw Object.assign(new Error("injected: AssumeRole"), { name: "AccessDenied" });
    }
  }

  async describeEnabledRegions(): Promise<string[]> {
    return [...TARGETS, SCANNED];
  }

  stats() {
    return { calls: {}, attempts: 0 };
  }
}

const id = (f: DriftFinding) => [f.kind, f.region, f.account ?? "", f.image ?? "", f.amiId ?? "", f.principal ?? "", f.expected ?? "", f.actual ?? ""].join("|");

async function reconcile(world: World, faults: Fault[]) {
  const fleet = fleetOfWorld(world);
  const reader = new WorldReader(world, fleet, new Set(faults));
  const recipient = new WorldReader(world, fleet, new Set(faults), RECIPIENT);
  const state = await readLiveState([fleet], reader, { now: () => new Date("2026-12-01T00:00:00Z"), scanRegions: [SCANNED], recipientReader: () => recipient });
  const report = diffFleets([fleet], state);
  return { report, failed: new Set([...reader.failed, ...recipient.failed]), findings: report.fleets[0].findings, state };
}

describe("the reconcile invariant (property)", () => {
  it("anything unread makes the report an error, never in sync; no finding comes from what was not read; what was read is reported", async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, faultArb, async (world, faults) => {
        const clean = await reconcile(world, []);
        const faulty = await reconcile(world, faults);
        expect(clean.failed.size).toBe(0);
        expect(clean.report.errors).toEqual([]);

        if (faulty.failed.size > 0) {
          expect(faulty.report.inSync).toBe(false);
          expect(exitCodeOf(faulty.report)).toBe(1);
          expect(faulty.report.errors.length).toBeGreaterThan(0);
        } else {
          expect(faulty.report).toEqual(clean.report);
        }

        // No finding from data that was not read: every finding is one the clean read gives too.
        const cleanIds = new Set(clean.findings.map(id));
        for (const finding of faulty.findings) expect(cleanIds).toContain(id(finding));

        // What was read is reported: a copy DescribeImages calls public, in a Region read, stays critical.
        for (const [region, live] of Object.entries(faulty.state.regions)) {
          if (live.error) continue;
          for (const image of live.images.filter((i) => i.public)) {
            const declaredHere = image.tags[MANAGEMENT_TAGS.fleet] === "golden" || clean.findings.some((f) => f.amiId === image.imageId);
            if (!declaredHere) continue;
            expect(faulty.findings.some((f) => f.kind === "public-image" && f.amiId === image.imageId)).toBe(true);
          }
          // A Region none of whose reads failed, with its sources resolved, keeps all its findings.
          const untouched =
            ![...faulty.failed].some((f) => f.endsWith(`@${region}`) || /^DescribeImageAttribute@/.test(f) || f.startsWith("GetParameter"));
          if (untouched) {
            // The owner's findings there (the recipient's account is read on its own).
            const owners = (findings: readonly DriftFinding[]) => findings.filter((f) => f.region === region && f.kind !== "missing-snapshot-permission" && f.kind !== "missing-grant" && f.kind !== "extra-snapshot-permission" && (f.account === undefined || f.kind === "missing-permission")).map(id).sort();
            expect(owners(faulty.findings)).toEqual(owners(clean.findings));
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});
