import { DescribeImagesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import * as fs from "fs";
import * as path from "path";
import { allowedPatterns, allows, asRole, IAM_DIR, matches, Policy, policyOf, roleOf, ROLE_KEYS, ROLES, tofuRole } from "./helpers/iam";
import { Moto, startMoto } from "./helpers/moto";

describe("the policy evaluator the IAM check uses", () => {
  const policy: Policy = {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["ec2:Describe*", "kms:ReEncrypt*", "ssm:GetParameter"], Resource: "*" },
      { Effect: "Deny", Action: "ec2:DescribeRegions", Resource: "*" },
    ],
  };

  it("matches IAM's wildcards, case-insensitively, and nothing more", () => {
    expect(matches("ec2:Describe*", "ec2:DescribeImages")).toBe(true);
    expect(matches("ec2:describe*", "ec2:DescribeImages")).toBe(true);
    expect(matches("ssm:GetParameter", "ssm:GetParameters")).toBe(false);
    expect(matches("kms:ReEncrypt?rom", "kms:ReEncryptFrom")).toBe(true);
    expect(matches("ec2:*Image", "ec2:CopyImage")).toBe(true);
    expect(matches("ec2:*Image", "ec2:CopyImages")).toBe(false);
  });

  it("allows what a statement allows unless a Deny names it", () => {
    expect(allows(policy, "ec2:DescribeSnapshots")).toBe(true);
    expect(allows(policy, "kms:ReEncryptTo")).toBe(true);
    expect(allows(policy, "ssm:GetParameters")).toBe(false);
    expect(allows(policy, "ec2:DescribeRegions")).toBe(false);
    expect(allowedPatterns(policy)).toEqual(["ec2:Describe*", "kms:ReEncrypt*", "ssm:GetParameter"]);
  });

  it("charges a command to its role: apply and destroy to the apply role, the rest to the plan role; the harness's own credentials stay", () => {
    expect(tofuRole(["-chdir=x", "apply", "-auto-approve"])).toBe("apply");
    expect(tofuRole(["destroy"])).toBe("apply");
    expect(tofuRole(["plan", "-refresh=false"])).toBe("plan");
    expect(tofuRole(["init", "-no-color"])).toBe("plan");
    expect(asRole("plan", { AWS_ACCESS_KEY_ID: "test" }).AWS_ACCESS_KEY_ID).toBe(ROLE_KEYS.plan);
    expect(asRole("plan", { AWS_ACCESS_KEY_ID: "ASIAOTHER" }).AWS_ACCESS_KEY_ID).toBe("ASIAOTHER");
    expect(roleOf({ principal: ROLE_KEYS.apply, action: "ec2:CopyImage" })).toBe("apply");
    expect(roleOf({ principal: "arn:aws:iam::222233334444:role/ami-fleet-recipient", action: "ec2:CopyImage", session: "ami-fleet-golden" })).toBe("recipient");
    expect(roleOf({ principal: "arn:aws:iam::222233334444:role/ami-fleet-recipient", action: "ec2:CopyImage", session: "ami-fleet-tests" })).toBeUndefined();
    expect(roleOf({ principal: "test", action: "ec2:CopyImage" })).toBeUndefined();
  });
});

