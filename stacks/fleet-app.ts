import { App, AppConfig } from "cdktf";
import * as path from "path";
import { FleetSpecError } from "../lib/fleet/errors";
import { Fleet } from "../lib/fleet/fleet";
import { DEFAULT_FLEET_DIR, loadFleets } from "../lib/fleet/load";
import { loadProjectConfig, ProjectConfig } from "../lib/project/config";
import { fleetStacks } from "../lib/project/layout";
import { FleetStack } from "./fleet-stack";

/** Where a project's fleets and settings are. */
export interface FleetProjectOptions {
  /** Fleet files and folders. @default the paths in AMI_FLEET_PATHS (separated by the platform's path delimiter), or `fleets/` */
  readonly paths?: readonly string[];
  /** The folder of `ami-fleet.config.yaml` (unless AMI_FLEET_CONFIG names the file). @default the current folder */
  readonly projectDir?: string;
}

/** A project's validated fleets and settings, ready for `addFleetStacks`. */
export interface FleetProject {
  readonly fleets: readonly Fleet[];
  readonly config: ProjectConfig;
}

/**
 * Loads and validates a project's fleets and `ami-fleet.config.yaml`, and checks that no two
 * stacks would share a name in its layout. Throws a FleetSpecError listing every problem (file,
 * field, fix) before anything is created: call it before `new App()`, which creates the output folder.
 */
export function loadFleetProject(options: FleetProjectOptions = {}): FleetProject {
  const paths = options.paths ?? process.env.AMI_FLEET_PATHS?.split(path.delimiter).filter(Boolean) ?? [DEFAULT_FLEET_DIR];
  const fleets = loadFleets(paths);
  const loaded = loadProjectConfig(options.projectDir ?? process.cwd());
  if ("problems" in loaded) throw new FleetSpecError(loaded.problems);
  checkStackNames(fleets, loaded.config);
  return { fleets, config: loaded.config };
}

/**
 * A whole cdktf app of fleets, what a project's `main.ts` runs: loads the project
 * (`loadFleetProject`), adds its stacks to a new App and synthesizes it. A fleet or setting that
 * is not valid writes the same messages as `ami-fleet validate` to standard error, nothing is
 * synthesized, and the process exits 1: a user runs this through `cdktf synth`, so never a stack trace.
 */
export function synthFleetApp(options: FleetProjectOptions & { readonly app?: AppConfig } = {}): void {
  try {
    const project = loadFleetProject(options);
    const app = new App(options.app);
    addFleetStacks(app, project.fleets, project.config);
    app.synth();
  } catch (error) {
    if (error instanceof FleetSpecError) process.stderr.write(`${error.report()}ami-fleet: nothing was synthesized.\n`);
    else process.stderr.write(`ami-fleet: nothing was synthesized: ${(error as Error)?.message ?? String(error)}\n`);
    process.exit(1);
  }
}

/**
 * Refuses fleets whose stacks would share a name in the layout (before anything is synthesized:
 * creating the App creates its output folder). Throws a FleetSpecError naming the file and the fix.
 */
export function checkStackNames(fleets: readonly Fleet[], config: ProjectConfig): void {
  const owners = new Map<string, string>();
  for (const fleet of fleets) {
    for (const stack of fleetStacks(fleet, config.layout, config.shareGroups)) {
      const owner = owners.get(stack.name);
      if (owner !== undefined) {
        throw new FleetSpecError([
          {
            file: fleet.file,
            path: "name",
            message: `makes stack ${stack.name}, which ${owner} makes too (layout: ${config.layout})`,
            fix: "Rename one of the fleets so their stack names differ",
          },
        ]);
      }
      owners.set(stack.name, fleet.file);
    }
  }
}

/**
 * Adds every fleet's stacks to `app` in the configured layout (one per fleet; per fleet and Region;
 * or split into copy, share and grant stacks; and one per recipient), each reading the stacks it
 * depends on. Returns the stacks, in the order they deploy.
 */
export function addFleetStacks(app: App, fleets: readonly Fleet[], config: ProjectConfig): FleetStack[] {
  checkStackNames(fleets, config);
  const all: FleetStack[] = [];
  for (const fleet of fleets) {
    const built = new Map<string, FleetStack>();
    for (const stack of fleetStacks(fleet, config.layout, config.shareGroups)) {
      const copyStacks = stack.copyStacks && new Map([...stack.copyStacks].map(([region, name]) => [region, built.get(name)!]));
      const made = new FleetStack(app, stack.fleet, { backend: config.backend, name: stack.name, holds: stack.holds, copyStacks, recipient: stack.recipient });
      built.set(stack.name, made);
      all.push(made);
    }
  }
  return all;
}
