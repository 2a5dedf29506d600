import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { everyFeatureFleets, LAYOUTS, listedProviderTypes, synthesizedProviderTypes } from "./helpers/provider-types";

/**
 * scripts/e2e-setup.sh builds the AWS provider with only the service packages that serve the types
 * in scripts/aws-provider-types.txt. That list is what the stacks synthesize, in every layout and
 * feature, no more and no less: a type missing there would be missing from the provider the
 * end-to-end tests run, and a type listed but never used compiles a service for nothing.
 */
jest.setTimeout(180_000);

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-provider-types-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it("the provider's type list is exactly what the stacks synthesize, in every layout", () => {
  const fleets = everyFeatureFleets(dir);
  const listed = listedProviderTypes();
  const used = new Set<string>();
  for (const layout of LAYOUTS) {
    const synthesized = synthesizedProviderTypes(dir, fleets, layout);
    const unlisted = synthesized.filter((type) => !listed.includes(type));
    expect(`layout ${layout}: ${unlisted.map((t) => `${t} is not in scripts/aws-provider-types.txt: add it there`).join("; ") || "every type listed"}`).toBe(
      `layout ${layout}: every type listed`,
    );
    for (const type of synthesized) used.add(type);
  }
  // Every feature is there: copies, sharing, snapshot permissions, grants, pointers, recipients, sources.
  expect([...used].sort()).toEqual(
    expect.arrayContaining(["aws_ami", "aws_ami_copy", "aws_ami_launch_permission", "aws_caller_identity", "aws_kms_grant", "aws_snapshot_create_volume_permission", "aws_ssm_parameter"]),
  );
  expect(listed.filter((type) => !used.has(type))).toEqual([]);
});
