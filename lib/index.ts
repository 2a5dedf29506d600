/**
 * ami-fleet's public API (semver): the cdktf app and constructs a team's own app uses, and the
 * library functions behind the CLI for teams' scripts. Anything not exported here is internal.
 */
export { addFleetStacks, checkStackNames, loadFleetProject, synthFleetApp } from "../stacks/fleet-app";
export type { FleetProject, FleetProjectOptions } from "../stacks/fleet-app";
export { AWS_PROVIDER_CONSTRAINT, FleetStack } from "../stacks/fleet-stack";
export type { FleetStackOptions } from "../stacks/fleet-stack";
export { loadProjectConfig } from "./project/config";
export type { BackendConfig, ProjectConfig, StackLayout } from "./project/config";
export { AmiFleet, RECIPIENT_KEY_OPERATIONS } from "./construct/ami-fleet";
export type { AmiFleetProps } from "./construct/ami-fleet";
export * from "./fleet/addresses";
export { diffFleets } from "./drift/diff";
export type { DiffOptions } from "./drift/diff";
export * from "./drift/findings";
export { SdkAwsReader } from "./live/aws";
export type { AwsReader } from "./live/aws";
export { readLiveState } from "./live/read";
export type { ReadOptions } from "./live/read";
export * from "./live/state";
export * from "./review/plan-review";
export { describeStack, instanceAddresses } from "./review/synth-summary";
export { FleetSpecError, formatProblem } from "./fleet/errors";
export type { SpecProblem } from "./fleet/errors";
export * from "./fleet/fleet";
export { DEFAULT_FLEET_DIR, loadFleets } from "./fleet/load";
export { fleetJsonSchema, fleetSchema } from "./fleet/schema";
export type { FleetFile } from "./fleet/schema";
export { validateFleet } from "./fleet/validate";
export type { ValidationResult } from "./fleet/validate";
