import fc from "fast-check";
import { diffFleets } from "../lib/drift/diff";
import { matchRegion } from "../lib/drift/match";
import { exitCodeOf, FINDING_KINDS } from "../lib/drift/findings";
import { LIVE_STATE_VERSION, LiveImage, LiveState } from "../lib/live/state";
import { renderDriftMarkdown } from "../lib/report/markdown";
import { withRemedies } from "../lib/report/remedies";
import { renderDriftText } from "../lib/report/text";
import { Fleet, MANAGEMENT_TAGS } from "../lib/fleet/fleet";
import { fleetOf, keyArn } from "./helpers/fleets";
import { desiredPointers, RECIPIENT_KEY_OPERATIONS } from "../lib/fleet/desired";
import { keyGrantName } from "../lib/fleet/addresses";

/** The pure diff on plain fixtures: the finding kinds the emulator cannot produce, and edge cases. */

const SOURCE = "ami-0123456789abcdef0";
const NOW = "2026-11-22T12:00:00.000Z";

function fleet(change: (d: any) => void = () => undefined): Fleet {
  const doc: any = {
    name: "golden",
    source: { region: "us-east-1", images: [{ key: "v1", amiId: SOURCE }] },
    regions: ["eu-west-1"],
    share: { accounts: ["444455556666"] },
  };
  change(doc);
  return fleetOf(doc);
}

function copy(overrides: Partial<LiveImage> = {}): LiveImage {
  return {
    imageId: "ami-0aaaaaaaaaaaaaaaa",
    name: `golden-v1-${SOURCE}`,
    description: `golden v1: copy of ${SOURCE} from us-east-1`,
    state: "available",
    public: false,
    creationDate: "2026-11-22T10:00:00.000Z",
    tags: {
      [MANAGEMENT_TAGS.fleet]: "golden",
      [MANAGEMENT_TAGS.image]: "v1",
      [MANAGEMENT_TAGS.sourceAmi]: SOURCE,
      [MANAGEMENT_TAGS.sourceRegion]: "us-east-1",
    },
    snapshotIds: ["snap-1"],
    launchPermissions: [{ kind: "account", value: "444455556666" }],
    ...overrides,
  };
}

function state(images: LiveImage[], overrides: Partial<LiveState> = {}, snapshot = { snapshotId: "snap-1", encrypted: false, state: "completed" }): LiveState {
  return {
    version: LIVE_STATE_VERSION,
    readAt: NOW,
    regions: { "eu-west-1": { images, snapshots: { "snap-1": snapshot }, encryptionByDefault: false, publicSnapshots: [] } },
    sources: { golden: { v1: { amiId: SOURCE } } },
    ...overrides,
  };
}

function diff(f: Fleet, s: LiveState) {
  const report = withRemedies(diffFleets([f], s));
  return { report, findings: report.fleets[0].findings };
}

describe("diff: in sync", () => {
  it("reports nothing for a copy as declared, and exit code 0", () => {
    const { report } = diff(fleet(), state([copy()]));
    expect(report).toEqual({ version: 1, inSync: true, fleets: [{ name: "golden", findings: [], coverage: { regions: 1, unreadRegions: 0, unreadArguments: [] } }], errors: [] });
    expect(exitCodeOf(report)).toBe(0);
  });
});

describe("diff: copy-state", () => {
  it.each([
    ["failed", { state: "failed", stateReason: "Copy failed" }, "high", "failed: Copy failed"],
    ["disabled", { state: "disabled" }, "high", "disabled"],
    ["pending too long", { state: "pending", creationDate: "2026-11-22T08:00:00.000Z" }, "medium", "pending for 240 minutes"],
  ])("reports a %s copy", (_name, overrides, severity, actual) => {
    const { findings, report } = diff(fleet(), state([copy(overrides as Partial<LiveImage>)]));
    expect(findings).toEqual([expect.objectContaining({ kind: "copy-state", severity, actual })]);
    expect(exitCodeOf(report)).toBe(2);
  });

  it("does not report a copy pending for less than the timeout", () => {
    const { findings } = diff(fleet(), state([copy({ state: "pending", creationDate: "2026-11-22T11:00:00.000Z" })]));
    expect(findings).toEqual([]);
  });

  it("reports a copy whose snapshot failed for lack of key access, with the snapshot's message", () => {
    const f = fleet((d) => (d.regions = [{ region: "eu-west-1", kmsKeyId: keyArn("eu-west-1") }]));
    const { findings } = diff(
      f,
      state([copy()], {}, { snapshotId: "snap-1", encrypted: true, state: "error", stateMessage: "Given key ID is not accessible" } as any),
    );
    expect(findings).toEqual([
      expect.objectContaining({ kind: "copy-state", actual: "failed: Given key ID is not accessible", remedy: expect.stringContaining("kms:CreateGrant") }),
    ]);
  });

  it("reports a copy deprecated earlier than declared", () => {
    const f = fleet((d) => (d.deprecateAt = "2027-06-01T00:00:00Z"));
    const { findings } = diff(f, state([copy({ deprecationTime: "2026-11-01T00:00:00.000Z" })]));
    expect(findings).toEqual([expect.objectContaining({ kind: "copy-state", severity: "medium", expected: "deprecated at 2027-06-01T00:00:00Z" })]);
  });
});

