import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { scaleFleetDoc } from "../../scripts/bench/terraform-state";
import { PROJECT_ROOT } from "./cli";
import { synth } from "./tofu";

/** The list scripts/e2e-setup.sh builds the AWS provider for: its service packages serve these types. */
export const PROVIDER_TYPES_FILE = path.join(PROJECT_ROOT, "scripts", "aws-provider-types.txt");

export function listedProviderTypes(): string[] {
  return fs
    .readFileSync(PROVIDER_TYPES_FILE, "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean)
    .sort();
}

export const LAYOUTS = ["fleet", "fleet-region", "split"] as const;

/**
 * Fleets that between them use every feature: the shipped examples, the README's example (recipients,
 * pointers, lookup and SSM sources, an Organization), the same with KMS grants instead of a key
 * policy, and the benchmark's fleet.
 */
export function everyFeatureFleets(dir: string): string {
  const fleets = path.join(dir, "fleets");
  fs.mkdirSync(fleets, { recursive: true });
  for (const file of fs.readdirSync(path.join(PROJECT_ROOT, "fleets"))) fs.copyFileSync(path.join(PROJECT_ROOT, "fleets", file), path.join(fleets, file));
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
  const example = parse(/## The fleet file[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1]);
  fs.writeFileSync(path.join(fleets, "readme.yaml"), stringify({ ...example, name: "readme" }));
  // A grant names accounts only: this one shares with accounts alone.
  const granted = { ...example, name: "readme-grants", share: { accounts: example.share.accounts }, encryption: { ...example.encryption, keyPolicyGrantsRecipients: false } };
  for (const pointer of granted.pointers) pointer.parameter = `/granted${pointer.parameter}`;
  fs.writeFileSync(path.join(fleets, "readme-grants.yaml"), stringify(granted));
  fs.writeFileSync(path.join(fleets, "bench.yaml"), stringify(scaleFleetDoc("bench", { v1: "ami-0123456789abcdef0" }, ["us-east-1", "eu-west-1"], 3)));
  return fleets;
}

/** Every resource and data source type of the provider in the stacks of `fleets`, synthesized in `layout` with the S3 backend. */
export function synthesizedProviderTypes(dir: string, fleets: string, layout: (typeof LAYOUTS)[number]): string[] {
  const config = path.join(dir, `config-${layout}.yaml`);
  fs.writeFileSync(config, stringify({ layout, backend: { type: "s3", bucket: "team-tf-state", region: "eu-west-1" } }));
  const out = path.join(dir, `${layout}.out`);
  synth([fleets], out, { AMI_FLEET_CONFIG: config });
  const types = new Set<string>();
  for (const stack of fs.readdirSync(path.join(out, "stacks"))) {
    const tf = JSON.parse(fs.readFileSync(path.join(out, "stacks", stack, "cdk.tf.json"), "utf8"));
    for (const block of [tf.resource ?? {}, tf.data ?? {}]) for (const type of Object.keys(block)) if (type.startsWith("aws_")) types.add(type);
  }
  return [...types].sort();
}
