import * as fs from "fs";
import * as path from "path";
import { allowedPatterns, allows, IAM_DIR, matches, NEEDS_NO_PERMISSION, policyOf, recordedByRole, Role, ROLES } from "./helpers/iam";

/**
 * The policies in docs/iam, proven by the calls the end-to-end suite made: every emulator of the
 * run recorded who signed each request (emulator/moto_patches.py), and each command ran as its role
 * (helpers/iam.ts). Run after the e2e suite, with the same AMI_FLEET_CALLS_DIR (scripts/test.sh).
 */
const dir = process.env.AMI_FLEET_CALLS_DIR;
const notExercised = JSON.parse(fs.readFileSync(path.join(IAM_DIR, "not-exercised.json"), "utf8")) as Record<Role, Record<string, string>>;

describe("docs/iam: the roles' policies against the calls the end-to-end suite recorded", () => {
  const recorded = dir ? recordedByRole(dir) : new Map<Role, Map<string, number>>();

  it("has the end-to-end suite's record", () => {
    expect(dir ? fs.readdirSync(dir).filter((f) => f.endsWith(".jsonl")).length : 0).toBeGreaterThan(0);
  });

  it.each(ROLES.map((role) => [role]))("%s: every action it called is allowed by its policy", (role) => {
    const actions = recorded.get(role) ?? new Map<string, number>();
    expect(actions.size).toBeGreaterThan(0);
    const policy = policyOf(role);
    const refused = [...actions].filter(([action]) => !allows(policy, action) && !NEEDS_NO_PERMISSION.has(action)).map(([action, count]) => `${action} (${count} calls)`);
    expect(refused).toEqual([]);
  });

  it.each(ROLES.map((role) => [role]))("%s: what its policy allows and nothing called is exactly the list docs/iam/not-exercised.json explains", (role) => {
    const actions = [...(recorded.get(role) ?? new Map<string, number>()).keys()];
    const unused = allowedPatterns(policyOf(role)).filter((pattern) => !actions.some((action) => matches(pattern, action)));
    process.stdout.write(`${role}: allowed, never called in the e2e suite: ${unused.length ? unused.join(", ") : "none"}\n`);
    expect(unused.sort()).toEqual(Object.keys(notExercised[role] ?? {}).sort());
  });
});