describe("docs/iam", () => {
  it.each([...ROLES, "consumer" as const].map((role) => [role]))("%s.json is a policy document with explicit actions", (role) => {
    const policy = JSON.parse(fs.readFileSync(path.join(IAM_DIR, `${role}.json`), "utf8")) as Policy;
    expect(policy.Version).toBe("2012-10-17");
    expect(policy.Statement.length).toBeGreaterThan(0);
    for (const statement of policy.Statement) {
      expect(statement.Effect).toBe("Allow");
      for (const action of ([] as string[]).concat(statement.Action)) expect(action).toMatch(/^(ec2|kms|ssm|sts|s3):[A-Za-z]+\*?$/);
    }
  });

  it("the read-only roles allow no call that changes anything", () => {
    for (const role of ["plan", "reconcile"] as const) {
      const writes = allowedPatterns(policyOf(role)).filter((a) => !/^(ec2:(Describe|Get)|kms:List|ssm:(Get|Describe|List)|sts:AssumeRole$|s3:)/.test(a));
      expect({ role, writes }).toEqual({ role, writes: [] });
    }
  });

  it("a consumer of shared encrypted copies may create volumes from the owner's snapshots (AWS authorizes the source snapshot)", () => {
    const consumer = policyOf("consumer");
    const statement = consumer.Statement.find((s) => ([] as string[]).concat(s.Action).includes("ec2:CreateVolume"));
    expect(statement?.Resource).toBe("arn:aws:ec2:*::snapshot/*");
    expect(allows(consumer, "ec2:RunInstances")).toBe(true);
  });
});

describe("the emulator's call log (emulator/moto_patches.py)", () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto({ recordCalls: true });
  }, 60_000);
  afterAll(async () => moto?.stop());

  it("records who signed each call and its IAM action: EC2, SSM, S3 and a role's temporary key", async () => {
    const as = (accessKeyId: string, sessionToken?: string) => ({ region: "eu-west-1", endpoint: moto.endpoint, credentials: { accessKeyId, secretAccessKey: "x", sessionToken } });
    await new EC2Client(as(ROLE_KEYS.reconcile)).send(new DescribeImagesCommand({ Owners: ["self"] }));
    await new SSMClient(as(ROLE_KEYS.plan)).send(new GetParametersCommand({ Names: ["/a"] }));
    const s3 = new S3Client({ ...as(ROLE_KEYS.apply), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: "state", CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }));
    await s3.send(new PutObjectCommand({ Bucket: "state", Key: "a/b.tfstate", Body: "{}" }));
    await s3.send(new GetObjectCommand({ Bucket: "state", Key: "a/b.tfstate" }));
    const { Credentials } = await new STSClient(as(ROLE_KEYS.apply)).send(
      new AssumeRoleCommand({ RoleArn: "arn:aws:iam::222233334444:role/ami-fleet-recipient", RoleSessionName: "ami-fleet-golden" }),
    );
    await new EC2Client(as(Credentials!.AccessKeyId!, Credentials!.SessionToken)).send(new DescribeImagesCommand({ Owners: ["self"] }));
    expect(moto.calls()).toEqual([
      { principal: ROLE_KEYS.reconcile, action: "ec2:DescribeImages" },
      { principal: ROLE_KEYS.plan, action: "ssm:GetParameters" },
      { principal: ROLE_KEYS.apply, action: "s3:CreateBucket" },
      { principal: ROLE_KEYS.apply, action: "s3:PutObject" },
      { principal: ROLE_KEYS.apply, action: "s3:GetObject" },
      { principal: ROLE_KEYS.apply, action: "sts:AssumeRole" },
      { principal: "arn:aws:iam::222233334444:role/ami-fleet-recipient", session: "ami-fleet-golden", action: "ec2:DescribeImages" },
    ]);
  });
});

describe("the README's IAM section", () => {
  it("names every action the policies allow and the e2e suite does not call (docs/iam/not-exercised.json)", () => {
    const readme = fs.readFileSync(path.join(IAM_DIR, "..", "..", "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## IAM policies"), readme.indexOf("## Testing"));
    const notExercised = JSON.parse(fs.readFileSync(path.join(IAM_DIR, "not-exercised.json"), "utf8")) as Record<string, Record<string, string>>;
    const missing = Object.entries(notExercised).flatMap(([role, actions]) => Object.keys(actions).filter((action) => !section.includes(`\`${action}\``)).map((action) => `${role}: ${action}`));
    expect(missing).toEqual([]);
    for (const role of ROLES) expect(section).toContain(`\`${role}.json\``);
  });
});
