import {
  accountOfPrincipalArn,
  accountRootArn,
  describePrincipal,
  fromLaunchPermission,
  fromPlanValues,
  launchPermissionShorthand,
  Principal,
  sharePrincipals,
  toLaunchPermission,
} from "../lib/fleet/principals";

/** The one table of principal spellings, read both ways. */
const PRINCIPALS: Principal[] = [
  { kind: "account", value: "444455556666" },
  { kind: "organization", value: "arn:aws:organizations::111122223333:organization/o-abc123def4" },
  { kind: "organizational-unit", value: "arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cd34ef56" },
  { kind: "public", value: "all" },
];

describe("principals", () => {
  it("spells each kind as EC2's LaunchPermission and reads it back", () => {
    expect(PRINCIPALS.map(toLaunchPermission)).toEqual([
      { UserId: "444455556666" },
      { OrganizationArn: PRINCIPALS[1].value },
      { OrganizationalUnitArn: PRINCIPALS[2].value },
      { Group: "all" },
    ]);
    for (const principal of PRINCIPALS) expect(fromLaunchPermission(toLaunchPermission(principal))).toEqual(principal);
  });

  it("reads the principal of an aws_ami_launch_permission's plan values", () => {
    expect(fromPlanValues({ account_id: "444455556666", image_id: "ami-1", group: null })).toEqual(PRINCIPALS[0]);
    expect(fromPlanValues({ organization_arn: PRINCIPALS[1].value, account_id: null })).toEqual(PRINCIPALS[1]);
    expect(fromPlanValues({ organizational_unit_arn: PRINCIPALS[2].value })).toEqual(PRINCIPALS[2]);
    expect(fromPlanValues({ group: "all", account_id: null })).toEqual(PRINCIPALS[3]);
  });

  it("is undefined, not a guess, for a shape it does not know", () => {
    expect(fromLaunchPermission({})).toBeUndefined();
    expect(fromLaunchPermission({ Group: "some-future-group" })).toBeUndefined();
    expect(fromPlanValues({ account_id: "", image_id: "ami-1" })).toBeUndefined();
  });

  it("lists a share's principals in a stable order, public last", () => {
    const share = { accounts: ["444455556666"], organizationArns: [PRINCIPALS[1].value], organizationalUnitArns: [PRINCIPALS[2].value], public: true };
    expect(sharePrincipals(share)).toEqual(PRINCIPALS);
    expect(sharePrincipals({ ...share, public: false })).toEqual(PRINCIPALS.slice(0, 3));
  });

  it("writes the AWS CLI shorthand and the human label", () => {
    expect(PRINCIPALS.map(launchPermissionShorthand)).toEqual([
      "UserId=444455556666",
      `OrganizationArn=${PRINCIPALS[1].value}`,
      `OrganizationalUnitArn=${PRINCIPALS[2].value}`,
      "Group=all",
    ]);
    expect(PRINCIPALS.map(describePrincipal)).toEqual([
      "account 444455556666",
      `organization ${PRINCIPALS[1].value}`,
      `organizational-unit ${PRINCIPALS[2].value}`,
      "public (group all)",
    ]);
  });
});

describe("account root principals (KMS grantees)", () => {
  it("builds the ARN a grant names and reads the account back", () => {
    expect(accountRootArn("aws", "444455556666")).toBe("arn:aws:iam::444455556666:root");
    expect(accountRootArn("aws-cn", "444455556666")).toBe("arn:aws-cn:iam::444455556666:root");
    expect(accountOfPrincipalArn(accountRootArn("aws-us-gov", "444455556666"))).toBe("444455556666");
  });

  it("reads no account from what is not an IAM ARN", () => {
    for (const value of ["444455556666", "arn:aws:kms:eu-west-1:444455556666:key/x", undefined, 12]) {
      expect(accountOfPrincipalArn(value)).toBeUndefined();
    }
  });
});
