import { ProblemSink } from "../errors";
import { SourceImage } from "../fleet";
import { AMI_ID, KEY as IMAGE_KEY } from "../formats";
import { FleetFile, ImageFile } from "../schema";

/** Rules for the source images: one source each, valid ids, owners and parameter names, unique keys and AMIs. */

const SSM_PARAMETER = /^\/?[A-Za-z0-9_.\-/]{1,2047}$/;
const LOOKUP_OWNER = /^(?:self|amazon|aws-marketplace|aws-backup-vault|\d{12})$/;

/** The source images, normalized: the valid ones, each with one source; problems for the rest. */
export function checkImages(problems: ProblemSink, document: FleetFile): SourceImage[] {
  const seenKeys = new Map<string, number>();
  const seenAmis = new Map<string, number>();
  const images: SourceImage[] = [];
  document.source.images.forEach((image, index) => {
    const path = `source.images[${index}]`;
    const result = checkImage(problems, image, path);
    if (!result) return;
    const previous = seenKeys.get(result.key);
    if (previous !== undefined) {
      problems.add(
        `${path}.key`,
        `duplicate image key "${result.key}" (also source.images[${previous}])`,
        "Give each image version its own key",
      );
    } else {
      seenKeys.set(result.key, index);
    }
    if (result.source.kind === "ami") {
      const previousAmi = seenAmis.get(result.source.amiId);
      if (previousAmi !== undefined) {
        problems.add(
          `${path}.amiId`,
          `source AMI ${result.source.amiId} is listed twice (also source.images[${previousAmi}])`,
          "List each source image once",
        );
      } else {
        seenAmis.set(result.source.amiId, index);
      }
    }
    images.push(result);
  });
  return images;
}

function checkImage(problems: ProblemSink, image: ImageFile, path: string): SourceImage | undefined {
  const given = (["amiId", "lookup", "ssmParameter"] as const).filter((field) => image[field] !== undefined);
  if (given.length !== 1) {
    problems.add(
      path,
      given.length === 0
        ? "an image needs a source"
        : `an image has exactly one source, got ${given.join(" and ")}`,
      "Set exactly one of amiId, lookup or ssmParameter",
    );
    return undefined;
  }
  let source: SourceImage["source"] | undefined;
  if (image.amiId !== undefined) {
    if (!AMI_ID.test(image.amiId)) {
      problems.add(`${path}.amiId`, `"${image.amiId}" is not an AMI id`, "Use the form ami-0123456789abcdef0");
    } else {
      source = { kind: "ami", amiId: image.amiId };
    }
  } else if (image.lookup !== undefined) {
    image.lookup.owners.forEach((owner, i) => {
      if (!LOOKUP_OWNER.test(owner)) {
        problems.add(
          `${path}.lookup.owners[${i}]`,
          `"${owner}" is not an AMI owner`,
          "Use self, amazon, aws-marketplace or a 12-digit account id",
        );
      }
    });
    source = {
      kind: "lookup",
      owners: image.lookup.owners,
      name: image.lookup.name,
      mostRecent: image.lookup.mostRecent ?? true,
    };
  } else if (image.ssmParameter !== undefined) {
    if (!SSM_PARAMETER.test(image.ssmParameter)) {
      problems.add(
        `${path}.ssmParameter`,
        `"${image.ssmParameter}" is not an SSM parameter name`,
        "Use a name such as /images/golden-base/latest",
      );
    }
    source = { kind: "ssm", parameter: image.ssmParameter };
  }
  const key = image.key ?? image.amiId;
  if (key === undefined) {
    problems.add(
      `${path}.key`,
      "an image found by lookup or ssmParameter needs a key",
      'Add a stable key such as key: "current"; it names the copies in Terraform',
    );
    return undefined;
  }
  if (!IMAGE_KEY.test(key)) {
    problems.add(
      `${path}.key`,
      `"${key}" is not a valid image key`,
      "Use 1-64 letters, digits, dashes or underscores, starting with a letter or digit",
    );
    return undefined;
  }
  return source && { key, source, encrypted: image.encrypted, ...(image.deprecateAt !== undefined ? { deprecateAt: image.deprecateAt } : {}) };
}
