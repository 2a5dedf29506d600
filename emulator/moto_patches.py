"""moto_server with the patches ami-fleet's tests need, and nothing else.

Each patch models documented AWS behaviour (../shared/docs/DOMAIN.md and the seeds) that moto
5.2.5 lacks. Run as `python emulator/moto_patches.py -H 127.0.0.1 -p PORT`; with
AMI_FLEET_MOTO_PATCHES=off it runs moto unpatched, which __tests__/emulator-patches.test.ts uses
to notice the day moto models these itself (then delete the patch).

What stays unmodelled is listed in README.md, "Testing".
"""

import io
import json
import os
import re
import sys
import threading
from urllib.parse import parse_qs

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.models import ec2_backends
from moto.ec2.models.amis import Ami
from moto.ec2.exceptions import EC2ClientError, InvalidAMIIdError
from moto.ec2.responses.amis import AmisResponse
from moto.ec2.responses.elastic_block_store import ElasticBlockStore
from moto.ec2.utils import random_ami_id
from moto.kms.models import kms_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main
from moto.ssm.responses import SimpleSystemManagerResponse
from moto.sts.models import sts_backends


class _CopyRefused(EC2ClientError):
    """CopyImage refused as EC2 refuses it (code and message)."""


# What a recipient needs on the owner's key to copy an encrypted AMI shared with it (DOMAIN.md "Encryption").
_KEY_OPERATIONS_TO_COPY = {"Decrypt", "DescribeKey", "CreateGrant", "ReEncryptFrom"}


def _shared_source(caller, source_image_id, source_region):
    """The source AMI of a CopyImage: the caller's own, or another account's shared with it.

    AWS (seeds/copy-ami.md "Cross-account copying"; DOMAIN.md "Cross-account copying"): an AMI of
    another account is visible to the caller only with a launch permission for it (its account id,
    or the group all); to copy it, the owner must also grant read access to the backing snapshots
    (createVolumePermission) and, for encrypted snapshots, access to the key. The copy belongs to
    the caller. moto looks for the source in the caller's account only, so a shared AMI cannot be
    copied at all. Organization and OU launch permissions are not modelled (moto knows no
    membership): such an AMI stays invisible here, as README "Testing" says.
    """
    own = ec2_backends[caller][source_region]
    if source_image_id in own.amis:
        return own.amis[source_image_id]
    for account in list(ec2_backends.keys()):
        if account == caller or source_region not in ec2_backends[account]:
            continue
        image = ec2_backends[account][source_region].amis.get(source_image_id)
        if image is None:
            continue
        if {"UserId": caller} not in image.launch_permissions and not image.is_public:
            break  # not shared with the caller: as if it did not exist
        snapshot = image.ebs_snapshot
        if caller not in snapshot.create_volume_permission_userids and "all" not in snapshot.create_volume_permission_groups:
            raise _CopyRefused("InvalidRequest", "You do not have permission to access the storage of this ami")
        if snapshot.encrypted and not _key_granted(account, source_region, snapshot.kms_key_id, caller):
            raise _CopyRefused("InvalidRequest", f"Given key ID is not accessible: {snapshot.kms_key_id}")
        return image
    raise InvalidAMIIdError(source_image_id)


def _key_granted(owner, region, key_id, caller):
    """Whether the owner's key grants the caller what copying needs (a grant to its account's root)."""
    backend = kms_backends[owner][region]
    key = backend.keys.get(backend.get_key_id(key_id)) if key_id else None
    if key is None:
        return False
    grantees = {caller, f"arn:aws:iam::{caller}:root"}
    return any(
        grant.grantee_principal in grantees and _KEY_OPERATIONS_TO_COPY <= set(grant.operations)
        for grant in key.grants.values()
    )


