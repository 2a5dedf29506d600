import { Testing } from "cdktf";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { COVERAGE, managedTypes, ManagedType, unreadArguments } from "../lib/drift/coverage";
import { loadFleets } from "../lib/fleet/load";
import { addFleetStacks } from "../stacks/fleet-app";
import { everyFeatureFleets, LAYOUTS } from "./helpers/provider-types";

/**
 * Reconcile's coverage by construction (lib/drift/coverage.ts): every argument the stacks set, of
 * every fleet shape in every layout, is named in the table (read and judged, a meta-argument, or
 * unread with why), and the desired-state model knows every resource type a fleet's stacks hold. A
 * new resource or argument in the construct fails here until the table says how reconcile reads it.
 */
jest.setTimeout(120_000);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-coverage-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `type argument` of every resource the stacks of the every-feature fleets set, by fleet, in a layout. */
function synthesizedArguments(layout: (typeof LAYOUTS)[number]): Map<string, Set<string>> {
  const fleets = loadFleets([everyFeatureFleets(path.join(dir, layout))]);
  const byFleet = new Map<string, Set<string>>();
  for (const fleet of fleets) {
    const seen = new Set<string>();
    for (const stack of addFleetStacks(Testing.app(), [fleet], { layout, shareGroups: 3, backend: { type: "local" } })) {
      const tf = JSON.parse(Testing.synth(stack));
      for (const [type, byName] of Object.entries<Record<string, object>>(tf.resource ?? {})) {
        for (const body of Object.values(byName)) for (const argument of Object.keys(body)) seen.add(`${type} ${argument}`);
      }
    }
    byFleet.set(fleet.name, seen);
  }
  return byFleet;
}

describe("reconcile's coverage of what the stacks manage", () => {
  it.each(LAYOUTS)("layout %s: every argument the stacks set is in the table, and every fleet's resource types are the model's", (layout) => {
    const byFleet = synthesizedArguments(layout);
    const fleets = loadFleets([path.join(dir, layout, "fleets")]);
    expect([...byFleet.keys()].sort()).toEqual(fleets.map((f) => f.name).sort());
    const uncovered: string[] = [];
    for (const fleet of fleets) {
      const seen = byFleet.get(fleet.name)!;
      for (const entry of seen) {
        const [type, argument] = entry.split(" ");
        if (!(type in COVERAGE) || !(argument in COVERAGE[type as ManagedType])) uncovered.push(`${fleet.name}: ${entry}`);
      }
      expect({ fleet: fleet.name, types: [...new Set([...seen].map((e) => e.split(" ")[0]))].sort() }).toEqual({ fleet: fleet.name, types: managedTypes(fleet) });
    }
    expect(uncovered).toEqual([]);
  });

  it("reconcile reads every argument of every fleet shape: no fleet reports an unread one (so its refresh can be skipped when in sync)", () => {
    const fleets = loadFleets([path.join(dir, "fleet", "fleets")]);
    expect(fleets.map((f) => ({ fleet: f.name, unread: unreadArguments(f) }))).toEqual(fleets.map((f) => ({ fleet: f.name, unread: [] })));
    // Were an argument unread, the fleets whose stacks set it would report it.
    const some = fleets.find((f) => f.pointers.length > 0)!;
    expect(managedTypes(some)).toContain("aws_ssm_parameter");
  });
});