describe("diff: deprecation-drift", () => {
  it("reports a deprecation time other than declared", () => {
    const f = fleet((d) => (d.deprecateAt = "2027-06-01T00:00:00Z"));
    const { findings } = diff(f, state([copy({ deprecationTime: "2027-07-01T00:00:00.000Z" })]));
    expect(findings).toEqual([
      expect.objectContaining({
        kind: "deprecation-drift",
        expected: "2027-06-01T00:00:00Z",
        actual: "2027-07-01T00:00:00.000Z",
        remedy: "aws ec2 enable-image-deprecation --region eu-west-1 --image-id ami-0aaaaaaaaaaaaaaaa --deprecate-at 2027-06-01T00:00:00Z",
      }),
    ]);
  });

  it("compares each copy with its image version's deprecateAt, which overrides the fleet's", () => {
    const f = fleet((d) => {
      d.deprecateAt = "2027-06-01T00:00:00Z";
      d.source.images[0].deprecateAt = "2027-01-01T00:00:00Z";
    });
    expect(diff(f, state([copy({ deprecationTime: "2027-01-01T00:00:00.000Z" })])).findings).toEqual([]);
    expect(diff(f, state([copy({ deprecationTime: "2027-06-01T00:00:00.000Z" })])).findings).toEqual([
      expect.objectContaining({
        kind: "deprecation-drift",
        expected: "2027-01-01T00:00:00Z",
        remedy: "aws ec2 enable-image-deprecation --region eu-west-1 --image-id ami-0aaaaaaaaaaaaaaaa --deprecate-at 2027-01-01T00:00:00Z",
      }),
    ]);
  });

  it("compares as EC2 stores the time: rounded to the nearest minute", () => {
    const f = fleet((d) => (d.deprecateAt = "2027-06-01T00:00:45Z"));
    // EC2 stores 00:00:45 as 00:01:00: that is the declared time, not drift.
    expect(diff(f, state([copy({ deprecationTime: "2027-06-01T00:01:00.000Z" })])).findings).toEqual([]);
    // Truncated, it would be 00:00:00: a time EC2 would never store for this file, so it is drift.
    expect(diff(f, state([copy({ deprecationTime: "2027-06-01T00:00:00.000Z" })])).findings).toEqual([
      expect.objectContaining({ kind: "deprecation-drift" }),
    ]);
    const early = fleet((d) => (d.deprecateAt = "2027-06-01T00:00:20Z"));
    expect(diff(early, state([copy({ deprecationTime: "2027-06-01T00:00:00.000Z" })])).findings).toEqual([]);
  });

  it("reports a deprecation the fleet does not declare", () => {
    const { findings } = diff(fleet(), state([copy({ deprecationTime: "2027-07-01T00:00:00.000Z" })]));
    expect(findings).toEqual([expect.objectContaining({ kind: "deprecation-drift", remedy: expect.stringContaining("disable-image-deprecation") })]);
  });
});

