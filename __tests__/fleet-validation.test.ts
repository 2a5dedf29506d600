import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { formatProblem, FleetSpecError } from "../lib/fleet/errors";
import { loadFleets } from "../lib/fleet/load";
import { validateFleet } from "../lib/fleet/validate";
import { stringify } from "yaml";
import { fleetOf, keyArn, validDocument } from "./helpers/fleets";

type Doc = Record<string, any>;

/** A recipient account of the cases below (not the owner's 111122223333, not a share account). */
const RECIPIENT = "222233334444";
const recipientKey = (region: string) => `arn:aws:kms:${region}:${RECIPIENT}:key/5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b`;

function problemsOf(document: unknown): { path: string; message: string; text: string }[] {
  const result = validateFleet("fleets/test.yaml", document);
  if (result.ok) return [];
  return result.problems.map((p) => ({ path: p.path, message: p.message, text: formatProblem(p) }));
}

function withChange(change: (doc: Doc) => void): Doc {
  const doc = validDocument();
  change(doc);
  return doc;
}

describe("fleet validation: one bad fleet per rule", () => {
  const orgArn = "arn:aws:organizations::111122223333:organization/o-abc123def4";
  const cases: [string, (doc: Doc) => void, string, RegExp][] = [
    ["unknown target Region", (d) => (d.regions = ["eu-west-1", "eu-wset-1"]), "regions[1]", /unknown Region "eu-wset-1".*Did you mean "eu-west-1"/],
    ["unknown source Region", (d) => (d.source.region = "us-east-9"), "source.region", /unknown Region "us-east-9"/],
    ["duplicate Region", (d) => (d.regions = ["eu-west-1", { region: "eu-west-1" }]), "regions[1].region", /eu-west-1 is listed twice \(also regions\[0\]\)/],
    ["Region in another partition", (d) => (d.regions = ["cn-north-1"]), "regions[0]", /partition aws-cn, the source is in aws/],
    ["source Region without allowSourceRegion", (d) => (d.regions = ["us-east-1"]), "regions[0]", /is the source Region/],
    ["account id not 12 digits", (d) => (d.share.accounts = ["44445555666"]), "share.accounts[0]", /"44445555666" is not an account id/],
    ["account id with letters", (d) => (d.share.accounts = ["44445555666a"]), "share.accounts[0]", /is not an account id/],
    ["duplicate account", (d) => (d.share.accounts = ["444455556666", "444455556666"]), "share.accounts[1]", /listed twice/],
    ["malformed Organization ARN", (d) => (d.share.organizationArns = ["arn:aws:organizations::111122223333:o-abc"]), "share.organizationArns[0]", /is not an Organization ARN/],
    ["malformed OU ARN", (d) => (d.share.organizationalUnitArns = ["ou-ab12-cd34ef56"]), "share.organizationalUnitArns[0]", /is not an organizational unit ARN/],
    ["Organization in another partition", (d) => (d.share.organizationArns = ["arn:aws-cn:organizations::111122223333:organization/o-abc123def4"]), "share.organizationArns[0]", /partition aws-cn, the fleet is in aws/],
    ["KMS key in another Region", (d) => (d.regions = [{ region: "eu-west-1", kmsKeyId: keyArn("us-east-1") }]), "regions[0].kmsKeyId", /key is in us-east-1, copy is in eu-west-1/],
    ["KMS key in another partition", (d) => (d.regions = [{ region: "eu-west-1", kmsKeyId: keyArn("eu-west-1").replace("arn:aws:", "arn:aws-cn:") }]), "regions[0].kmsKeyId", /partition aws-cn/],
    ["KMS key not an ARN", (d) => (d.encryption = { kmsKeyIds: { "eu-west-1": "1234abcd-12ab" } }), "encryption.kmsKeyIds.eu-west-1", /is not a KMS key ARN/],
    ["alias/aws/ebs", (d) => (d.encryption = { kmsKeyIds: { "eu-west-1": "arn:aws:kms:eu-west-1:111122223333:alias/aws/ebs" } }), "encryption.kmsKeyIds.eu-west-1", /AWS managed key/],
    ["default key while sharing", (d) => (d.encryption = { encrypted: true, kmsKeyIds: { "eu-west-1": keyArn("eu-west-1") } }), "encryption.kmsKeyIds.ap-southeast-2", /default EBS key .* cannot be shared/],
    ["key for a Region not targeted", (d) => (d.encryption = { kmsKeyIds: { "eu-west-3": keyArn("eu-west-3") } }), "encryption.kmsKeyIds.eu-west-3", /not a target Region/],
    ["two keys for one Region", (d) => { d.regions = [{ region: "eu-west-1", kmsKeyId: keyArn("eu-west-1") }]; d.encryption = { kmsKeyIds: { "eu-west-1": keyArn("eu-west-1", "99999999-8888-7777-6666-555555555555") } }; }, "encryption.kmsKeyIds.eu-west-1", /two keys/],
    ["key with encrypted: false", (d) => (d.encryption = { encrypted: false, kmsKeyIds: { "eu-west-1": keyArn("eu-west-1") } }), "encryption.kmsKeyIds.eu-west-1", /encryption.encrypted is false/],
    ["encrypted: false for an encrypted source", (d) => { d.source.images[0].encrypted = true; d.encryption = { encrypted: false }; }, "encryption.encrypted", /source image "2026-10" is encrypted/],
    ["encrypted copies shared with an Organization by grant", (d) => { d.share = { organizationArns: [orgArn] }; d.encryption = { kmsKeyIds: { "eu-west-1": keyArn("eu-west-1"), "ap-southeast-2": keyArn("ap-southeast-2") } }; }, "encryption.keyPolicyGrantsRecipients", /a KMS grant cannot name/],
    ["public without acknowledgement", (d) => (d.share.public = true), "share.public", /not acknowledged/],
    ["public and encrypted", (d) => { d.share = { public: true, acknowledgePublic: true }; d.encryption = { encrypted: true }; }, "share.public", /encrypted AMIs cannot be made public/],
    ["copy names not unique per Region", (d) => { d.source.images = [{ key: "a", ssmParameter: "/a" }, { key: "b", ssmParameter: "/b" }]; d.copyName = "{fleet}-{sourceAmi}"; }, "copyName", /images "a" and "b" would both be named/],
    ["copy name template without {sourceAmi}", (d) => (d.copyName = "{fleet}-{image}"), "copyName", /has no \{sourceAmi\}/],
    ["unknown placeholder", (d) => (d.copyName = "{fleet}-{imag}-{sourceAmi}"), "copyName", /unknown placeholder \{imag\}/],
    ["invalid AMI name characters", (d) => (d.copyName = "{fleet}#{image}-{sourceAmi}"), "copyName", /is not a valid AMI name/],
    ["same source AMI twice", (d) => (d.source.images[1].amiId = d.source.images[0].amiId), "source.images[1].amiId", /listed twice/],
    ["tag key aws:", (d) => (d.tags = { "aws:owner": "x" }), 'tags["aws:owner"]', /reserved for AWS/],
    ["tag key ami-fleet:", (d) => (d.tags = { "ami-fleet:fleet": "x" }), 'tags["ami-fleet:fleet"]', /management tags/],
    ["deprecateAt not RFC 3339", (d) => (d.deprecateAt = "2027-06-01"), "deprecateAt", /not an RFC 3339 UTC time/],
    ["deprecateAt not UTC", (d) => (d.deprecateAt = "2027-06-01T00:00:00+02:00"), "deprecateAt", /not an RFC 3339 UTC time/],
    ["deprecateAt impossible date", (d) => (d.deprecateAt = "2027-02-30T00:00:00Z"), "deprecateAt", /not an RFC 3339 UTC time/],
    ["an image version's deprecateAt not RFC 3339", (d) => (d.source.images[1].deprecateAt = "next year"), "source.images[1].deprecateAt", /"next year" is not an RFC 3339 UTC time/],
    ["unknown top-level field", (d) => (d.regoins = ["eu-west-1"]), "regoins", /unknown field "regoins"/],
    ["unknown nested field", (d) => (d.share.acounts = ["444455556666"]), "share.acounts", /unknown field "acounts"/],
    ["unknown field in a Region object", (d) => (d.regions = [{ region: "eu-west-1", kmsKeyID: "x" }]), "regions[0].kmsKeyID", /unknown field "kmsKeyID"/],
    ["duplicate image keys", (d) => (d.source.images[1].key = "2026-10"), "source.images[1].key", /duplicate image key "2026-10"/],
    ["image with two sources", (d) => (d.source.images[0].ssmParameter = "/images/x"), "source.images[0]", /exactly one source, got amiId and ssmParameter/],
    ["image with no source", (d) => (d.source.images[0] = { key: "x" }), "source.images[0]", /needs a source/],
    ["lookup without key", (d) => (d.source.images[0] = { lookup: { owners: ["self"], name: "golden-*" } }), "source.images[0].key", /needs a key/],
    ["bad lookup owner", (d) => (d.source.images[0] = { key: "c", lookup: { owners: ["me"], name: "golden-*" } }), "source.images[0].lookup.owners[0]", /not an AMI owner/],
    ["bad AMI id", (d) => (d.source.images[0].amiId = "ami-12345"), "source.images[0].amiId", /is not an AMI id/],
    ["bad image key", (d) => (d.source.images[0].key = "2026.11"), "source.images[0].key", /not a valid image key/],
    ["missing name", (d) => delete d.name, "name", /is required/],
    ["wrong type", (d) => (d.regions = "eu-west-1"), "regions", /must be a list, got "eu-west-1"/],
    ["empty Regions", (d) => (d.regions = []), "regions", /must not be empty/],
    ["bad fleet name", (d) => (d.name = "Golden_Base"), "name", /lower-case letters, digits and dashes/],
    ["bad copyTimeout", (d) => (d.copyTimeout = "forty minutes"), "copyTimeout", /duration/],
    ["unencrypted sharing acknowledged by an encrypted fleet", (d) => (d.encryption = { encrypted: true, acknowledgeUnencryptedSharing: true }), "encryption.acknowledgeUnencryptedSharing", /every copy is encrypted/],
    ["pointer to an undeclared image", (d) => (d.pointers = [{ key: "latest", parameter: "/golden/latest", image: "2025-01" }]), "pointers[0].image", /"2025-01" is not an image key of this fleet/],
    ["pointer with a bad key", (d) => (d.pointers = [{ key: "la test", parameter: "/golden/latest", image: "2026-11" }]), "pointers[0].key", /not a valid pointer key/],
    ["two pointers with one key", (d) => (d.pointers = [{ key: "latest", parameter: "/a", image: "2026-11" }, { key: "latest", parameter: "/b", image: "2026-10" }]), "pointers[1].key", /duplicate pointer key "latest"/],
    ["two pointers with one parameter", (d) => (d.pointers = [{ key: "a", parameter: "/golden/{fleet}", image: "2026-11" }, { key: "b", parameter: "/golden/golden-base", image: "2026-10" }]), "pointers[1].parameter", /"\/golden\/golden-base" is also pointers\[0\]/],
    ["pointer parameter with an unknown placeholder", (d) => (d.pointers = [{ key: "a", parameter: "/golden/{region}", image: "2026-11" }]), "pointers[0].parameter", /unknown placeholder "\{region\}"/],
    ["pointer parameter SSM refuses", (d) => (d.pointers = [{ key: "a", parameter: "/golden latest", image: "2026-11" }]), "pointers[0].parameter", /is not an SSM parameter name/],
    ["pointer parameter under aws", (d) => (d.pointers = [{ key: "a", parameter: "/aws/golden", image: "2026-11" }]), "pointers[0].parameter", /starts with aws or ssm/],
    ["pointer parameter too deep", (d) => (d.pointers = [{ key: "a", parameter: "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", image: "2026-11" }]), "pointers[0].parameter", /16 levels; SSM allows 15/],
    ["recipient account not 12 digits", (d) => (d.recipients = [{ account: "22223333444" }]), "recipients[0].account", /"22223333444" is not an account id/],
    ["recipient listed twice", (d) => (d.recipients = [{ account: RECIPIENT }, { account: RECIPIENT }]), "recipients[1].account", /listed twice \(also recipients\[0\]\)/],
    ["recipient is the owner (its keys' account)", (d) => { d.encryption = { kmsKeyIds: { "eu-west-1": keyArn("eu-west-1"), "ap-southeast-2": keyArn("ap-southeast-2") } }; d.recipients = [{ account: "111122223333" }]; }, "recipients[0].account", /is the owner account \(the account of encryption.kmsKeyIds.eu-west-1\)/],
    ["recipient also a share account", (d) => (d.recipients = [{ account: "444455556666" }]), "recipients[0].account", /also in share.accounts\[0\].*Remove it from share.accounts\[0\]/],
    ["recipient also a Region's share account", (d) => { d.regions = ["eu-west-1", { region: "ap-southeast-2", share: { accounts: [RECIPIENT] } }]; d.recipients = [{ account: RECIPIENT }]; }, "recipients[0].account", /also in regions\[1\].share.accounts\[0\]/],
    ["recipient Region not a target Region", (d) => (d.recipients = [{ account: RECIPIENT, regions: ["eu-west-2"] }]), "recipients[0].regions[0]", /eu-west-2 is not a target Region of this fleet/],
    ["recipient Region twice", (d) => (d.recipients = [{ account: RECIPIENT, regions: ["eu-west-1", "eu-west-1"] }]), "recipients[0].regions[1]", /listed twice/],
    ["recipient role ARN of another account", (d) => (d.recipients = [{ account: RECIPIENT, role: "arn:aws:iam::555566667777:role/copier" }]), "recipients[0].role", /the role is in account 555566667777, the recipient is 222233334444/],
    ["recipient role neither a name nor an ARN", (d) => (d.recipients = [{ account: RECIPIENT, role: "role copier" }]), "recipients[0].role", /neither an IAM role name nor a role ARN/],
    ["recipient key in the owner's account", (d) => (d.recipients = [{ account: RECIPIENT, kmsKeyIds: { "eu-west-1": keyArn("eu-west-1") } }]), "recipients[0].kmsKeyIds.eu-west-1", /key is in account 111122223333, the recipient is 222233334444/],
    ["recipient key in another Region", (d) => (d.recipients = [{ account: RECIPIENT, kmsKeyIds: { "eu-west-1": recipientKey("ap-southeast-2") } }]), "recipients[0].kmsKeyIds.eu-west-1", /key is in ap-southeast-2, the recipient's copy is in eu-west-1/],
    ["recipient key for a Region it does not get", (d) => (d.recipients = [{ account: RECIPIENT, regions: ["eu-west-1"], kmsKeyIds: { "ap-southeast-2": recipientKey("ap-southeast-2") } }]), "recipients[0].kmsKeyIds.ap-southeast-2", /not one of this recipient's Regions/],
    ["recipient key not an ARN", (d) => (d.recipients = [{ account: RECIPIENT, kmsKeyIds: { "eu-west-1": "alias/mine" } }]), "recipients[0].kmsKeyIds.eu-west-1", /is not a KMS key ARN/],
    ["recipient of copies encrypted with the default key", (d) => { d.share = {}; d.encryption = { encrypted: true }; d.recipients = [{ account: RECIPIENT, regions: ["eu-west-1"] }]; }, "recipients[0].regions", /encrypted without a customer managed key/],
    ["recipient of an encrypted source's copies without an owner key", (d) => { d.share = {}; d.source.images[0].encrypted = true; d.recipients = [{ account: RECIPIENT }]; }, "recipients[0].regions", /owner's copies in eu-west-1 are encrypted without a customer managed key/],
    ["recipient tag key ami-fleet:", (d) => (d.recipients = [{ account: RECIPIENT, tags: { "ami-fleet:owner-copy": "x" } }]), 'recipients[0].tags["ami-fleet:owner-copy"]', /management tags/],
    ["recipient with too many tags with the fleet's", (d) => (d.recipients = [{ account: RECIPIENT, tags: Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`t${i}`, "x"])) }]), "recipients[0].tags", /45 tags; a copy takes at most 50, and 6 of them are ami-fleet's management tags and the fleet's tags/],
    ["unknown field in a recipient", (d) => (d.recipients = [{ account: RECIPIENT, region: "eu-west-1" }]), "recipients[0].region", /unknown field "region"/],
  ];

  it.each(cases)("%s", (_name, change, path, message) => {
    const problems = problemsOf(withChange(change));
    const match = problems.find((p) => p.path === path && message.test(p.text));
    expect({ found: Boolean(match), problems: problems.map((p) => p.text) }).toMatchObject({ found: true });
    expect(match!.text.startsWith(`fleets/test.yaml: ${path}: `)).toBe(true);
  });

  it("a misspelt field gets the nearest allowed name, and one message: a required field misspelt is not also reported missing", () => {
    const texts = (change: (d: Doc) => void) => problemsOf(withChange(change)).map((p) => p.text);
    expect(texts((d) => (d.share = { acounts: ["444455556666"] }))).toEqual(['fleets/test.yaml: share.acounts: unknown field "acounts". Did you mean "accounts"?']);
    expect(
      texts((d) => {
        d.regons = d.regions;
        delete d.regions;
      }),
    ).toEqual(['fleets/test.yaml: regons: unknown field "regons". Did you mean "regions"?']);
    expect(texts((d) => (d.sharr = d.share))).toEqual(['fleets/test.yaml: sharr: unknown field "sharr". Did you mean "share"?']);
    // Nothing near: the allowed names, and a missing required field is still reported.
    const far = texts((d) => {
      d.placement = d.regions;
      delete d.regions;
    });
    expect(far).toEqual(["fleets/test.yaml: regions: is required. Add regions.", expect.stringMatching(/^fleets\/test\.yaml: placement: unknown field "placement"\. Remove it \(allowed here: \$schema, name, /)]);
  });

  it("reports every problem of a file at once, schema and cross-field alike", () => {
    const problems = problemsOf(
      withChange((d) => {
        d.colour = "red";
        d.regions = ["eu-west-1", "eu-west-1", "us-est-2"];
        d.share.public = true;
        d.deprecateAt = "soon";
      }),
    );
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(["colour", "regions[1]", "regions[2]", "share.public", "deprecateAt"]),
    );
  });

  it("normalizes recipients: every target Region by default, the default role as an ARN, the fleet's tags under its own", () => {
    const fleet = fleetOf(
      withChange((d) => {
        d.regions = ["eu-west-1", { region: "ap-southeast-2", kmsKeyId: keyArn("ap-southeast-2") }];
        d.recipients = [
          { account: RECIPIENT, kmsKeyIds: { "ap-southeast-2": recipientKey("ap-southeast-2") }, tags: { team: "payments" } },
          { account: "333344445555", role: "/copiers/ami", regions: ["ap-southeast-2", "eu-west-1"] },
        ];
      }),
    );
    expect(fleet.recipients).toEqual([
      {
        account: RECIPIENT,
        roleArn: `arn:aws:iam::${RECIPIENT}:role/ami-fleet-recipient`,
        regions: [{ region: "eu-west-1" }, { region: "ap-southeast-2", kmsKeyId: recipientKey("ap-southeast-2") }],
        tags: { team: "payments" },
      },
      // Regions in the fleet's order, whatever the recipient's.
      { account: "333344445555", roleArn: "arn:aws:iam::333344445555:role/copiers/ami", regions: [{ region: "eu-west-1" }, { region: "ap-southeast-2" }], tags: { team: "platform" } },
    ]);
  });

  it("the valid base document has no problems", () => {
    expect(problemsOf(validDocument())).toEqual([]);
  });
});

