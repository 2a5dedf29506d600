import * as fs from "fs";
import * as path from "path";
import { parseDocument } from "yaml";
import { z } from "zod";
import { formatPath, quoteValue, SpecProblem } from "../fleet/errors";
import { REGION_NAME } from "../fleet/formats";
import { nearestName, valueAt } from "../fleet/schema-problems";

/**
 * The project's settings that are not a fleet: how fleets map to stacks, and where the stacks keep
 * their state. Read from
 * `ami-fleet.config.yaml` in the project (or the file AMI_FLEET_CONFIG names); without it, state is
 * local. A reviewed file, not code: a team switches to shared state without editing a stack.
 */

/** The config file's name in the project. */
export const CONFIG_FILE = "ami-fleet.config.yaml";

const s3BackendSchema = z
  .object({
    type: z.literal("s3"),
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "must be an S3 bucket name (3-63 lower-case letters, digits, dots, dashes)" })
      .describe("The state bucket."),
    region: z.string().meta({ pattern: REGION_NAME.source }).describe("The bucket's Region."),
    keyPrefix: z.string().optional().describe("Prefix of each stack's state key: <keyPrefix><stack>.tfstate. @default ami-fleet/"),
    encrypt: z.boolean().optional().describe("Server-side encryption of the state objects. @default true"),
    kmsKeyId: z.string().optional().describe("KMS key ARN for the state objects (with encrypt)."),
    lockfile: z
      .boolean()
      .optional()
      .describe("S3-native locking (a <key>.tflock object; OpenTofu >= 1.10, Terraform >= 1.11). @default true"),
  })
  .strict();

const localBackendSchema = z.object({ type: z.literal("local") }).strict();

/** How fleets map to stacks (README "Stack layout"). */
export const STACK_LAYOUTS = ["fleet", "fleet-region", "split"] as const;
/** One of STACK_LAYOUTS: `fleet` (a stack per fleet), `fleet-region` (per fleet and Region) or `split` (copies, shares and grants apart). */
export type StackLayout = (typeof STACK_LAYOUTS)[number];

export const projectConfigSchema = z
  .object({
    layout: z
      .enum(STACK_LAYOUTS)
      .optional()
      .describe(
        "How fleets map to stacks: fleet (one stack per fleet, named <fleet>), fleet-region (one stack per fleet and Region, " +
          "named <fleet>-<region>: bounded state, plans in parallel, a change planned only in the Regions it touches) or split " +
          "(the copies and pointers in one stack per fleet and Region, <fleet>-<region>; the launch permissions in one stack per " +
          "image version and share group, <fleet>-shares-<image>-g<n>; the KMS grants in one per share group, <fleet>-grants-g<n>: " +
          "adding or removing a principal replans only its group's stacks). @default fleet",
      ),
    shareGroups: z
      .number()
      .int({ message: "must be a whole number" })
      .min(1, { message: "must be at least 1" })
      .max(256, { message: "must be at most 256" })
      .optional()
      .describe(
        "With layout: split, how many groups the principals are hashed into (a principal's group never depends on the others, " +
          "so adding one moves none). More groups: smaller stacks to replan per added principal, more stacks. @default 8",
      ),
    backend: z
      .discriminatedUnion("type", [localBackendSchema, s3BackendSchema])
      .optional()
      .describe("Where each stack keeps its state. @default local: terraform.<stack>.tfstate in the project"),
  })
  .strict();

/** Where a stack keeps its state. */
export type BackendConfig =
  | { readonly type: "local" }
  | {
      readonly type: "s3";
      readonly bucket: string;
      readonly region: string;
      readonly keyPrefix: string;
      readonly encrypt: boolean;
      readonly kmsKeyId?: string;
      readonly lockfile: boolean;
    };

/** `ami-fleet.config.yaml` after validation, defaults filled in: the stack layout and the Terraform backend of every stack. */
export interface ProjectConfig {
  readonly layout: StackLayout;
  /** Share groups of the split layout. */
  readonly shareGroups: number;
  readonly backend: BackendConfig;
}

export const DEFAULT_SHARE_GROUPS = 8;

