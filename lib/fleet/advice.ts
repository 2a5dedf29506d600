import { desiredCopies } from "./desired";
import { Fleet } from "./fleet";

/**
 * Advice on a valid fleet: what is allowed but costs more than it needs to. Not problems: `validate`
 * prints them as warnings and still exits 0.
 */

/** An account list this long is worth replacing by an Organization or OU principal, when it is one. */
export const LONG_ACCOUNT_LIST = 50;

/** One piece of advice on a fleet file, worded like a problem: file, field, what, what to do. */
export interface Advice {
  readonly file: string;
  readonly path: string;
  readonly message: string;
}

/**
 * Long account lists: each account is one `aws_ami_launch_permission` instance per copy, refreshed
 * by every plan and applied one call at a time; one Organization or OU principal is one instance.
 */
export function fleetAdvice(fleet: Fleet): Advice[] {
  const advice: Advice[] = [];
  const copies = desiredCopies(fleet).length;
  const accounts = fleet.share.accounts;
  if (accounts.length >= LONG_ACCOUNT_LIST) {
    const members = fleet.organization?.memberAccounts;
    const inOrganization = members !== undefined && accounts.every((account) => members.includes(account));
    advice.push({
      file: fleet.file,
      path: "share.accounts",
      message:
        `${accounts.length} accounts make ${accounts.length * copies} launch permission instances (${accounts.length} per copy), ` +
        `each refreshed by every plan and applied with its own call` +
        (inOrganization
          ? `; all of them are members of ${fleet.organization!.arn}: if that is every account that needs the image, share.organizationArns makes one per copy`
          : `; if they are one Organization or OU, share.organizationArns or share.organizationalUnitArns makes one per copy`),
    });
  }
  return advice;
}

/** `fleets/golden.yaml: share.accounts: warning: 200 accounts make ...` */
export function formatAdvice(advice: Advice): string {
  return `${advice.file}: ${advice.path}: warning: ${advice.message}.`;
}
