import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, LocalBackend, S3Backend, TerraformStack } from "cdktf";
import * as path from "path";
import { Construct } from "constructs";
import { AmiFleet } from "../lib/construct/ami-fleet";
import { Fleet } from "../lib/fleet/fleet";
import { BackendConfig } from "../lib/project/config";

/**
 * AWS provider versions the stacks admit. The bindings are generated for 6.25.0; the per-resource
 * `region` argument the stacks rely on exists from 6.0.0. The e2e loop tests 6.48.0 (README).
 */
export const AWS_PROVIDER_CONSTRAINT = ">= 6.25.0, < 7.0.0";

/** Where local state files go: the project (the folder `cdktf synth` runs in), or AMI_FLEET_STATE_DIR. */
function projectDir(): string {
  return path.resolve(process.env.AMI_FLEET_STATE_DIR ?? process.cwd());
}

/** Options of a FleetStack. */
export interface FleetStackOptions {
  /** Where the stack keeps its state (ami-fleet.config.yaml). @default local, in the project */
  readonly backend?: BackendConfig;
  /** The stack's name (lib/project/layout). @default the fleet's name */
  readonly name?: string;
}

/**
 * A Terraform stack of one fleet, or of one fleet's Region (lib/project/layout: the fleet passed
 * in then has that one Region): one AWS provider and the AmiFleet.
 */
export class FleetStack extends TerraformStack {
  /** The fleet's resources. */
  public readonly amiFleet: AmiFleet;

  constructor(scope: Construct, fleet: Fleet, options: FleetStackOptions = {}) {
    const name = options.name ?? fleet.name;
    super(scope, name);
    // One provider for every Region: each resource sets its own `region` (provider v6).
    new AwsProvider(this, "aws", { region: fleet.sourceRegion });
    const backend = options.backend ?? { type: "local" };
    if (backend.type === "s3") {
      new S3Backend(this, {
        bucket: backend.bucket,
        key: `${backend.keyPrefix}${name}.tfstate`,
        region: backend.region,
        encrypt: backend.encrypt,
        ...(backend.kmsKeyId !== undefined ? { kmsKeyId: backend.kmsKeyId } : {}),
      });
      // cdktf 0.21's S3BackendConfig lacks use_lockfile (S3-native locking, OpenTofu >= 1.10, Terraform >= 1.11).
      if (backend.lockfile) this.addOverride("terraform.backend.s3.use_lockfile", true);
    } else {
      // State beside the project, wherever synth writes (cdktf.out or --output): a path relative to
      // the stack's folder, computed from where it is written, so it is the same in every clone
      // (cdktf's default is absolute).
      const stackDir = path.join(App.of(this).outdir, "stacks", name);
      const statePath = path.relative(stackDir, path.join(projectDir(), `terraform.${name}.tfstate`));
      new LocalBackend(this, { path: statePath.split(path.sep).join("/") });
    }
    this.addOverride("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT);
    this.amiFleet = new AmiFleet(this, "fleet", { fleet });
  }
}
