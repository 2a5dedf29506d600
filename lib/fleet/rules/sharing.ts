import { ProblemSink } from "../errors";
import { Share } from "../fleet";
import { ACCOUNT_ID, ORGANIZATION_ARN, OU_ARN } from "../formats";
import { FleetFile, ShareFile } from "../schema";

/** Rules for who may launch the copies: account ids, Organization and OU ARNs in the fleet's partition, no duplicates, public only when acknowledged. */

interface ArnFormat {
  readonly pattern: RegExp;
  readonly what: string;
  readonly short: string;
  readonly example: string;
}
const ORGANIZATION_ARN_FORMAT: ArnFormat = {
  pattern: ORGANIZATION_ARN,
  what: "an Organization ARN",
  short: "Organization ARN",
  example: "arn:aws:organizations::111122223333:organization/o-abc123def4",
};
const OU_ARN_FORMAT: ArnFormat = {
  pattern: OU_ARN,
  what: "an organizational unit ARN",
  short: "OU ARN",
  example: "arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cd34ef56",
};

/** A share (the fleet's or a Region's) at `path`, normalized: sorted, duplicates reported and dropped. */
export function checkShare(problems: ProblemSink, share: ShareFile | undefined, path: string, partition: string | undefined): Share {
  const accounts = uniqueList(problems, share?.accounts, `${path}.accounts`);
  const organizationArns = uniqueList(problems, share?.organizationArns, `${path}.organizationArns`);
  const organizationalUnitArns = uniqueList(problems, share?.organizationalUnitArns, `${path}.organizationalUnitArns`);
  (share?.accounts ?? []).forEach((account, index) => {
    if (!ACCOUNT_ID.test(account)) {
      problems.add(`${path}.accounts[${index}]`, `"${account}" is not an account id`, "Use the 12-digit AWS account id, quoted");
    }
  });
  (share?.organizationArns ?? []).forEach((arn, index) =>
    checkOrganizationsArn(problems, arn, `${path}.organizationArns[${index}]`, ORGANIZATION_ARN_FORMAT, partition),
  );
  (share?.organizationalUnitArns ?? []).forEach((arn, index) =>
    checkOrganizationsArn(problems, arn, `${path}.organizationalUnitArns[${index}]`, OU_ARN_FORMAT, partition),
  );
  const isPublic = share?.public === true;
  if (isPublic && share?.acknowledgePublic !== true) {
    problems.add(
      `${path}.public`,
      "public sharing is not acknowledged: every AWS account could launch these copies",
      `If that is intended, also set ${path}.acknowledgePublic: true; otherwise remove public`,
    );
  }
  return { accounts, organizationArns, organizationalUnitArns, public: isPublic };
}

/** An Organizations ARN: its form, and that it lives in the fleet's partition. */
function checkOrganizationsArn(problems: ProblemSink, arn: string, path: string, format: ArnFormat, partition: string | undefined): void {
  const match = format.pattern.exec(arn);
  if (!match) {
    problems.add(path, `"${arn}" is not ${format.what}`, `Use the form ${format.example}`);
  } else if (partition && match[1] !== partition) {
    problems.add(path, `${format.short} is in partition ${match[1]}, the fleet is in ${partition}`, `Use one of partition ${partition}`);
  }
}

function uniqueList(problems: ProblemSink, values: readonly string[] | undefined, path: string): string[] {
  const seen = new Set<string>();
  (values ?? []).forEach((value, index) => {
    if (seen.has(value)) problems.add(`${path}[${index}]`, `"${value}" is listed twice`, "Remove the duplicate");
    seen.add(value);
  });
  return [...seen].sort();
}

/** The owner's Organization, when declared: its ARN and member account ids. */
export function checkOrganization(problems: ProblemSink, document: FleetFile, partition: string | undefined): void {
  const org = document.organization;
  if (!org) return;
  checkOrganizationsArn(problems, org.arn, "organization.arn", ORGANIZATION_ARN_FORMAT, partition);
  (org.memberAccounts ?? []).forEach((account, index) => {
    if (!ACCOUNT_ID.test(account)) {
      problems.add(`organization.memberAccounts[${index}]`, `"${account}" is not an account id`, "Use the 12-digit AWS account id, quoted");
    }
  });
}

/** A Region's principals: the fleet's and its own. */
export function mergeShares(a: Share, b: Share): Share {
  const union = (x: readonly string[], y: readonly string[]) => [...new Set([...x, ...y])].sort();
  return {
    accounts: union(a.accounts, b.accounts),
    organizationArns: union(a.organizationArns, b.organizationArns),
    organizationalUnitArns: union(a.organizationalUnitArns, b.organizationalUnitArns),
    public: a.public || b.public,
  };
}
