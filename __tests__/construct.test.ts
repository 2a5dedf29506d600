import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import "cdktf/lib/testing/adapters/jest"; // matcher types (setup.js registers them)
import { AmiCopy } from "@cdktf/provider-aws/lib/ami-copy";
import { AmiLaunchPermission } from "@cdktf/provider-aws/lib/ami-launch-permission";
import { KmsGrant } from "@cdktf/provider-aws/lib/kms-grant";
import { Testing } from "cdktf";
import { AmiFleet, RECIPIENT_KEY_OPERATIONS } from "../lib/construct/ami-fleet";
import { formatAddress, parseAddress } from "../lib/fleet/addresses";
import { partitionOf } from "../lib/fleet/regions";
import { Fleet } from "../lib/fleet/fleet";
import { instanceAddresses } from "../lib/review/synth-summary";
import { AWS_PROVIDER_CONSTRAINT, FleetStack } from "../stacks/fleet-stack";
import { fleetOf, keyArn, validDocument } from "./helpers/fleets";

type Doc = Record<string, any>;

/** The synthesized Terraform JSON of one fleet's stack, as `cdktf synth` writes it into ./cdktf.out. */
function synthFleet(fleet: Fleet, outdir = path.join(process.cwd(), "cdktf.out")): any {
  const app = Testing.app({ outdir });
  const stack = new FleetStack(app, fleet);
  return JSON.parse(Testing.synth(stack));
}

function doc(change: (d: Doc) => void = () => undefined): Doc {
  const d = validDocument();
  change(d);
  return d;
}

/** Every resource and data source address, e.g. aws_ami_copy.copy_2026-11_eu-west-1. */
function addresses(tf: any): string[] {
  const out: string[] = [];
  for (const [block, prefix] of [["resource", ""], ["data", "data."]] as const) {
    for (const [type, byName] of Object.entries(tf[block] ?? {})) {
      for (const name of Object.keys(byName as object)) out.push(`${prefix}${type}.${name}`);
    }
  }
  return out.sort();
}