describe("fleet validation: limits", () => {
  const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, "v"]));
  it.each([
    ["45 tags", { tags: tags(45) }, true],
    ["46 tags (50 minus 4 management tags)", { tags: tags(46) }, true],
    ["47 tags", { tags: tags(47) }, false],
    ["tag key of 128 characters", { tags: { ["k".repeat(128)]: "v" } }, true],
    ["tag key of 129 characters", { tags: { ["k".repeat(129)]: "v" } }, false],
    ["tag value of 256 characters", { tags: { k: "v".repeat(256) } }, true],
    ["tag value of 257 characters", { tags: { k: "v".repeat(257) } }, false],
    ["fleet name of 64 characters", { name: "a".repeat(64) }, true],
    ["fleet name of 65 characters", { name: "a".repeat(65) }, false],
    ["fleet name of 1 character", { name: "a" }, true],
    ["account id of 11 digits", { share: { accounts: ["12345678901"] } }, false],
    ["account id of 12 digits", { share: { accounts: ["123456789012"] } }, true],
    ["account id of 13 digits", { share: { accounts: ["1234567890123"] } }, false],
  ])("%s", (_name, change, valid) => {
    expect(problemsOf({ ...validDocument(), ...change }).length === 0).toBe(valid);
  });

  // Copy name "{prefix}-{sourceAmi}": sourceAmi is 21 characters, AMI names 3-128.
  it.each([
    [106, true], // 106 + 1 + 21 = 128
    [107, false], // 129
  ])("copy name with a %i-character prefix", (prefixLength, valid) => {
    const doc = { ...validDocument(), copyName: `${"n".repeat(prefixLength)}-{sourceAmi}` };
    const problems = problemsOf(doc);
    expect(problems.length === 0).toBe(valid);
    if (!valid) expect(problems[0].path).toBe("copyName");
  });

  it("counts a source AMI unknown until plan at its longest for name length", () => {
    const doc = validDocument();
    doc.source.images = [{ key: "current", ssmParameter: "/images/golden/latest" }];
    doc.copyName = `${"n".repeat(107)}-{sourceAmi}`;
    expect(problemsOf(doc).map((p) => p.path)).toEqual(["copyName"]);
  });
});

