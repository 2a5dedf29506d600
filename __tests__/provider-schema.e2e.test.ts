import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { everyFeatureFleets, LAYOUTS, synthesizedProviderTypes } from "./helpers/provider-types";
import { loadToolchain, tofuOk } from "./helpers/tofu";

/**
 * The AWS provider that scripts/e2e-setup.sh built holds only some of the provider's service
 * packages. Every resource and data source type that the stacks synthesize, in every layout and
 * feature, is in its schema: the trim can never leave the end-to-end tests without a type.
 */
let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-provider-schema-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it("the built provider serves every type the stacks synthesize, in every layout", () => {
  const toolchain = loadToolchain();
  const probe = path.join(dir, "probe");
  fs.mkdirSync(probe);
  fs.writeFileSync(
    path.join(probe, "main.tf.json"),
    JSON.stringify({ terraform: { required_providers: { aws: { source: "hashicorp/aws", version: `= ${toolchain.providerVersion}` } } } }),
  );
  tofuOk(toolchain, probe, ["init", "-backend=false", "-no-color"], {});
  const schema = JSON.parse(tofuOk(toolchain, probe, ["providers", "schema", "-json"], {}).stdout).provider_schemas["registry.opentofu.org/hashicorp/aws"];
  const served = new Set([...Object.keys(schema.resource_schemas), ...Object.keys(schema.data_source_schemas)]);
  // The trim keeps what is asked for and drops the rest (a service the stacks never use).
  expect(served.has("aws_instance")).toBe(true);
  expect(served.has("aws_s3_bucket")).toBe(false);
  const fleets = everyFeatureFleets(dir);
  for (const layout of LAYOUTS) {
    const missing = synthesizedProviderTypes(dir, fleets, layout).filter((type) => !served.has(type));
    expect(
      `layout ${layout}: ${missing.map((t) => `the provider lacks ${t}: add it to scripts/aws-provider-types.txt and run npm run e2e:setup`).join("; ") || "every type served"}`,
    ).toBe(`layout ${layout}: every type served`);
  }
}, 300_000);