describe("diff: what could not be read is an error, never drift", () => {
  it("an unreadable Region gives an error and no missing-copy", () => {
    const { report } = diff(fleet(), state([], { regions: { "eu-west-1": { error: "AccessDenied", images: [], snapshots: {} } } }));
    expect(report.fleets[0].findings).toEqual([]);
    expect(report.errors).toEqual([{ fleet: "golden", region: "eu-west-1", message: "cannot read Region: AccessDenied" }]);
    expect(report.inSync).toBe(false);
    expect(exitCodeOf(report)).toBe(1);
  });

  it("unreadable launch permissions give an error and no permission findings", () => {
    const { report } = diff(fleet(), state([copy({ launchPermissions: undefined, permissionsError: "InternalError" })]));
    expect(report.fleets[0].findings).toEqual([]);
    expect(report.errors[0].message).toMatch(/cannot read the launch permissions of ami-0aaaaaaaaaaaaaaaa: InternalError/);
  });

  it("unreadable snapshots give an error and no encryption finding", () => {
    const f = fleet((d) => (d.regions = [{ region: "eu-west-1", kmsKeyId: keyArn("eu-west-1") }]));
    // The share accounts' grants on the key are there: the only thing unread is the snapshot.
    const grants = f.share.accounts.map((account) => ({ name: keyGrantName(f.name, account), granteePrincipal: `arn:aws:iam::${account}:root`, operations: [...RECIPIENT_KEY_OPERATIONS] }));
    const s: LiveState = {
      ...state([copy()]),
      regions: { "eu-west-1": { images: [copy()], snapshots: {}, snapshotErrors: { "snap-1": "Throttling" }, keyGrants: { [keyArn("eu-west-1")]: grants }, encryptionByDefault: false, publicSnapshots: [] } },
    };
    const { report } = diff(f, s);
    expect(report.fleets[0].findings).toEqual([]);
    expect(report.errors.map((e) => e.message)).toEqual([expect.stringMatching(/cannot read the snapshots of .*: Throttling/)]);
  });

  it("an unresolved source is an error, and copies are not called stale", () => {
    const { report } = diff(fleet(), state([copy()], { sources: { golden: { v1: { error: "ParameterNotFound" } } } }));
    expect(report.fleets[0].findings).toEqual([]);
    expect(report.errors).toEqual([{ fleet: "golden", region: "us-east-1", message: "source image v1: ParameterNotFound" }]);
  });

  it("a fleet missing from a saved state is an error", () => {
    const { report } = diff(fleet(), state([copy()], { sources: {} }));
    expect(report.errors[0].message).toMatch(/fleet not found in the live state/);
  });
});