export const DEFAULT_CONFIG: ProjectConfig = { layout: "fleet", shareGroups: DEFAULT_SHARE_GROUPS, backend: { type: "local" } };

/** Reads the project config: `file` when given, else AMI_FLEET_CONFIG, else CONFIG_FILE in `dir` when present. */
export function loadProjectConfig(dir: string, file = process.env.AMI_FLEET_CONFIG): { config: ProjectConfig } | { problems: SpecProblem[] } {
  const explicit = file !== undefined && file !== "";
  const configFile = explicit ? file! : path.join(dir, CONFIG_FILE);
  if (!explicit && !fs.existsSync(configFile)) return { config: DEFAULT_CONFIG };
  // Messages name it as the fleet files are named: relative to the folder the command runs in, when it is below it.
  const relative = path.relative(process.cwd(), path.resolve(configFile));
  const shown = relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : configFile;
  const problem = (fieldPath: string, message: string, fix: string) => ({ problems: [{ file: shown, path: fieldPath, message, fix }] });
  let text: string;
  try {
    text = fs.readFileSync(configFile, "utf8");
  } catch (error) {
    return problem("", `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, "Check the path (AMI_FLEET_CONFIG) and its permissions");
  }
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) return problem("", `is not valid YAML: ${document.errors[0].message.split("\n")[0]}`, "Fix the YAML syntax");
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return problem("", `cannot be read: ${(error as Error).message}`, "Write the values out");
  }
  const parsed = projectConfigSchema.safeParse(value ?? {});
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.flatMap((issue) =>
        issue.code === "unrecognized_keys"
          ? issue.keys.map((key) => {
              const guess = issue.path.length === 0 ? nearestName(key, ["layout", "shareGroups", "backend"]) : undefined;
              return {
                file: shown,
                path: formatPath([...issue.path, key]),
                message: `unknown field ${quoteValue(key)}`,
                fix: guess ? `Did you mean "${guess}"?` : fixFor(issue.path),
              };
            })
          : [{ file: shown, path: formatPath(issue.path), message: issue.code === "invalid_type" && valueAt(value, issue.path) === undefined ? "is required" : issue.message, fix: fixFor(issue.path) }],
      ),
    };
  }
  const layout = parsed.data.layout ?? DEFAULT_CONFIG.layout;
  const shareGroups = parsed.data.shareGroups ?? DEFAULT_SHARE_GROUPS;
  if (parsed.data.shareGroups !== undefined && layout !== "split") {
    return problem("shareGroups", `is set, but layout is ${layout}: share groups are a part of layout: split`, "Remove shareGroups, or set layout: split");
  }
  const backend = parsed.data.backend;
  if (backend?.type === "s3") {
    if (!REGION_NAME.test(backend.region)) return problem("backend.region", `unknown Region ${quoteValue(backend.region)}`, "Use the bucket's Region, e.g. eu-west-1");
    return {
      config: {
        layout,
        shareGroups,
        backend: {
          type: "s3",
          bucket: backend.bucket,
          region: backend.region,
          keyPrefix: backend.keyPrefix ?? "ami-fleet/",
          encrypt: backend.encrypt ?? true,
          ...(backend.kmsKeyId !== undefined ? { kmsKeyId: backend.kmsKeyId } : {}),
          lockfile: backend.lockfile ?? true,
        },
      },
    };
  }
  return { config: { ...DEFAULT_CONFIG, layout, shareGroups } };
}

function fixFor(fieldPath: readonly PropertyKey[]): string {
  const field = fieldPath.join(".");
  if (field === "backend.type" || field === "backend") return "Use type: local, or type: s3 with bucket and region";
  if (field.startsWith("backend.")) return `See README "State" for the backend fields (type, bucket, region, keyPrefix, encrypt, kmsKeyId, lockfile)`;
  if (field === "layout") {
    return `Use layout: fleet (one stack per fleet), layout: fleet-region (one stack per fleet and Region) or layout: split (copies per fleet and Region, shares per image and share group)`;
  }
  if (field === "shareGroups") return "Use a whole number from 1 to 256 (README \"Stack layout\")";
  return "The config file has three fields: layout, shareGroups and backend";
}