describe("normalized fleet", () => {
  it("merges fleet and Region shares and applies keys per Region", () => {
    const fleet = fleetOf(
      withChange((d) => {
        d.regions = [
          { region: "eu-west-1", kmsKeyId: keyArn("eu-west-1"), share: { accounts: ["999988887777"] } },
          "us-west-2",
        ];
      }),
    );
    expect(fleet.regions).toEqual([
      {
        region: "eu-west-1",
        encrypted: true,
        kmsKeyId: keyArn("eu-west-1"),
        share: { accounts: ["444455556666", "777788889999", "999988887777"], organizationArns: [], organizationalUnitArns: [], public: false },
      },
      {
        region: "us-west-2",
        encrypted: undefined,
        kmsKeyId: undefined,
        share: { accounts: ["444455556666", "777788889999"], organizationArns: [], organizationalUnitArns: [], public: false },
      },
    ]);
  });

  it("defaults an image's key to its AMI id", () => {
    const fleet = fleetOf(withChange((d) => (d.source.images = [{ amiId: "ami-0a1b2c3d4e5f60718" }])));
    expect(fleet.images[0].key).toBe("ami-0a1b2c3d4e5f60718");
  });

  it("allows the source Region when explicit", () => {
    const fleet = fleetOf(withChange((d) => (d.regions = [{ region: "us-east-1", allowSourceRegion: true }])));
    expect(fleet.regions.map((r) => r.region)).toEqual(["us-east-1"]);
  });

  it("allows public sharing when acknowledged", () => {
    const fleet = fleetOf(withChange((d) => (d.share = { public: true, acknowledgePublic: true })));
    expect(fleet.share.public).toBe(true);
  });
});