describe("AmiFleet: copies", () => {
  const fleet = fleetOf(doc());
  const tf = synthFleet(fleet);

  it("creates one aws_ami_copy per image and Region, with the per-resource region", () => {
    const copies = tf.resource.aws_ami_copy;
    expect(Object.keys(copies).sort()).toEqual([
      "copy_2026-10_ap-southeast-2",
      "copy_2026-10_eu-west-1",
      "copy_2026-11_ap-southeast-2",
      "copy_2026-11_eu-west-1",
    ]);
    expect(copies["copy_2026-11_eu-west-1"]).toMatchObject({
      region: "eu-west-1",
      name: "golden-base-2026-11-ami-0123456789abcdef0",
      source_ami_id: "ami-0123456789abcdef0",
      source_ami_region: "us-east-1",
      lifecycle: { create_before_destroy: true },
    });
  });

  it("tags every copy with the fleet's tags and the management tags", () => {
    const synthesized = Testing.synthScope((scope) => new AmiFleet(scope, "fleet", { fleet }));
    expect(synthesized).toHaveResourceWithProperties(AmiCopy, {
      region: "ap-southeast-2",
      tags: {
        team: "platform",
        "ami-fleet:fleet": "golden-base",
        "ami-fleet:image": "2026-10",
        "ami-fleet:source-ami": "ami-0f1e2d3c4b5a69788",
        "ami-fleet:source-region": "us-east-1",
      },
    });
  });

  it("leaves encryption to the source when the fleet says nothing", () => {
    const copy = tf.resource.aws_ami_copy["copy_2026-11_eu-west-1"];
    expect(copy.encrypted).toBeUndefined();
    expect(copy.kms_key_id).toBeUndefined();
  });

  it("encrypts with the Region's key, sets deprecation and the copy timeout", () => {
    const encrypted = synthFleet(
      fleetOf(
        doc((d) => {
          d.regions = [{ region: "eu-west-1", kmsKeyId: keyArn("eu-west-1") }];
          d.encryption = { encrypted: true };
          d.deprecateAt = "2027-06-01T00:00:00Z";
          d.copyTimeout = "90m";
        }),
      ),
    );
    expect(encrypted.resource.aws_ami_copy["copy_2026-11_eu-west-1"]).toMatchObject({
      encrypted: true,
      kms_key_id: keyArn("eu-west-1"),
      deprecation_time: "2027-06-01T00:00:00Z",
      timeouts: { create: "90m" },
    });
  });

  it("deprecates an image version at its own time, the others at the fleet's", () => {
    const tf = synthFleet(
      fleetOf(
        doc((d) => {
          d.deprecateAt = "2027-06-01T00:00:00Z";
          d.source.images[0].deprecateAt = "2027-01-01T00:00:00Z";
        }),
      ),
    );
    const copies = tf.resource.aws_ami_copy;
    expect(copies["copy_2026-10_eu-west-1"].deprecation_time).toBe("2027-01-01T00:00:00Z");
    expect(copies["copy_2026-10_ap-southeast-2"].deprecation_time).toBe("2027-01-01T00:00:00Z");
    expect(copies["copy_2026-11_eu-west-1"].deprecation_time).toBe("2027-06-01T00:00:00Z");
    const onlyOld = synthFleet(fleetOf(doc((d) => (d.source.images[0].deprecateAt = "2027-01-01T00:00:00Z"))));
    expect(onlyOld.resource.aws_ami_copy["copy_2026-11_eu-west-1"].deprecation_time).toBeUndefined();
  });

  it("writes each pointer in every target Region, valued with the copy it points at", () => {
    const tf = synthFleet(fleetOf(doc((d) => (d.pointers = [{ key: "latest", parameter: "/golden/{fleet}/latest", image: "2026-11" }]))));
    expect(Object.keys(tf.resource.aws_ssm_parameter).sort()).toEqual(["pointer_latest_ap-southeast-2", "pointer_latest_eu-west-1"]);
    expect(tf.resource.aws_ssm_parameter["pointer_latest_eu-west-1"]).toMatchObject({
      region: "eu-west-1",
      name: "/golden/golden-base/latest",
      type: "String",
      data_type: "aws:ec2:image",
      insecure_value: "${aws_ami_copy.copy_2026-11_eu-west-1.id}",
      tags: { "ami-fleet:fleet": "golden-base", "ami-fleet:pointer": "latest", team: "platform" },
    });
    // Moving the pointer to another version changes its value, not its address: an update a reviewer sees.
    const moved = synthFleet(fleetOf(doc((d) => (d.pointers = [{ key: "latest", parameter: "/golden/{fleet}/latest", image: "2026-10" }]))));
    expect(moved.resource.aws_ssm_parameter["pointer_latest_eu-west-1"].insecure_value).toBe("${aws_ami_copy.copy_2026-10_eu-west-1.id}");
  });

  it("outputs a map Region -> copy id per image version", () => {
    expect(tf.output["copies_2026-11"].value).toEqual({
      "ap-southeast-2": "${aws_ami_copy.copy_2026-11_ap-southeast-2.id}",
      "eu-west-1": "${aws_ami_copy.copy_2026-11_eu-west-1.id}",
    });
  });

  it("pins one AWS provider and admits the provider versions tested", () => {
    expect(tf.provider.aws).toEqual([{ region: "us-east-1" }]);
    expect(tf.terraform.required_providers.aws.version).toBe(AWS_PROVIDER_CONSTRAINT);
  });

  it("keeps local state in the project wherever synth writes the stacks", () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-outdir-"));
    for (const outdir of [path.join(process.cwd(), "cdktf.out"), elsewhere]) {
      const statePath = synthFleet(fleet, outdir).terraform.backend.local.path;
      expect(path.isAbsolute(statePath)).toBe(false);
      expect(path.resolve(outdir, "stacks", fleet.name, statePath)).toBe(path.join(process.cwd(), `terraform.${fleet.name}.tfstate`));
    }
    fs.rmSync(elsewhere, { recursive: true, force: true });
  });

  it("exposes the copies by image key and Region", () => {
    const stack = new FleetStack(Testing.app(), fleet);
    expect([...stack.amiFleet!.copies.keys()]).toEqual(["2026-10", "2026-11"]);
    expect([...stack.amiFleet!.copies.get("2026-11")!.keys()]).toEqual(["eu-west-1", "ap-southeast-2"]);
  });
});

