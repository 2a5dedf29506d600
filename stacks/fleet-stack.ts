import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LocalBackend, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { AmiFleet } from "../lib/construct/ami-fleet";
import { Fleet } from "../lib/spec/fleet";

/**
 * AWS provider versions the stacks admit. The bindings are generated for 6.25.0; the per-resource
 * `region` argument the stacks rely on exists from 6.0.0. The e2e loop tests 6.48.0 (README).
 */
export const AWS_PROVIDER_CONSTRAINT = ">= 6.25.0, < 7.0.0";

/** One Terraform stack per fleet, named after it: one AWS provider and the AmiFleet. */
export class FleetStack extends TerraformStack {
  /** The fleet's resources. */
  public readonly amiFleet: AmiFleet;

  constructor(scope: Construct, fleet: Fleet) {
    super(scope, fleet.name);
    // One provider for every Region: each resource sets its own `region` (provider v6).
    new AwsProvider(this, "aws", { region: fleet.sourceRegion });
    // State beside the project (cdktf's default uses an absolute path, which differs per clone).
    // Teams put a remote backend here; see README "State".
    new LocalBackend(this, { path: `../../../terraform.${fleet.name}.tfstate` });
    this.addOverride("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT);
    this.amiFleet = new AmiFleet(this, "fleet", { fleet });
  }
}
