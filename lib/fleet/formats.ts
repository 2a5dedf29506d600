import { KNOWN_REGIONS } from "./regions";

/**
 * The formats of a fleet file's identifiers, in one place: validate.ts checks values with them (with
 * messages that name the field and the fix), and schema.ts gives the same patterns to the published
 * JSON Schema, so an editor flags what `validate` refuses.
 */

/** A key of an image version or a pointer: a stable id in resource addresses. */
export const KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** An SSM parameter name: one name, or a path of /-separated parts (SSM's characters: letters, digits, _ . -). */
export const SSM_PARAMETER_NAME = /^(?:[A-Za-z0-9_.-]+|(?:\/[A-Za-z0-9_.-]+)+)$/;
/** A 12-digit AWS account id. */
export const ACCOUNT_ID = /^\d{12}$/;
/** An AMI id: `ami-` and 8 or 17 hex digits. */
export const AMI_ID = /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** A KMS key ARN; its key id is a UUID, or `mrk-` and 32 hex digits for a multi-Region key. Groups: partition, Region, account, key id. */
export const KMS_KEY_ARN = /^arn:([a-z-]+):kms:([a-z0-9-]+):(\d{12}):key\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
/** An AWS Organizations ARN. Groups: partition, management account. */
export const ORGANIZATION_ARN = /^arn:([a-z-]+):organizations::(\d{12}):organization\/o-[a-z0-9]{10,32}$/;
/** An organizational unit ARN. Groups: partition, management account. */
export const OU_ARN = /^arn:([a-z-]+):organizations::(\d{12}):ou\/o-[a-z0-9]{10,32}\/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
/** A Region name the installed AWS SDK knows (names are [a-z0-9-]: nothing to escape, valid in unicode mode too). */
export const REGION_NAME = new RegExp(`^(?:${KNOWN_REGIONS.join("|")})$`);
