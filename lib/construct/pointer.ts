import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Construct } from "constructs";
import { DesiredPointer, POINTER_KIND } from "../fleet/desired";

/**
 * A pointer's SSM parameter (`aws_ssm_parameter.<name>`), valued with the id of the copy it names:
 * the owner's, or (with the recipient's provider) a recipient's own. Its type, data type,
 * description and tags are the desired model's, which reconcile checks too.
 */
export function pointerParameter(scope: Construct, name: string, desired: DesiredPointer, copyId: string, provider?: AwsProvider): SsmParameter {
  const parameter = new SsmParameter(scope, name, {
    ...(provider !== undefined ? { provider } : {}),
    region: desired.target.region,
    name: desired.pointer.parameter,
    type: POINTER_KIND.type,
    dataType: POINTER_KIND.dataType,
    // Not secret, and a reviewer must see which AMI the pointer moves to: insecure_value shows in plans.
    insecureValue: copyId,
    description: desired.description,
    tags: { ...desired.tags },
  });
  parameter.overrideLogicalId(name);
  return parameter;
}