def _copy_image_with_encryption_and_tags(self):
    """CopyImage honours Encrypted, KmsKeyId and TagSpecifications, and copies AMIs shared by other accounts.

    AWS (DOMAIN.md "Encryption", seeds/ami-encryption.md): CopyImage applies ONE key to all
    snapshots of the copy: Encrypted=true with KmsKeyId encrypts with that key, without it with
    the Region's default EBS key; an encrypted source stays encrypted with its key unless another
    is given. TagSpecifications (resource type image) tag the new AMI (API reference, CopyImage).
    moto ignores all three: copies are never encrypted and never tagged.

    Cross-account (see _shared_source): the copy is the caller's. A copy of an encrypted snapshot
    shared by another account is never left under the owner's key: without KmsKeyId it is
    encrypted with the caller's default EBS key (seeds/copy-ebs-snapshot.md, "the key that is used
    depends on the encryption state of the source snapshot and its ownership").
    """
    source_image_id = self._get_param("SourceImageId")
    source_region = self._get_param("SourceRegion")
    encrypted = str(self._get_param("Encrypted", "false")).lower() == "true"
    kms_key_id = self._get_param("KmsKeyId")
    self.error_on_dryrun()
    source = _shared_source(self.current_account, source_image_id, source_region)
    shared = source.owner_id != self.current_account
    if shared:
        image = Ami(self.ec2_backend, random_ami_id(), source_ami=source, name=self._get_param("Name"), description=self._get_param("Description"))
        self.ec2_backend.amis[image.id] = image
    else:
        image = self.ec2_backend.copy_image(
            source_image_id, source_region, self._get_param("Name"), self._get_param("Description")
        )
    snapshot = image.ebs_snapshot
    source_key = source.ebs_snapshot.kms_key_id if source.ebs_snapshot.encrypted and not shared else None
    if encrypted or kms_key_id or self.ec2_backend.get_ebs_encryption_by_default():
        # EBS encryption by default (DOMAIN.md "Encryption"; seeds/ami-encryption.md) has the
        # effect of Encrypted=true on every copy, with the Region's default key.
        snapshot.encrypted = True
        snapshot.kms_key_id = kms_key_id or (source_key if not encrypted else None) or self.ec2_backend._create_default_encryption_key()
    elif source.ebs_snapshot.encrypted:
        snapshot.encrypted = True
        snapshot.kms_key_id = source_key or self.ec2_backend._create_default_encryption_key()
    tags = self._parse_tag_specification().get("image", {})
    if tags:
        self.ec2_backend.create_tags([image.id], tags)
    return ActionResult({"ImageId": image.id})


_modify_snapshot_attribute = ElasticBlockStore.modify_snapshot_attribute
_CREATE_VOLUME_PERMISSION = re.compile(r"^CreateVolumePermission\.(Add|Remove)\.\d+\.(UserId|Group)$")


def _modify_snapshot_attribute_structured(self):
    """ModifySnapshotAttribute takes CreateVolumePermission.Add/Remove lists.

    AWS (EC2 API reference, ModifySnapshotAttribute): the permissions to add or remove come either
    as OperationType with UserIds/GroupNames, or as CreateVolumePermission.Add.N / .Remove.N with
    UserId or Group, the form the Terraform AWS provider's aws_snapshot_create_volume_permission
    sends. moto reads only the first and ignores the second: the permission is never granted.
    """
    changes = {"Add": {"UserId": [], "Group": []}, "Remove": {"UserId": [], "Group": []}}
    for key, values in self.querystring.items():
        match = _CREATE_VOLUME_PERMISSION.match(key)
        if match:
            changes[match.group(1)][match.group(2)].extend(values)
    if not any(ids for side in changes.values() for ids in side.values()):
        return _modify_snapshot_attribute(self)
    self.error_on_dryrun()
    snapshot_id = self._get_param("SnapshotId")
    if changes["Add"]["UserId"] or changes["Add"]["Group"]:
        self.ec2_backend.add_create_volume_permission(snapshot_id, user_ids=changes["Add"]["UserId"], groups=changes["Add"]["Group"])
    if changes["Remove"]["UserId"] or changes["Remove"]["Group"]:
        self.ec2_backend.remove_create_volume_permission(snapshot_id, user_ids=changes["Remove"]["UserId"], groups=changes["Remove"]["Group"])
    return EmptyResult()


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


_describe_snapshots = ElasticBlockStore.describe_snapshots