describe("AmiFleet: launch permissions and grants", () => {
  it("shares each copy with each account through for_each over one local list", () => {
    const tf = synthFleet(fleetOf(doc()));
    const permissions = tf.resource.aws_ami_launch_permission;
    expect(Object.keys(permissions).sort()).toEqual([
      "share_2026-10_ap-southeast-2_accounts",
      "share_2026-10_eu-west-1_accounts",
      "share_2026-11_ap-southeast-2_accounts",
      "share_2026-11_eu-west-1_accounts",
    ]);
    expect(permissions["share_2026-11_eu-west-1_accounts"]).toMatchObject({
      for_each: "${toset(local.launch_permissions.fleet.accounts)}",
      account_id: "${each.value}",
      image_id: "${aws_ami_copy.copy_2026-11_eu-west-1.id}",
      region: "eu-west-1",
    });
    expect(tf.locals.launch_permissions.fleet.accounts).toEqual(["444455556666", "777788889999"]);
  });

  it("counts copies x principals permission instances", () => {
    const tf = synthFleet(
      fleetOf(
        doc((d) => {
          d.share.organizationArns = ["arn:aws:organizations::111122223333:organization/o-abc123def4"];
          d.share.organizationalUnitArns = ["arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cd34ef56"];
        }),
      ),
    );
    const instances = instanceAddresses(tf).filter((a) => a.startsWith("aws_ami_launch_permission."));
    expect(instances).toHaveLength(2 * 2 * 4); // 2 images x 2 Regions x (2 accounts + 1 org + 1 OU)
    expect(tf.resource.aws_ami_launch_permission["share_2026-10_eu-west-1_organizations"].organization_arn).toBe("${each.value}");
    expect(tf.resource.aws_ami_launch_permission["share_2026-10_eu-west-1_ous"].organizational_unit_arn).toBe("${each.value}");
    expect(tf.resource.aws_ami_launch_permission["share_2026-10_eu-west-1_organizations"].for_each).toBe(
      "${toset(local.launch_permissions.fleet.organization_arns)}",
    );
    expect(tf.resource.aws_ami_launch_permission["share_2026-10_eu-west-1_ous"].for_each).toBe(
      "${toset(local.launch_permissions.fleet.organizational_unit_arns)}",
    );
  });

  it("adds a Region's own principals for that Region only", () => {
    const tf = synthFleet(
      fleetOf(doc((d) => (d.regions = [{ region: "eu-west-1", share: { accounts: ["999988887777"] } }, "us-west-2"]))),
    );
    expect(tf.locals.launch_permissions["eu-west-1"].accounts).toEqual(["444455556666", "777788889999", "999988887777"]);
    expect(tf.resource.aws_ami_launch_permission["share_2026-11_us-west-2_accounts"].for_each).toBe(
      "${toset(local.launch_permissions.fleet.accounts)}",
    );
  });

  it("grants group all only when public sharing is acknowledged", () => {
    const synthesized = Testing.synthScope(
      (scope) => new AmiFleet(scope, "fleet", { fleet: fleetOf(doc((d) => (d.share = { public: true, acknowledgePublic: true }))) }),
    );
    expect(synthesized).toHaveResourceWithProperties(AmiLaunchPermission, { group: "all", region: "eu-west-1" });
    const privateFleet = Testing.synthScope((scope) => new AmiFleet(scope, "fleet", { fleet: fleetOf(doc()) }));
    expect(privateFleet).not.toHaveResourceWithProperties(AmiLaunchPermission, { group: "all" });
  });

  it("creates a KMS grant per Region key and recipient account for encrypted shared copies", () => {
    const fleet = fleetOf(
      doc((d) => {
        d.regions = [
          { region: "eu-west-1", kmsKeyId: keyArn("eu-west-1") },
          { region: "ap-southeast-2", kmsKeyId: keyArn("ap-southeast-2") },
        ];
      }),
    );
    const tf = synthFleet(fleet);
    expect(Object.keys(tf.resource.aws_kms_grant).sort()).toEqual(["key_grants_ap-southeast-2", "key_grants_eu-west-1"]);
    expect(tf.resource.aws_kms_grant["key_grants_eu-west-1"]).toMatchObject({
      for_each: "${toset(local.launch_permissions.fleet.accounts)}",
      key_id: keyArn("eu-west-1"),
      region: "eu-west-1",
      grantee_principal: "arn:aws:iam::${each.value}:root",
      operations: [...RECIPIENT_KEY_OPERATIONS],
    });
    const synthesized = Testing.synthScope((scope) => new AmiFleet(scope, "fleet", { fleet }));
    expect(synthesized).toHaveResourceWithProperties(KmsGrant, { key_id: keyArn("ap-southeast-2") });
  });

  it("creates no grant when the key policy already admits the recipients", () => {
    const tf = synthFleet(
      fleetOf(
        doc((d) => {
          d.regions = [{ region: "eu-west-1", kmsKeyId: keyArn("eu-west-1") }];
          d.encryption = { keyPolicyGrantsRecipients: true };
        }),
      ),
    );
    expect(tf.resource.aws_kms_grant).toBeUndefined();
  });
});

