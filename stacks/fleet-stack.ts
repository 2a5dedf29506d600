import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, DataTerraformRemoteStateLocal, DataTerraformRemoteStateS3, LocalBackend, S3Backend, TerraformStack } from "cdktf";
import * as path from "path";
import { Construct } from "constructs";
import { AmiFleet, CopyIdOf } from "../lib/construct/ami-fleet";
import { RecipientCopies } from "../lib/construct/recipient-copies";
import { copiesOutputName, copyStateDataName } from "../lib/fleet/addresses";
import { Fleet, Recipient } from "../lib/fleet/fleet";
import { BackendConfig } from "../lib/project/config";
import { StackHolds } from "../lib/project/layout";
import { STACK_METADATA_KEY, StackMetadata } from "../lib/review/stack-changes";

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
  /** The kinds of resource it holds (lib/project/layout). @default all */
  readonly holds?: StackHolds;
  /**
   * For a stack that holds launch permissions but not the copies: the copy stack of each Region,
   * whose state's `copies_<image>` output gives the copy ids (a terraform_remote_state per Region).
   */
  readonly copyStacks?: ReadonlyMap<string, FleetStack>;
  /** A recipient stack (lib/project/layout): the recipient's copies, read from `copyStacks`. */
  readonly recipient?: Recipient;
}

/**
 * A Terraform stack of one fleet, or of one fleet's Region (lib/project/layout: the fleet passed
 * in then has that one Region): one AWS provider and the AmiFleet.
 */
export class FleetStack extends TerraformStack {
  /** The fleet's own resources; undefined in a recipient stack. */
  public readonly amiFleet?: AmiFleet;
  /** A recipient stack's resources. */
  public readonly recipientCopies?: RecipientCopies;

  constructor(scope: Construct, fleet: Fleet, options: FleetStackOptions = {}) {
    const name = options.name ?? fleet.name;
    super(scope, name);
    // One provider for every Region: each resource sets its own `region` (provider v6).
    new AwsProvider(this, "aws", { region: fleet.sourceRegion });
    const backend = options.backend ?? { type: "local" };
    this.backend = backend;
    if (backend.type === "s3") {
      new S3Backend(this, {
        bucket: backend.bucket,
        key: stateKey(backend, name),
        region: backend.region,
        encrypt: backend.encrypt,
        ...(backend.kmsKeyId !== undefined ? { kmsKeyId: backend.kmsKeyId } : {}),
      });
      // cdktf 0.21's S3BackendConfig lacks use_lockfile (S3-native locking, OpenTofu >= 1.10, Terraform >= 1.11).
      if (backend.lockfile) this.addOverride("terraform.backend.s3.use_lockfile", true);
    } else {
      new LocalBackend(this, { path: this.localStatePath(name) });
    }
    this.addOverride("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT);
    // Which fleet the stack belongs to, for `ami-fleet changed`: in the `//` comment block, which
    // Terraform ignores and the comparison of configurations leaves out.
    const recipient = options.recipient;
    // A recipient stack reads the owner's copies of its Regions only.
    const read = recipient ? { ...fleet, regions: fleet.regions.filter((target) => recipient.regions.some((r) => r.region === target.region)) } : fleet;
    const copyIdOf = options.copyStacks ? this.remoteCopies(read, options.copyStacks) : undefined;
    const metadata: StackMetadata = {
      fleet: fleet.name,
      ...(options.copyStacks
        ? { reads: read.regions.map((target) => ({ stack: options.copyStacks!.get(target.region)!.node.id, outputs: read.images.map((image) => copiesOutputName(image.key)) })) }
        : {}),
    };
    this.addOverride(`//.${STACK_METADATA_KEY}`, metadata);
    if (recipient) {
      if (!copyIdOf) throw new Error("a recipient stack needs the copy stacks");
      // The recipient's side runs in its account, through its role (Terraform's credentials must be allowed to assume it).
      const recipientProvider = new AwsProvider(this, "recipient", {
        alias: "recipient",
        region: fleet.sourceRegion,
        assumeRole: [{ roleArn: recipient.roleArn, sessionName: `ami-fleet-${fleet.name}`.slice(0, 64) }],
      });
      this.recipientCopies = new RecipientCopies(this, "recipient-copies", { fleet, recipient, copyIdOf, recipientProvider });
    } else {
      this.amiFleet = new AmiFleet(this, "fleet", { fleet, holds: options.holds, copyIdOf });
    }
  }

  private readonly backend: BackendConfig;

  /**
   * State beside the project, wherever synth writes (cdktf.out or --output): a path relative to
   * the stack's folder, computed from where it is written, so it is the same in every clone
   * (cdktf's default is absolute). Every stack folder is a sibling, so the same path also reads
   * this state from another stack's folder.
   */
  private localStatePath(stack: string): string {
    const stackDir = path.join(App.of(this).outdir, "stacks", this.node.id);
    return path.relative(stackDir, path.join(projectDir(), `terraform.${stack}.tfstate`)).split(path.sep).join("/");
  }

  /**
   * The copy ids of a share stack: each Region's copy stack's state, read at plan time (no AWS
   * call but the state read), and the stack deploys after those (cdktf deploy orders it). A copy
   * that is not in its stack's state yet is a precondition failure naming the stack to apply first.
   */
  private remoteCopies(fleet: Fleet, copyStacks: ReadonlyMap<string, FleetStack>): CopyIdOf {
    for (const target of fleet.regions) {
      const copyStack = copyStacks.get(target.region);
      if (!copyStack) throw new Error(`no copy stack for ${target.region}`);
      this.addDependency(copyStack);
      const id = copyStateDataName(target.region);
      const backend = this.backend;
      const state =
        backend.type === "s3"
          ? new DataTerraformRemoteStateS3(this, id, {
              bucket: backend.bucket,
              key: stateKey(backend, copyStack.node.id),
              region: backend.region,
              ...(backend.kmsKeyId !== undefined ? { kmsKeyId: backend.kmsKeyId } : {}),
            })
          : new DataTerraformRemoteStateLocal(this, id, { path: this.localStatePath(copyStack.node.id) });
      state.overrideLogicalId(id);
    }
    return (imageKey, region) => {
      const id = `try(data.terraform_remote_state.${copyStateDataName(region)}.outputs.${copiesOutputName(imageKey)}["${region}"], "")`;
      return {
        id: `\${${id}}`,
        precondition: {
          condition: `\${${id} != ""}`,
          errorMessage:
            `the copy of image ${imageKey} in ${region} is not in the state of stack ${copyStacks.get(region)!.node.id}: apply that ` +
            `stack first (cdktf deploy orders it; README "Stack layout")`,
        },
      };
    };
  }
}

/** `<keyPrefix><stack>.tfstate`: a stack's key in the S3 state bucket. */
function stateKey(backend: Extract<BackendConfig, { type: "s3" }>, stack: string): string {
  return `${backend.keyPrefix}${stack}.tfstate`;
}
