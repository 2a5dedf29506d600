"""moto_server with the patches ami-fleet's tests need, and nothing else.

Each patch models documented AWS behaviour (../shared/docs/DOMAIN.md and the seeds) that moto
5.2.5 lacks. Run as `python emulator/moto_patches.py -H 127.0.0.1 -p PORT`; with
AMI_FLEET_MOTO_PATCHES=off it runs moto unpatched, which __tests__/emulator-patches.test.ts uses
to notice the day moto models these itself (then delete the patch).

What stays unmodelled is listed in README.md, "Testing".
"""

import os
import sys

from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.ec2.exceptions import InvalidAMIIdError
from moto.ec2.responses.amis import AmisResponse
from moto.server import main
from moto.ssm.responses import SimpleSystemManagerResponse


def _copy_image_with_encryption_and_tags(self):
    """CopyImage honours Encrypted, KmsKeyId and TagSpecifications.

    AWS (DOMAIN.md "Encryption", seeds/ami-encryption.md): CopyImage applies ONE key to all
    snapshots of the copy: Encrypted=true with KmsKeyId encrypts with that key, without it with
    the Region's default EBS key; an encrypted source stays encrypted with its key unless another
    is given. TagSpecifications (resource type image) tag the new AMI (API reference, CopyImage).
    moto ignores all three: copies are never encrypted and never tagged.
    """
    source_image_id = self._get_param("SourceImageId")
    source_region = self._get_param("SourceRegion")
    encrypted = str(self._get_param("Encrypted", "false")).lower() == "true"
    kms_key_id = self._get_param("KmsKeyId")
    self.error_on_dryrun()
    image = self.ec2_backend.copy_image(
        source_image_id, source_region, self._get_param("Name"), self._get_param("Description")
    )
    source = ec2_backends[self.current_account][source_region].describe_images(ami_ids=[source_image_id])[0]
    snapshot = image.ebs_snapshot
    if encrypted or kms_key_id or self.ec2_backend.get_ebs_encryption_by_default():
        # EBS encryption by default (DOMAIN.md "Encryption"; seeds/ami-encryption.md) has the
        # effect of Encrypted=true on every copy, with the Region's default key.
        snapshot.encrypted = True
        snapshot.kms_key_id = kms_key_id or (
            source.ebs_snapshot.kms_key_id if source.ebs_snapshot.encrypted and not encrypted else None
        ) or self.ec2_backend._create_default_encryption_key()
    elif source.ebs_snapshot.encrypted:
        snapshot.encrypted = True
        snapshot.kms_key_id = source.ebs_snapshot.kms_key_id
    tags = self._parse_tag_specification().get("image", {})
    if tags:
        self.ec2_backend.create_tags([image.id], tags)
    return ActionResult({"ImageId": image.id})


_describe_image_attribute = AmisResponse.describe_image_attribute


def _describe_image_attribute_of_unknown_image(self):
    """DescribeImageAttribute on an unknown or deregistered AMI fails with InvalidAMIID.NotFound.

    AWS (EC2 API error codes): an AMI id that does not exist, or no longer does, is
    InvalidAMIID.NotFound (HTTP 400). moto answers HTTP 500 (a KeyError), which the Terraform AWS
    provider retries 25 times instead of removing the permission from state, as it does on AWS.
    """
    ami_id = self._get_param("ImageId")
    if ami_id not in self.ec2_backend.amis:
        raise InvalidAMIIdError(ami_id)
    return _describe_image_attribute(self)


_describe_images = AmisResponse.describe_images


def _describe_images_paged(self):
    """DescribeImages honours MaxResults and NextToken.

    AWS (EC2 API reference, DescribeImages): MaxResults (5-1000) bounds the items of one answer,
    which then carries a NextToken for the next page; MaxResults cannot be combined with ImageIds.
    moto ignores both and always answers everything at once, so a client's paging is never exercised.
    """
    max_results = self._get_param("MaxResults")
    if max_results is None:
        return _describe_images(self)
    self.error_on_dryrun()
    images = self.ec2_backend.describe_images(
        ami_ids=self._get_param("ImageIds", []),
        filters=self._filters_from_querystring(),
        exec_users=self._get_param("ExecutableUsers", []),
        owners=self._get_param("Owners", []),
    )
    images = sorted(images, key=lambda image: image.id)
    start = int(self._get_param("NextToken") or 0)
    end = start + int(max_results)
    result = {"Images": images[start:end]}
    if end < len(images):
        result["NextToken"] = str(end)
    return ActionResult(result)


def _put_parameter_keeping_data_type(self):
    """PutParameter with Overwrite keeps the parameter's DataType when the request omits it.

    AWS (SSM API reference, PutParameter; a parameter's data type cannot be changed once it exists,
    bottlerocket-os/bottlerocket#2599): the Terraform AWS provider updates an aws:ec2:image
    parameter's value without DataType (it sends DataType only when it changes, and data_type forces
    a new parameter). moto stores "text" on every PutParameter without DataType, so the next plan
    replaces the parameter, which AWS never makes it do.
    """
    name = self._get_param("Name")
    data_type = self._get_param("DataType")
    if data_type is None and self._get_param("Overwrite", False) and name in self.ssm_backend._parameters:
        versions = self.ssm_backend._parameters[name]
        data_type = versions[-1].data_type if versions else None
    param = self.ssm_backend.put_parameter(
        name,
        self._get_param("Description"),
        self._get_param("Value"),
        self._get_param("Type"),
        self._get_param("AllowedPattern"),
        self._get_param("KeyId"),
        self._get_param("Overwrite", False),
        self._get_param("Tags"),
        data_type or "text",
        tier=self._get_param("Tier"),
        policies=self._get_param("Policies"),
    )
    return ActionResult({"Version": param.version, "Tier": param.tier})


if os.environ.get("AMI_FLEET_MOTO_PATCHES", "on") != "off":
    SimpleSystemManagerResponse.put_parameter = _put_parameter_keeping_data_type
    AmisResponse.describe_images = _describe_images_paged
    AmisResponse.copy_image = _copy_image_with_encryption_and_tags
    AmisResponse.describe_image_attribute = _describe_image_attribute_of_unknown_image

if __name__ == "__main__":
    sys.exit(main())