describe("diff: duplicates and other fleets", () => {
  it("keeps the copy of the declared source and calls the other an orphan", () => {
    const older = copy({ imageId: "ami-0bbbbbbbbbbbbbbbb", tags: { ...copy().tags, [MANAGEMENT_TAGS.sourceAmi]: "ami-0ccccccccccccccc0" }, creationDate: "2026-11-22T11:00:00.000Z" });
    const { findings } = diff(fleet(), state([copy(), older]));
    expect(findings).toEqual([expect.objectContaining({ kind: "orphan-copy", amiId: "ami-0bbbbbbbbbbbbbbbb" })]);
  });

  it("the fleet's own copy is the one with the expected name: a newer hand-made copy with the fleet's tags is the orphan, never the copy Terraform manages", () => {
    // Someone copied the source by hand and tagged it as the fleet's: same source, newer, another name.
    const stranger = copy({ imageId: "ami-0eeeeeeeeeeeeeeee", name: "hand-made-golden", creationDate: "2026-11-22T11:30:00.000Z", launchPermissions: [{ kind: "account", value: "999988887777" }] });
    const { findings } = diff(fleet(), state([copy(), stranger]));
    const orphans = findings.filter((f) => f.kind === "orphan-copy");
    expect(orphans.map((f) => f.amiId)).toEqual(["ami-0eeeeeeeeeeeeeeee"]);
    // Its remedy deregisters the stranger's copy; nothing points at the fleet's.
    expect(findings.filter((f) => f.amiId === "ami-0aaaaaaaaaaaaaaaa")).toEqual([]);
    expect(orphans[0].remedy).toContain("--image-id ami-0eeeeeeeeeeeeeeee");
  });

  it("a recipient's copy that lost its tags, found by name, was copied from the owner's kept copy (EC2's SourceImageId): tag-drift, not stale-copy", () => {
    const R = "222233334444";
    const f = fleet((d) => (d.recipients = [{ account: R }]));
    const owner = copy();
    const own = copy({
      imageId: "ami-0bbbbbbbbbbbbbbbb",
      description: `golden v1: copy of ${SOURCE} from us-east-1 (account ${R}'s own copy)`,
      tags: {},
      sourceImageId: owner.imageId,
      launchPermissions: [],
      snapshotIds: ["snap-2"],
    });
    const s: LiveState = {
      ...state([owner]),
      regions: { "eu-west-1": { images: [owner], snapshots: { "snap-1": { snapshotId: "snap-1", encrypted: false, state: "completed" } }, snapshotPermissions: { "snap-1": [R] }, encryptionByDefault: false, publicSnapshots: [] } },
      accounts: {
        [R]: {
          roleArn: `arn:aws:iam::${R}:role/ami-fleet-recipient`,
          regions: { "eu-west-1": { images: [own], snapshots: { "snap-2": { snapshotId: "snap-2", encrypted: false, state: "completed" } }, encryptionByDefault: false, parameters: {}, publicSnapshots: [] } },
        },
      },
    };
    const owned = { ...s, regions: { "eu-west-1": { ...s.regions["eu-west-1"], images: [{ ...owner, launchPermissions: [...owner.launchPermissions!, { kind: "account" as const, value: R }] }] } } };
    const { findings, report } = diff(f, owned);
    expect(report.errors).toEqual([]);
    expect(findings.map((x) => `${x.kind} ${x.account ?? "owner"} ${x.amiId}`)).toEqual([`tag-drift ${R} ami-0bbbbbbbbbbbbbbbb`]);
    // Copied from an older copy of the owner's: that one is stale.
    const older = { ...owned, accounts: { [R]: { ...owned.accounts![R], regions: { "eu-west-1": { ...owned.accounts![R].regions["eu-west-1"], images: [{ ...own, sourceImageId: "ami-0cccccccccccccccc" }] } } } } };
    expect(diff(f, older).findings.map((x) => `${x.kind} ${x.account ?? "owner"}`)).toContain(`stale-copy ${R}`);
  });

  it("a copy's or an orphan's snapshot that every account may copy is critical, with the call that takes it back; public snapshots that could not be listed are an error", () => {
    const orphan = copy({ imageId: "ami-0bbbbbbbbbbbbbbbb", name: "golden-old", tags: { ...copy().tags, [MANAGEMENT_TAGS.image]: "old" }, snapshotIds: ["snap-9"] });
    const s = state([copy(), orphan]);
    const snapshots = { ...s.regions["eu-west-1"].snapshots, "snap-9": { snapshotId: "snap-9", encrypted: false, state: "completed" } };
    const open: LiveState = { ...s, regions: { "eu-west-1": { ...s.regions["eu-west-1"], snapshots, publicSnapshots: ["snap-1", "snap-9"] } } };
    const { findings, report } = diff(fleet(), open);
    const exposed = findings.filter((f) => f.kind === "extra-snapshot-permission");
    expect(exposed.map((f) => `${f.severity} ${f.amiId} ${f.actual}`).sort()).toEqual([
      "critical ami-0aaaaaaaaaaaaaaaa public: every account may copy it",
      "critical ami-0bbbbbbbbbbbbbbbb public: every account may copy it",
    ]);
    expect(exposed.find((f) => f.amiId === "ami-0aaaaaaaaaaaaaaaa")!.remedy).toBe("aws ec2 modify-snapshot-attribute --region eu-west-1 --snapshot-id snap-1 --attribute createVolumePermission --operation-type remove --group-names all");
    expect(exitCodeOf(report)).toBe(2);
    const unlisted: LiveState = { ...s, regions: { "eu-west-1": { ...s.regions["eu-west-1"], publicSnapshots: undefined, publicSnapshotsError: "UnauthorizedOperation" } } };
    const { report: unread } = diff(fleet(), unlisted);
    expect(unread.inSync).toBe(false);
    expect(unread.errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/^cannot list the public snapshots .*: UnauthorizedOperation$/));
  });

  it("a tag the fleet does not declare, a changed description and a pointer of another type are drift Terraform would set back", () => {
    const f = fleet((d) => (d.pointers = [{ key: "latest", parameter: "/golden/latest", image: "v1" }]));
    const edited = copy({ tags: { ...copy().tags, "owner-x": "someone" }, description: "edited by hand" });
    const s = state([edited]);
    const [pointer] = desiredPointers(f);
    const region = {
      ...s.regions["eu-west-1"],
      publicSnapshots: [],
      parameters: { "/golden/latest": edited.imageId },
      parameterKinds: { "/golden/latest": { type: "SecureString", dataType: "text" } },
      parameterDescriptions: { "/golden/latest": pointer.description },
      parameterTags: { "/golden/latest": { ...pointer.tags } },
    };
    const { findings, report } = diff(f, { ...s, regions: { "eu-west-1": region } });
    expect(report.errors).toEqual([]);
    expect(findings.map((x) => `${x.kind} ${x.expected} | ${x.actual}`).sort()).toEqual([
      "description-drift golden v1: copy of ami-0123456789abcdef0 from us-east-1 | edited by hand",
      "pointer-drift type String, data type aws:ec2:image | type SecureString, data type text",
      "tag-drift no owner-x | owner-x=someone",
    ]);
    expect(findings.find((x) => x.kind === "description-drift")!.remedy).toBe("cdktf deploy golden (Terraform restores the description)");
    // As the stacks leave them: nothing.
    const clean = { ...region, parameterKinds: { "/golden/latest": { type: "String", dataType: "aws:ec2:image" } } };
    expect(diff(f, { ...state([copy()]), regions: { "eu-west-1": { ...clean, images: [copy()] } } }).findings).toEqual([]);
  });

  it("another fleet's Region that could not be read is that fleet's error, not this one's (its tag was never looked for there)", () => {
    const golden = fleet();
    const other = fleetOf({ name: "other", source: { region: "us-east-1", images: [{ key: "v1", amiId: SOURCE }] }, regions: ["us-west-2"] });
    const s = state([copy()]);
    const both: LiveState = {
      ...s,
      regions: { ...s.regions, "eu-west-1": { ...s.regions["eu-west-1"], lookedFor: ["golden"] }, "us-west-2": { error: "UnauthorizedOperation", images: [], snapshots: {}, lookedFor: ["other"] } },
      sources: { ...s.sources, other: { v1: { amiId: SOURCE } } },
    };
    const report = diffFleets([golden, other], both);
    expect(report.errors.map((e) => `${e.fleet} ${e.region}`)).toEqual(["other us-west-2"]);
    expect(report.fleets.find((f) => f.name === "golden")!.findings).toEqual([]);
  });

  it("an orphan that an account the fleet never declared can launch names that account (high), beside the orphan", () => {
    const orphan = copy({ imageId: "ami-0bbbbbbbbbbbbbbbb", name: "golden-old", tags: { ...copy().tags, [MANAGEMENT_TAGS.image]: "old" }, launchPermissions: [{ kind: "account", value: "444455556666" }, { kind: "account", value: "999988887777" }] });
    const { findings } = diff(fleet(), state([copy(), orphan]));
    expect(findings.filter((f) => f.amiId === orphan.imageId).map((f) => `${f.kind} ${f.severity} ${f.principal ?? ""}`).sort()).toEqual([
      "extra-permission high account 999988887777",
      "orphan-copy medium ",
    ]);
  });

  it("ignores copies of other fleets", () => {
    const other = copy({ imageId: "ami-0ddddddddddddddddd".slice(0, 21), name: "other-v1", tags: { ...copy().tags, [MANAGEMENT_TAGS.fleet]: "other" } });
    expect(diff(fleet(), state([copy(), other])).findings).toEqual([]);
  });

  it("declared public sharing is not a finding; undeclared is critical", () => {
    const publicCopy = copy({ public: true, launchPermissions: [{ kind: "account", value: "444455556666" }, { kind: "public", value: "all" }] });
    const declared = fleet((d) => (d.share = { accounts: ["444455556666"], public: true, acknowledgePublic: true }));
    expect(diff(declared, state([publicCopy])).findings).toEqual([]);
    expect(diff(fleet(), state([publicCopy])).findings).toEqual([expect.objectContaining({ kind: "public-image", severity: "critical" })]);
  });

  it("reports an encrypted copy where the fleet declares unencrypted", () => {
    const f = fleet((d) => (d.encryption = { encrypted: false }));
    const { findings } = diff(f, state([copy()], {}, { snapshotId: "snap-1", encrypted: true, kmsKeyId: keyArn("eu-west-1"), state: "completed" } as any));
    expect(findings).toEqual([expect.objectContaining({ kind: "encryption-mismatch", expected: "unencrypted" })]);
  });

  it("compares a key ARN with a bare key id", () => {
    const f = fleet((d) => (d.regions = [{ region: "eu-west-1", kmsKeyId: keyArn("eu-west-1", "1234abcd-12ab-34cd-56ef-1234567890ab") }]));
    const { findings } = diff(f, state([copy()], {}, { snapshotId: "snap-1", encrypted: true, kmsKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab", state: "completed" } as any));
    expect(findings).toEqual([]);
  });
});

describe("diff: never crashes on arbitrary live state", () => {
  const permission = fc.record({
    kind: fc.constantFrom("account", "organization", "organizational-unit", "public"),
    value: fc.string(),
  }) as fc.Arbitrary<any>;
  const image = fc.record(
    {
      imageId: fc.string(),
      name: fc.option(fc.string(), { nil: undefined }),
      state: fc.option(fc.constantFrom("available", "pending", "failed", "disabled", "weird"), { nil: undefined }),
      public: fc.option(fc.boolean(), { nil: undefined }),
      creationDate: fc.option(fc.string(), { nil: undefined }),
      deprecationTime: fc.option(fc.string(), { nil: undefined }),
      tags: fc.dictionary(fc.constantFrom(...Object.values(MANAGEMENT_TAGS), "team", "x"), fc.constantFrom("golden", "v1", SOURCE, "us-east-1", "")),
      snapshotIds: fc.array(fc.constantFrom("snap-1", "snap-2")),
      launchPermissions: fc.option(fc.array(permission), { nil: undefined }),
    },
    { requiredKeys: ["imageId", "tags", "snapshotIds"] },
  ) as fc.Arbitrary<LiveImage>;

  it("returns findings of known kinds only", () => {
    const f = fleet((d) => (d.regions = [{ region: "eu-west-1", kmsKeyId: keyArn("eu-west-1") }]));
    fc.assert(
      fc.property(fc.array(image, { maxLength: 6 }), fc.boolean(), fc.string(), (images, regionError, readAt) => {
        const s: LiveState = {
          version: LIVE_STATE_VERSION,
          readAt,
          regions: { "eu-west-1": { images, snapshots: {}, ...(regionError ? { error: "x" } : {}) } },
          sources: { golden: { v1: { amiId: SOURCE } } },
        };
        const report = diffFleets([f], s);
        for (const finding of report.fleets[0].findings) expect(FINDING_KINDS).toContain(finding.kind);
        if (regionError) expect(report.fleets[0].findings).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe("reports of unreadable Regions", () => {
  it("say nothing could be read when no Region of a fleet could be read", () => {
    const f = fleet((d) => (d.regions = ["eu-west-1", "us-west-2"]));
    const s = state([], {
      regions: {
        "us-west-2": { error: "ECONNREFUSED", images: [], snapshots: {} },
        "eu-west-1": { error: "AccessDenied", images: [], snapshots: {} },
      },
    });
    const report = { ...withRemedies(diffFleets([f], s)), stats: {} };
    expect(report.errors.map((e) => e.region)).toEqual(["eu-west-1", "us-west-2"]);
    const text = renderDriftText(report, { color: false });
    expect(text).toContain("golden  could not be read");
    expect(text).toContain("nothing could be read: no fleet was checked; 2 errors");
    expect(text).not.toMatch(/in sync|no drift/);
    expect(renderDriftMarkdown(report)).toContain("**golden**: could not be read");
  });

  it("never call a fleet in sync when part of it could not be read", () => {
    const f = fleet((d) => (d.regions = ["eu-west-1", "us-west-2"]));
    const s = state([copy()], {
      regions: {
        "us-west-2": { error: "ECONNREFUSED", images: [], snapshots: {} },
        "eu-west-1": { images: [copy()], snapshots: { "snap-1": { snapshotId: "snap-1", encrypted: false, state: "completed" } }, encryptionByDefault: false, publicSnapshots: [] },
      },
    });
    const report = { ...withRemedies(diffFleets([f], s)), stats: {} };
    expect(report.fleets[0].coverage).toEqual({ regions: 2, unreadRegions: 1, unreadArguments: [] });
    const text = renderDriftText(report, { color: false });
    expect(text).toContain("golden  no drift in what could be read");
    expect(text).not.toContain("in sync");
    expect(renderDriftMarkdown(report)).toContain("**golden**: no drift in what could be read");
  });
});

describe("diff: the reconcile invariant, case by case (each failed before the fix)", () => {
  const snap = { snapshotId: "snap-1", encrypted: false, state: "completed" };

  it("an unreadable --scan-regions Region is an error, not in sync", () => {
    const s = state([copy()]);
    const scanned: LiveState = { ...s, regions: { ...s.regions, "eu-wset-1": { error: "UnauthorizedOperation: denied", scanned: true, images: [], snapshots: {} } } };
    const { report } = diff(fleet(), scanned);
    expect(report.inSync).toBe(false);
    expect(exitCodeOf(report)).toBe(1);
    expect(report.errors).toEqual([expect.objectContaining({ region: "eu-wset-1", message: expect.stringMatching(/cannot read scanned Region .*denied/) })]);
  });

  it("unlisted Regions (--scan-regions all) are an error", () => {
    const { report } = diff(fleet(), state([copy()], { scanError: "cannot list the Regions enabled for the account (--scan-regions all): AccessDenied" }));
    expect(exitCodeOf(report)).toBe(1);
    expect(report.errors[0].message).toMatch(/cannot list the Regions/);
  });

  it("unreadable snapshots are an error even when the fleet says nothing about encryption", () => {
    const s: LiveState = { ...state([copy()]), regions: { "eu-west-1": { images: [copy()], snapshots: {}, snapshotErrors: { "snap-1": "Throttling" }, encryptionByDefault: false, publicSnapshots: [] } } };
    const { report } = diff(fleet(), s);
    expect(report.inSync).toBe(false);
    expect(report.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/cannot read the snapshots of ami-0aaaaaaaaaaaaaaaa \(snap-1\): Throttling/) })]);
  });

  it("a snapshot that no longer exists is reported on its copy, the copy's other checks still run", () => {
    const s: LiveState = { ...state([copy({ launchPermissions: [] })]), regions: { "eu-west-1": { images: [copy({ launchPermissions: [] })], snapshots: {}, missingSnapshots: ["snap-1"], encryptionByDefault: false, publicSnapshots: [] } } };
    const { findings, report } = diff(fleet(), s);
    expect(report.errors).toEqual([]);
    expect(findings.map((f) => f.kind).sort()).toEqual(["copy-state", "missing-permission"]);
    expect(findings.find((f) => f.kind === "copy-state")!.message).toMatch(/snapshot snap-1 no longer exists/);
  });

  it("a public copy is critical even when its launch permissions could not be read", () => {
    const { findings, report } = diff(fleet(), state([copy({ public: true, launchPermissions: undefined, permissionsError: "InternalError" })]));
    expect(findings).toEqual([expect.objectContaining({ kind: "public-image", severity: "critical" })]);
    expect(report.errors[0].message).toMatch(/cannot read the launch permissions/);
    expect(exitCodeOf(report)).toBe(1);
  });

  it("an unresolved source with no tagged copy is an error, never missing-copy", () => {
    const { findings, report } = diff(fleet(), state([], { sources: { golden: { v1: { error: "cannot resolve source image v1: Throttling" } } } }));
    expect(findings).toEqual([]);
    expect(report.errors.map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/cannot tell whether image v1 has a copy/)]),
    );
  });

  it("EBS encryption by default: an encrypted copy of an unencrypted fleet is not drift", () => {
    const encrypted = { snapshotId: "snap-1", encrypted: true, kmsKeyId: keyArn("eu-west-1"), state: "completed" };
    for (const encryption of [undefined, { encrypted: false }]) {
      const f = fleet((d) => (d.encryption = encryption));
      const s = state([copy()], {}, encrypted as any);
      const on: LiveState = { ...s, regions: { "eu-west-1": { ...s.regions["eu-west-1"], encryptionByDefault: true } } };
      expect(diff(f, on).report).toMatchObject({ inSync: true, errors: [] });
    }
    // Declared unencrypted, encrypted live, setting off: drift; setting unread: an error, not drift.
    const f = fleet((d) => (d.encryption = { encrypted: false }));
    const s = state([copy()], {}, encrypted as any);
    expect(diff(f, s).findings).toEqual([expect.objectContaining({ kind: "encryption-mismatch" })]);
    const unread: LiveState = { ...s, regions: { "eu-west-1": { ...s.regions["eu-west-1"], encryptionByDefault: undefined, encryptionByDefaultError: "UnauthorizedOperation" } } };
    expect(diff(f, unread).findings).toEqual([]);
    expect(diff(f, unread).report.errors.map((e) => e.message)).toEqual([expect.stringMatching(/cannot read EBS encryption by default .*UnauthorizedOperation/)]);
    void snap;
  });
});

describe("matchRegion: desired copies to live images, before any check", () => {
  const target = () => fleet().regions[0];
  const live = (images: LiveImage[]) => state(images).regions["eu-west-1"];
  const sources = new Map([["v1", SOURCE]]);
  const untagged = (overrides: Partial<LiveImage> = {}) => copy({ tags: {}, ...overrides });

  it("pairs a tagged copy, and one that lost its tags by the name the fleet expects", () => {
    for (const image of [copy(), untagged()]) {
      const match = matchRegion(fleet(), target(), live([image]), sources);
      expect(match.pairs.map((p) => [p.desired.image.key, p.copy.imageId])).toEqual([["v1", image.imageId]]);
      expect([match.missing, match.unknown, match.orphans]).toEqual([[], [], []]);
    }
  });

  it("ignores another fleet's images, and says missing only when the source is known", () => {
    const other = untagged({ imageId: "ami-0bbbbbbbbbbbbbbbb", name: "other-image" });
    expect(matchRegion(fleet(), target(), live([other]), sources).missing.map((d) => d.image.key)).toEqual(["v1"]);
    const unresolved = matchRegion(fleet(), target(), live([other]), new Map([["v1", undefined]]));
    expect([unresolved.missing, unresolved.unknown.map((d) => d.image.key)]).toEqual([[], ["v1"]]);
  });

  it("keeps the copy of the declared source over a newer stale one, and orphans the rest", () => {
    const stale = copy({ imageId: "ami-0ccccccccccccccccc", creationDate: "2026-11-22T11:00:00.000Z", tags: { ...copy().tags, [MANAGEMENT_TAGS.sourceAmi]: "ami-0dddddddddddddddd" } });
    const undeclared = copy({ imageId: "ami-0eeeeeeeeeeeeeeee", tags: { ...copy().tags, [MANAGEMENT_TAGS.image]: "v0" } });
    const match = matchRegion(fleet(), target(), live([stale, copy(), undeclared]), sources);
    expect(match.pairs.map((p) => p.copy.imageId)).toEqual([copy().imageId]);
    expect(match.orphans.map((o) => [o.image.imageId, o.key])).toEqual([
      [undeclared.imageId, undefined],
      [stale.imageId, "v1"],
    ]);
  });
});

describe("diff: pointers", () => {
  const pointed = () => fleet((d) => (d.pointers = [{ key: "latest", parameter: "/golden/latest", image: "v1" }]));
  // The parameters that exist carry the description and tags the stacks give them.
  const withParameters = (region: Partial<LiveState["regions"][string]>) => {
    const s = state([copy()]);
    const [desired] = desiredPointers(pointed());
    const names = Object.keys(region.parameters ?? {});
    const meta = {
      parameterDescriptions: Object.fromEntries(names.map((n) => [n, desired.description])),
      parameterTags: Object.fromEntries(names.map((n) => [n, { ...desired.tags }])),
    };
    return { ...s, regions: { "eu-west-1": { ...s.regions["eu-west-1"], ...meta, ...region } } };
  };

  it("is in sync when the pointer names the copy the fleet keeps", () => {
    const report = withRemedies(diffFleets([pointed()], withParameters({ parameters: { "/golden/latest": copy().imageId } })));
    expect(report.inSync).toBe(true);
  });

  it("reports a pointer's description and tags changed out of band; unread, they are an error", () => {
    const changed = diff(
      pointed(),
      withParameters({ parameters: { "/golden/latest": copy().imageId }, parameterDescriptions: { "/golden/latest": "edited" }, parameterTags: { "/golden/latest": { extra: "x" } } }),
    ).findings;
    expect(changed.map((f) => `${f.kind} ${f.parameter} ${f.actual}`)).toEqual(["description-drift /golden/latest edited", expect.stringMatching(/^tag-drift \/golden\/latest /)]);
    expect(changed[0].remedy).toMatch(/^cdktf deploy golden \(Terraform restores aws_ssm_parameter\.pointer_latest_eu-west-1\)/);
    const unread = diff(pointed(), withParameters({ parameters: { "/golden/latest": copy().imageId }, parameterMetaErrors: { "/golden/latest": "AccessDeniedException" } })).report;
    expect(unread.errors.map((e) => e.message)).toEqual(["cannot read the description and tags of pointer /golden/latest: AccessDeniedException"]);
  });

  it("reports a pointer that names another AMI, and one that is gone", () => {
    const moved = diff(pointed(), withParameters({ parameters: { "/golden/latest": "ami-0ffffffffffffffff" } })).findings;
    expect(moved).toEqual([
      expect.objectContaining({
        kind: "pointer-drift",
        severity: "high",
        parameter: "/golden/latest",
        expected: copy().imageId,
        actual: "ami-0ffffffffffffffff",
        remedy: "cdktf deploy golden (Terraform restores aws_ssm_parameter.pointer_latest_eu-west-1)",
      }),
    ]);
    const gone = diff(pointed(), withParameters({ parameters: {}, missingParameters: ["/golden/latest"] })).findings;
    expect(gone).toEqual([expect.objectContaining({ kind: "pointer-missing", parameter: "/golden/latest", actual: "none" })]);
  });

  it("a pointer that could not be read is an error, never drift or in sync", () => {
    const { report } = diff(pointed(), withParameters({ parameters: {}, parameterErrors: { "/golden/latest": "AccessDeniedException" } }));
    expect(report.fleets[0].findings).toEqual([]);
    expect(report.inSync).toBe(false);
    expect(report.errors).toEqual([expect.objectContaining({ region: "eu-west-1", message: expect.stringContaining("cannot read pointer /golden/latest") })]);
    // A state saved before pointers were read says nothing about them: an error too.
    expect(diff(pointed(), state([copy()])).report.errors).toHaveLength(1);
  });
});