describe("AmiFleet: plan-time sources and preconditions", () => {
  it("resolves lookup and SSM sources with data sources in the source Region", () => {
    const tf = synthFleet(
      fleetOf(
        doc((d) => {
          d.source.images = [
            { key: "current", lookup: { owners: ["self"], name: "golden-base-*" } },
            { key: "latest", ssmParameter: "/images/golden-base/latest" },
          ];
        }),
      ),
    );
    expect(tf.data.aws_ami["source_current"]).toMatchObject({
      region: "us-east-1",
      owners: ["self"],
      most_recent: true,
      filter: [{ name: "name", values: ["golden-base-*"] }],
    });
    expect(tf.data.aws_ssm_parameter["source_latest_parameter"]).toMatchObject({ name: "/images/golden-base/latest", region: "us-east-1" });
    expect(tf.data.aws_ami["source_latest"].filter).toEqual([
      { name: "image-id", values: ["${data.aws_ssm_parameter.source_latest_parameter.insecure_value}"] },
    ]);
    const copy = tf.resource.aws_ami_copy["copy_current_eu-west-1"];
    expect(copy.source_ami_id).toBe("${data.aws_ami.source_current.id}");
    expect(copy.name).toBe("golden-base-current-${data.aws_ami.source_current.id}");
    expect(copy.tags["ami-fleet:source-ami"]).toBe("${data.aws_ami.source_current.id}");
  });

  it("adds the unencrypted-from-encrypted precondition where the source's encryption is unknown", () => {
    const tf = synthFleet(fleetOf(doc((d) => (d.encryption = { encrypted: false }))));
    const conditions = tf.resource.aws_ami_copy["copy_2026-11_eu-west-1"].lifecycle.precondition;
    const rule = conditions.find((c: any) => c.condition.includes("block_device_mappings"));
    expect(rule.condition).toContain('lookup(mapping.ebs, "encrypted", "false") == "true"');
    expect(rule.error_message).toMatch(/^fleets\/test\.yaml: encryption\.encrypted is false.*cannot be copied unencrypted/);
  });

  it("omits that precondition when the source is declared unencrypted", () => {
    const tf = synthFleet(
      fleetOf(
        doc((d) => {
          d.encryption = { encrypted: false };
          d.source.images.forEach((i: any) => (i.encrypted = false));
        }),
      ),
    );
    const conditions = tf.resource.aws_ami_copy["copy_2026-11_eu-west-1"].lifecycle.precondition;
    expect(conditions.some((c: any) => c.condition.includes("block_device_mappings"))).toBe(false);
  });

  it("checks at plan that Windows and Marketplace sources stay in their owner's account", () => {
    const tf = synthFleet(fleetOf(doc()));
    const conditions = tf.resource.aws_ami_copy["copy_2026-11_eu-west-1"].lifecycle.precondition;
    expect(conditions).toContainEqual(
      expect.objectContaining({
        condition:
          '${data.aws_ami.source_2026-11.owner_id == data.aws_caller_identity.current.account_id || (length(data.aws_ami.source_2026-11.product_codes) == 0 && data.aws_ami.source_2026-11.platform != "windows")}',
      }),
    );
    expect(tf.data.aws_caller_identity.current).toBeDefined();
  });
});