def _describe_snapshots_owned_and_restorable(self):
    """DescribeSnapshots honours OwnerIds and RestorableByUserIds.

    AWS (EC2 API reference, DescribeSnapshots): OwnerIds (`self`, or account ids) keeps the
    snapshots those accounts own; RestorableByUserIds (account ids, or `all` for public) keeps the
    snapshots those accounts may create volumes from, so `OwnerIds=self, RestorableByUserIds=all`
    lists the account's public snapshots. moto ignores both and answers every snapshot, so each
    would look public.
    """
    owners = self._get_param("OwnerIds", [])
    restorable = self._get_param("RestorableByUserIds", [])
    if not owners and not restorable:
        return _describe_snapshots(self)
    snapshots = self.ec2_backend.describe_snapshots(snapshot_ids=self._get_param("SnapshotIds", []), filters=self._filters_from_querystring())
    if owners:
        accounts = {self.current_account if owner == "self" else owner for owner in owners}
        snapshots = [s for s in snapshots if s.owner_id in accounts]
    if restorable:
        def restorable_by(snapshot, user):
            return ("all" in snapshot.create_volume_permission_groups) if user == "all" else (
                user == snapshot.owner_id or user in snapshot.create_volume_permission_userids or "all" in snapshot.create_volume_permission_groups
            )

        snapshots = [s for s in snapshots if any(restorable_by(s, user) for user in restorable)]
    return ActionResult({"Snapshots": snapshots})


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
    ElasticBlockStore.modify_snapshot_attribute = _modify_snapshot_attribute_structured
    ElasticBlockStore.describe_snapshots = _describe_snapshots_owned_and_restorable


# The call log (not a patch): with AMI_FLEET_CALL_LOG=FILE, every request is appended to FILE as one
# JSON line {"principal", "action"}: the access key that signed it, or for a key AssumeRole issued,
# the role's ARN (and "session", the session name it was assumed with); and the IAM action ("ec2:CopyImage", "s3:GetObject"). The end-to-end suite
# checks these against the policies in docs/iam (moto itself allows every call).
_CALL_LOG = os.environ.get("AMI_FLEET_CALL_LOG")
_CALL_LOG_LOCK = threading.Lock()
_SIGNED = re.compile(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/")


def _role_of(access_key_id):
    for account_id in list(sts_backends.keys()):
        for backend in list(sts_backends[account_id].values()):
            role = backend.get_assumed_role_from_access_key(access_key_id)
            if role is not None:
                return role
    return None


def _s3_action(method, path, query):
    """The IAM action of a path-style S3 REST request (the state backend's calls)."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "s3:ListAllMyBuckets"
    if len(parts) == 1:
        if method in ("GET", "HEAD"):
            return "s3:GetBucketVersioning" if "versioning" in query else "s3:ListBucket"
        return {"PUT": "s3:CreateBucket", "DELETE": "s3:DeleteBucket"}.get(method, f"s3:{method}Bucket")
    return {"GET": "s3:GetObject", "HEAD": "s3:GetObject", "PUT": "s3:PutObject", "DELETE": "s3:DeleteObject"}.get(method, f"s3:{method}Object")


def _action_of(environ, service, body):
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return f"{service}:{target.split('.')[-1]}"
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if service == "s3":
        return _s3_action(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/"), query)
    form = parse_qs(body.decode("utf-8", "replace")) if body else {}
    action = (form.get("Action") or query.get("Action") or ["?"])[0]
    return f"{service}:{action}"


def _logging_call(original):
    def __call__(self, environ, start_response):
        signed = _SIGNED.search(environ.get("HTTP_AUTHORIZATION", ""))
        if signed and not environ.get("PATH_INFO", "").startswith("/moto-api"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            access_key_id, service = signed.group(1), signed.group(2)
            role = _role_of(access_key_id)
            call = {"principal": role.role_arn if role else access_key_id, "action": _action_of(environ, service, body)}
            if role:
                call["session"] = role.session_name
            line = json.dumps(call)
            with _CALL_LOG_LOCK, open(_CALL_LOG, "a", encoding="utf-8") as log:
                log.write(line + "\n")
        return original(self, environ, start_response)

    return __call__


if _CALL_LOG:
    DomainDispatcherApplication.__call__ = _logging_call(DomainDispatcherApplication.__call__)

if __name__ == "__main__":
    sys.exit(main())
