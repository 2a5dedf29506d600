import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, LocalBackend, TerraformStack } from "cdktf";
import * as path from "path";
import { Construct } from "constructs";
import { AmiFleet } from "../lib/construct/ami-fleet";
import { Fleet } from "../lib/fleet/fleet";

/**
 * AWS provider versions the stacks admit. The bindings are generated for 6.25.0; the per-resource
 * `region` argument the stacks rely on exists from 6.0.0. The e2e loop tests 6.48.0 (README).
 */
export const AWS_PROVIDER_CONSTRAINT = ">= 6.25.0, < 7.0.0";

/** Where local state files go: the project (the folder `cdktf synth` runs in), or AMI_FLEET_STATE_DIR. */
function projectDir(): string {
  return path.resolve(process.env.AMI_FLEET_STATE_DIR ?? process.cwd());
}

/** One Terraform stack per fleet, named after it: one AWS provider and the AmiFleet. */
export class FleetStack extends TerraformStack {
  /** The fleet's resources. */
  public readonly amiFleet: AmiFleet;

  constructor(scope: Construct, fleet: Fleet) {
    super(scope, fleet.name);
    // One provider for every Region: each resource sets its own `region` (provider v6).
    new AwsProvider(this, "aws", { region: fleet.sourceRegion });
    // State beside the project, wherever synth writes (cdktf.out or --output): a path relative to
    // the stack's folder, computed from where it is written, so it is the same in every clone
    // (cdktf's default is absolute). Teams put a remote backend here; see README "State".
    const stackDir = path.join(App.of(this).outdir, "stacks", fleet.name);
    const statePath = path.relative(stackDir, path.join(projectDir(), `terraform.${fleet.name}.tfstate`));
    new LocalBackend(this, { path: statePath.split(path.sep).join("/") });
    this.addOverride("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT);
    this.amiFleet = new AmiFleet(this, "fleet", { fleet });
  }
}
