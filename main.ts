import { synthFleetApp } from "./lib";

/**
 * The cdktf app: every fleet file under fleets/ (or the paths in AMI_FLEET_PATHS) becomes its
 * stacks in the layout ami-fleet.config.yaml names. A team's own app runs the same line, imported
 * from the package: `import { synthFleetApp } from "ami-fleet"`.
 */
synthFleetApp();
