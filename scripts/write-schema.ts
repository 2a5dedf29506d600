// Writes schema/fleet.schema.json from the zod schema (lib/fleet/schema.ts). A test fails when the
// committed file is out of date: run `npm run schema` after changing the schema.
import * as fs from "fs";
import * as path from "path";
import { fleetJsonSchema } from "../lib/fleet/schema";

const target = path.join(__dirname, "..", "schema", "fleet.schema.json");
fs.writeFileSync(target, `${JSON.stringify(fleetJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
