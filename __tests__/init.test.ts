import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT_ROOT, runCli } from "./helpers/cli";

/**
 * `ami-fleet init`: the files of a team's app, with the versions this release is tested with, and
 * nothing written over a file that exists. (The apps the end-to-end suite installs, deploys and
 * drives with cdktf-cli and cdktn-cli are made by it: helpers/team-app.ts.)
 */

const own = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-init-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const listing = (root: string): string[] =>
  fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();

describe("ami-fleet init", () => {
  it("writes a cdktf app with the tested versions, an example fleet that validates, and the CI workflows; then says what to run", async () => {
    const app = path.join(dir, "Team Images");
    const result = await runCli(["init", app, "--cli", "cdktf"], { cwd: dir });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(listing(app)).toEqual([
      ".github/workflows/ami-fleet-drift.yml",
      ".github/workflows/ami-fleet-pr.yml",
      ".gitignore",
      "ami-fleet.config.yaml",
      "cdktf.json",
      "fleets/golden.yaml",
      "main.ts",
      "package.json",
      "tsconfig.json",
    ]);
    const pkg = JSON.parse(fs.readFileSync(path.join(app, "package.json"), "utf8"));
    expect(pkg).toMatchObject({
      name: "team-images",
      private: true,
      dependencies: { "ami-fleet": `^${own.version}`, cdktf: own.devDependencies.cdktf, constructs: own.devDependencies.constructs, "@cdktf/provider-aws": own.devDependencies["@cdktf/provider-aws"] },
      devDependencies: { "cdktf-cli": own.devDependencies["cdktf-cli"], "ts-node": own.devDependencies["ts-node"], typescript: own.devDependencies.typescript },
    });
    expect(JSON.parse(fs.readFileSync(path.join(app, "cdktf.json"), "utf8"))).toMatchObject({ language: "typescript", app: "npx ts-node main.ts" });
    expect(fs.readFileSync(path.join(app, "main.ts"), "utf8")).toBe('import { synthFleetApp } from "ami-fleet";\n\nsynthFleetApp();\n');
    for (const workflow of ["ami-fleet-pr.yml", "ami-fleet-drift.yml"]) {
      expect(fs.readFileSync(path.join(app, ".github", "workflows", workflow), "utf8")).toBe(fs.readFileSync(path.join(PROJECT_ROOT, "docs", "ci", workflow), "utf8"));
    }
    // The example's schema comment points where npm installs the schema, seen from fleets/.
    const example = fs.readFileSync(path.join(app, "fleets", "golden.yaml"), "utf8");
    const schema = /^# yaml-language-server: \$schema=(.+)$/m.exec(example)![1];
    expect(path.resolve(app, "fleets", schema)).toBe(path.join(app, "node_modules", "ami-fleet", "schema", "fleet.schema.json"));
    expect(own.files).toContain("schema/");
    expect(parse(fs.readFileSync(path.join(app, "ami-fleet.config.yaml"), "utf8"))).toEqual({ layout: "fleet" });
    const validate = await runCli(["validate"], { cwd: app });
    expect({ code: validate.code, stderr: validate.stderr }).toEqual({ code: 0, stderr: "" });
    expect(result.stdout).toContain(`ami-fleet init: a cdktf app for your fleets in Team Images (cdktf-cli ${own.devDependencies["cdktf-cli"]}, which runs on Node 22):`);
    expect(result.stdout).toMatch(/Next:\n  cd Team Images\n  npm install\n  npx ami-fleet validate .*\n  npx cdktf synth\n  TERRAFORM_BINARY_NAME=tofu npx cdktf deploy '\*' .*\n  npx ami-fleet reconcile\n$/);
  });

  it("on Node 24 and later sets the app up with CDK Terrain's CLI (cdktf-cli cannot start there); --cli chooses", async () => {
    const node24 = Number(process.versions.node.split(".")[0]) >= 24;
    const byDefault = await runCli(["init", "default"], { cwd: dir });
    expect(byDefault.code).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "default", "package.json"), "utf8"));
    expect(Object.keys(pkg.devDependencies)).toContain(node24 ? "cdktn-cli" : "cdktf-cli");
    const cdktn = await runCli(["init", "terrain", "--cli", "cdktn", "--package", "file:vendor/ami-fleet.tgz", "--no-example"], { cwd: dir });
    expect(cdktn.code).toBe(0);
    const terrain = JSON.parse(fs.readFileSync(path.join(dir, "terrain", "package.json"), "utf8"));
    // cdktn's peer needs constructs 10.6 or 10.7; the library stays cdktf's, which cdktn-cli drives as it is.
    expect(terrain.dependencies).toMatchObject({ "ami-fleet": "file:vendor/ami-fleet.tgz", constructs: "10.7.0", cdktf: own.devDependencies.cdktf });
    expect(terrain.devDependencies).toMatchObject({ "cdktn-cli": "0.24.0" });
    expect(terrain.scripts.synth).toBe("cdktn synth");
    expect(fs.existsSync(path.join(dir, "terrain", "fleets"))).toBe(false);
    expect(cdktn.stdout).toMatch(/\n  npx cdktn synth\n/);
  });

  it("writes nothing when any of its files exists, and names them", async () => {
    fs.writeFileSync(path.join(dir, "package.json"), '{ "name": "ours" }\n');
    fs.mkdirSync(path.join(dir, "fleets"));
    fs.writeFileSync(path.join(dir, "fleets", "golden.yaml"), "name: golden\n");
    const result = await runCli(["init"], { cwd: dir });
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
    expect(result.stderr).toBe(`ami-fleet init: ${fs.realpathSync(dir)} already has package.json, fleets/golden.yaml: nothing was written. Run it in an empty folder, or move those files away.\n`);
    expect(listing(dir)).toEqual(["fleets/golden.yaml", "package.json"]);
    expect(fs.readFileSync(path.join(dir, "package.json"), "utf8")).toBe('{ "name": "ours" }\n');
  });
});
