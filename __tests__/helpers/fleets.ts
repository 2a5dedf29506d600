import { Fleet } from "../../lib/fleet/fleet";
import { validateFleet } from "../../lib/fleet/validate";

/** A valid fleet document; tests change one thing at a time. */
export function validDocument(): Record<string, any> {
  return {
    name: "golden-base",
    source: {
      region: "us-east-1",
      images: [
        { key: "2026-10", amiId: "ami-0f1e2d3c4b5a69788" },
        { key: "2026-11", amiId: "ami-0123456789abcdef0" },
      ],
    },
    regions: ["eu-west-1", { region: "ap-southeast-2" }],
    share: { accounts: ["444455556666", "777788889999"] },
    tags: { team: "platform" },
  };
}

/** The validated fleet of a document; fails the test with the problems when it is invalid. */
export function fleetOf(document: unknown, file = "fleets/test.yaml"): Fleet {
  const result = validateFleet(file, document);
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
  return result.fleet;
}

/** "arn:aws:kms:<region>:111122223333:key/<id>" */
export function keyArn(region: string, id = "0b5c2f1e-7a4d-4c11-9a3e-2f6d8e4b1c90"): string {
  return `arn:aws:kms:${region}:111122223333:key/${id}`;
}