describe("AmiFleet: stable addresses", () => {
  const base = instanceAddresses(synthFleet(fleetOf(doc())));

  it.each([
    ["adding a Region", (d: Doc) => d.regions.push("us-west-2"), "us-west-2"],
    ["adding an account", (d: Doc) => d.share.accounts.push("999988887777"), "999988887777"],
    ["adding an image", (d: Doc) => d.source.images.push({ key: "2026-12", amiId: "ami-0aaaaaaaaaaaaaaaa" }), "2026-12"],
  ])("%s adds only its own resources", (_name, change, marker) => {
    const after = instanceAddresses(synthFleet(fleetOf(doc(change))));
    expect(after.filter((a) => !base.includes(a)).every((a) => a.includes(marker))).toBe(true);
    expect(after.filter((a) => !base.includes(a)).length).toBeGreaterThan(0);
    expect(base.every((a) => after.includes(a))).toBe(true);
  });

  it("removing a Region removes only its resources", () => {
    const after = instanceAddresses(synthFleet(fleetOf(doc((d) => d.regions.pop()))));
    const removed = base.filter((a) => !after.includes(a));
    expect(removed.length).toBe(2 + 2 * 2); // 2 copies + 2 copies x 2 accounts
    expect(removed.every((a) => a.includes("ap-southeast-2"))).toBe(true);
  });

  it("does not depend on the order of lists", () => {
    const reordered = synthFleet(
      fleetOf(
        doc((d) => {
          d.regions.reverse();
          d.share.accounts.reverse();
        }),
      ),
    );
    expect(instanceAddresses(reordered)).toEqual(base);
  });

  it("grows with copies + principals, not copies x principals", () => {
    const accounts = (n: number) => Array.from({ length: n }, (_, i) => String(100000000000 + i));
    const size = (n: number) => JSON.stringify(synthFleet(fleetOf(doc((d) => (d.share.accounts = accounts(n)))))).length;
    const perAccount = (size(201) - size(1)) / 200;
    expect(perAccount).toBeLessThan(20); // one quoted id in the local, whatever the number of copies
  });

  it("keeps the whole stack as a change detector", () => {
    const tf = synthFleet(fleetOf(doc()));
    expect(addresses(tf)).toContain("data.aws_caller_identity.current");
    expect(tf).toMatchSnapshot();
  });
});

describe("addresses as data: formatAddress and parseAddress", () => {
  const isRegion = (name: string) => partitionOf(name) !== undefined;

  it("parse(format(x)) == x and format(parse(a)) == a for every resource instance the construct emits", () => {
    // Image keys with _ and -, every principal kind, per-Region keys with grants, and public sharing.
    const document = doc();
    document.source.images = [{ key: "base_2026-11", amiId: "ami-0123456789abcdef0" }, { key: "v2", amiId: "ami-0f1e2d3c4b5a69788" }];
    document.regions = [{ region: "eu-west-1", kmsKeyId: keyArn("eu-west-1") }, "ap-southeast-2", "us-west-2"];
    document.pointers = [{ key: "latest_v2", parameter: "/golden/{fleet}/latest", image: "v2" }];
    document.share = {
      accounts: ["444455556666"],
      organizationArns: ["arn:aws:organizations::111122223333:organization/o-abc123def4"],
      organizationalUnitArns: ["arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cd34ef56"],
    };
    document.regions[1] = { region: "ap-southeast-2", share: { public: true, acknowledgePublic: true } };
    document.encryption = { keyPolicyGrantsRecipients: false };
    delete document.share.organizationArns;
    delete document.share.organizationalUnitArns;
    const withOrgs = doc();
    withOrgs.share = {
      organizationArns: ["arn:aws:organizations::111122223333:organization/o-abc123def4"],
      organizationalUnitArns: ["arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cd34ef56"],
    };
    const addresses = [...instanceAddresses(synthFleet(fleetOf(document))), ...instanceAddresses(synthFleet(fleetOf(withOrgs)))].filter(
      (a) => !a.startsWith("data.") && !a.startsWith("aws_provider"),
    );
    const kinds = new Set(addresses.map((a) => a.split(".")[0]));
    expect(kinds).toEqual(new Set(["aws_ami_copy", "aws_ami_launch_permission", "aws_kms_grant", "aws_ssm_parameter"]));
    expect(addresses.some((a) => a.endsWith("_public"))).toBe(true);
    expect(addresses.some((a) => a.includes("_ous["))).toBe(true);
    for (const address of addresses) {
      const parsed = parseAddress(address, isRegion);
      expect({ address, parsed: parsed !== undefined }).toEqual({ address, parsed: true });
      expect(formatAddress(parsed!)).toBe(address);
      expect(parseAddress(formatAddress(parsed!), isRegion)).toEqual(parsed);
    }
    expect(parseAddress('aws_ami_copy.copy_base_2026-11_eu-west-1', isRegion)).toEqual({ type: "aws_ami_copy", image: "base_2026-11", region: "eu-west-1" });
  });

  it("is undefined for what the naming rules do not produce", () => {
    for (const address of ["aws_s3_bucket.logs", "aws_ami_copy.copy_v1_mars-1", "aws_ami_copy.copy_v1", 'aws_ami_launch_permission.share_v1_eu-west-1_public["x"]', 'aws_ami_launch_permission.share_v1_eu-west-1_accounts["x"', "noaddress"]) {
      expect(parseAddress(address, isRegion)).toBeUndefined();
    }
  });
});
