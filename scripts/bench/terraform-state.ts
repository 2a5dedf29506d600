// A Terraform state for a fleet deployed with the SDK, written directly instead of applied: at
// 20 x 30 x 200 an apply through the emulator would take hours, and the benchmark is about what a
// plan costs once the fleet exists. The attributes come from a real `tofu apply` of a one-copy
// fleet of the same shape (harvestTemplate), so the file is what OpenTofu and this provider
// version write; the benchmark then checks that a real `tofu plan` finds no change.
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { Ec2 } from "../../__tests__/helpers/live";
import { startMoto } from "../../__tests__/helpers/moto";
import { synth, Toolchain, tofuOk } from "../../__tests__/helpers/tofu";
import { desiredCopies } from "../../lib/fleet/desired";
import { FleetStackPart } from "../../lib/project/layout";
import { copiesOutputName, copyResourceName, copyStateDataName, formatAddress, permissionResourceName, sourceDataName } from "../../lib/fleet/addresses";

/** One resource instance of each managed type, as OpenTofu wrote it. */
export interface StateTemplate {
  readonly terraformVersion: string;
  readonly provider: string;
  readonly copy: any;
  readonly permission: any;
}

/** The fleet document the benchmark uses: `accounts` accounts share every copy. */
export function scaleFleetDoc(name: string, sources: Record<string, string>, regions: readonly string[], accounts: number): object {
  return {
    name,
    source: { region: "us-east-1", images: Object.entries(sources).map(([key, amiId]) => ({ key, amiId })) },
    regions: regions.map((region) => (region === "us-east-1" ? { region, allowSourceRegion: true } : region)),
    share: { accounts: Array.from({ length: accounts }, (_, i) => String(200000000000 + i)) },
  };
}

/** Applies a one-image, one-Region, one-account fleet for real and keeps one instance of each type. */
export async function harvestTemplate(toolchain: Toolchain, dir: string): Promise<StateTemplate> {
  const moto = await startMoto();
  try {
    const ec2 = new Ec2(moto.env);
    const source = await ec2.registerSource("us-east-1", "template-source");
    const file = path.join(dir, "template.yaml");
    fs.writeFileSync(file, stringify(scaleFleetDoc("template", { v1: source }, ["us-east-2"], 1)));
    synth([file], path.join(dir, "template.out"));
    const stack = path.join(dir, "template.out", "stacks", "template");
    tofuOk(toolchain, stack, ["init", "-no-color", "-input=false"], moto.env);
    tofuOk(toolchain, stack, ["apply", "-auto-approve", "-no-color", "-input=false"], moto.env);
    const state = JSON.parse(fs.readFileSync(path.join(dir, "terraform.template.tfstate"), "utf8"));
    const managed = (type: string) => state.resources.find((r: any) => r.mode === "managed" && r.type === type);
    return {
      terraformVersion: state.terraform_version,
      provider: managed("aws_ami_copy").provider,
      copy: managed("aws_ami_copy").instances[0],
      permission: managed("aws_ami_launch_permission").instances[0],
    };
  } finally {
    await moto.stop();
  }
}

/** What the emulator holds for one copy. */
export interface LiveCopy {
  readonly id: string;
  readonly snapshotId: string;
}

/**
 * The state `apply` would have left for one stack of a fleet (accounts only, unencrypted, no
 * pointers: the benchmark's shape), with the copies' live ids by `${image}/${region}`: the copies
 * and their outputs where the stack holds them, the launch permissions where it holds those.
 */
export function fleetState(stack: FleetStackPart, sources: Record<string, string>, live: ReadonlyMap<string, LiveCopy>, template: StateTemplate): object {
  const { fleet, holds } = stack;
  const resources: object[] = [];
  const outputs: Record<string, { value: Record<string, string>; type: [string, Record<string, string>] }> = {};
  for (const desired of desiredCopies(fleet)) {
    const { image, target } = desired;
    const source = sources[image.key];
    const copy = live.get(`${image.key}/${target.region}`);
    if (!copy) throw new Error(`no live copy of ${image.key} in ${target.region}`);
    const copyAddress = formatAddress(desired.address);
    const tags = { ...desired.tags(source) };
    const sourceDeps = [`data.aws_ami.${sourceDataName(image.key)}`, "data.aws_caller_identity.current"];
    if (holds.copies) resources.push({
      mode: "managed",
      type: "aws_ami_copy",
      name: copyResourceName(image.key, target.region),
      provider: template.provider,
      instances: [{
        ...template.copy,
        attributes: {
          ...template.copy.attributes,
          id: copy.id,
          arn: `arn:aws:ec2:${target.region}::image/${copy.id}`,
          name: desired.name(source),
          description: desired.description(source),
          region: target.region,
          source_ami_id: source,
          source_ami_region: fleet.sourceRegion,
          tags,
          tags_all: tags,
          root_snapshot_id: copy.snapshotId,
          ebs_block_device: template.copy.attributes.ebs_block_device.map((device: object) => ({ ...device, snapshot_id: copy.snapshotId })),
        },
        dependencies: sourceDeps,
      }],
    });
    const accounts = desired.principals.filter((p) => p.kind === "account");
    if (desired.principals.length !== accounts.length) throw new Error("the benchmark's state writer knows account principals only");
    if (holds.permissions && accounts.length > 0) {
      resources.push({
        mode: "managed",
        type: "aws_ami_launch_permission",
        name: permissionResourceName(image.key, target.region, "accounts"),
        provider: template.provider,
        instances: accounts.map(({ value }) => ({
          ...template.permission,
          index_key: value,
          attributes: { ...template.permission.attributes, account_id: value, id: `${copy.id}-${value}`, image_id: copy.id, region: target.region },
          dependencies: holds.copies ? [copyAddress, ...sourceDeps] : [`data.terraform_remote_state.${copyStateDataName(target.region)}`],
        })),
      });
    }
    if (!holds.copies) continue;
    const output = (outputs[copiesOutputName(image.key)] ??= { value: {}, type: ["object", {}] });
    output.value[target.region] = copy.id;
    output.type[1][target.region] = "string";
  }
  return { version: 4, terraform_version: template.terraformVersion, serial: 1, lineage: "ami-fleet-bench-scale", outputs, resources, check_results: null };
}