describe("loading fleet files", () => {
  const fixtures = path.join(__dirname, "fixtures");

  it("every shipped example validates", () => {
    const fleets = loadFleets([path.join(__dirname, "..", "fleets")]);
    expect(fleets.map((f) => f.name).sort()).toEqual(["build-agents", "golden-base", "payments-runtime"]);
  });

  it("the shipped examples show every feature a team looks for (README: the shipped examples)", () => {
    const fleets = loadFleets([path.join(__dirname, "..", "fleets")]);
    const shown = (has: (f: (typeof fleets)[number]) => boolean) => fleets.filter(has).map((f) => f.name);
    expect({
      accounts: shown((f) => f.share.accounts.length > 0),
      organizations: shown((f) => f.share.organizationArns.length > 0),
      organizationalUnits: shown((f) => f.share.organizationalUnitArns.length > 0),
      keyPerRegion: shown((f) => f.regions.length > 1 && f.regions.every((r) => r.kmsKeyId !== undefined)),
      versions: shown((f) => f.images.length > 1),
      pointers: shown((f) => f.pointers.length > 0),
      recipients: shown((f) => f.recipients.some((r) => r.regions.length > 0)),
      organization: shown((f) => f.organization !== undefined),
    }).toEqual({
      accounts: ["build-agents"],
      organizations: ["golden-base"],
      organizationalUnits: ["payments-runtime"],
      keyPerRegion: ["golden-base", "payments-runtime"],
      versions: ["golden-base"],
      pointers: ["payments-runtime"],
      recipients: ["payments-runtime"],
      organization: ["payments-runtime"],
    });
  });

  it("refuses fleet names used by two files, naming both", () => {
    expect(() => loadFleets([path.join(fixtures, "clash")])).toThrow(FleetSpecError);
    try {
      loadFleets([path.join(fixtures, "clash")]);
    } catch (error) {
      const text = (error as FleetSpecError).problems.map(formatProblem).join("\n");
      expect(text).toMatch(/b\.yaml: name: fleet name "twins" is also used by .*a\.yaml/);
    }
  });

  it("reports YAML syntax errors with line and column, and an empty directory", () => {
    try {
      loadFleets([path.join(fixtures, "syntax"), path.join(fixtures, "empty")]);
      throw new Error("expected a FleetSpecError");
    } catch (error) {
      const texts = (error as FleetSpecError).problems.map(formatProblem);
      expect(texts.some((t) => /broken\.yaml: line 4, column \d+: /.test(t))).toBe(true);
      expect(texts.some((t) => /empty: holds no fleet files/.test(t))).toBe(true);
    }
  });

  it("reports a missing path", () => {
    expect(() => loadFleets(["no/such/dir"])).toThrow(/no\/such\/dir: no such file or directory/);
  });
});

describe("pointers", () => {
  it("renders each parameter name and keeps the image it points at", () => {
    const fleet = fleetOf({ ...validDocument(), pointers: [{ key: "latest", parameter: "/golden/{fleet}/{image}", image: "2026-11" }] });
    expect(fleet.pointers).toEqual([{ key: "latest", parameter: "/golden/golden-base/2026-11", image: "2026-11" }]);
    expect(fleetOf(validDocument()).pointers).toEqual([]);
  });

  it("refuses a parameter another fleet points from in a shared Region", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-pointers-"));
    try {
      const pointers = [{ key: "latest", parameter: "/golden/latest", image: "2026-11" }];
      fs.writeFileSync(path.join(dir, "a.yaml"), stringify({ ...validDocument(), name: "a", pointers }));
      fs.writeFileSync(path.join(dir, "b.yaml"), stringify({ ...validDocument(), name: "b", pointers }));
      expect(() => loadFleets([dir])).toThrow(/b\.yaml: pointers\[0\]\.parameter: parameter "\/golden\/latest" in eu-west-1 is also a pointer of .*a\.yaml/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
