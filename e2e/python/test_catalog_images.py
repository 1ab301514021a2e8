"""Issue 5, part A: the image catalogue around the import, through boto3 and
the AWS CLI: DescribeWorkspaceImages over owned and shared images (with
boto3's paginator), sharing and its permissions, copies within and across
Regions, updated images, the older ImportWorkspaceImage, DeleteWorkspaceImage
and DescribeImageAssociations.

Time is driven through wsim's clock (/_wsim/clock); nothing here sleeps for
service time to pass.
"""

import itertools
import json
import unittest

from botocore.exceptions import ClientError

from . import wsim_harness as h

CLI_SERVICE_ERROR_CODES = (254, 255)
OTHER_REGION = "eu-west-1"
UNKNOWN_ID = "wsi-000000000"
UPDATE_INTERVAL = "720h"  # service.UpdateInterval: 30 days

_accounts = itertools.count(1)


def fresh_account():
    """A 12-digit account no other test uses, so tests sharing a server never
    see each other's images."""
    return "5%011d" % next(_accounts)


def legacy_params(name, **overrides):
    """Valid ImportWorkspaceImage parameters; a value of None removes a member."""
    return h.with_overrides({
        "Ec2ImageId": "ami-0123456789abcdef0",
        "IngestionProcess": "BYOL_REGULAR_WSP",
        "ImageName": name,
        "ImageDescription": "Imported by the wsim e2e suite",
    }, overrides)


class CatalogTestBase(h.ServerTestCase):

    def new_client(self, region=h.DEFAULT_REGION, account=None):
        account = account or fresh_account()
        return account, self.server.client(account=account, region=region)

    def assertClientError(self, code, call, *fragments, **kwargs):
        with self.assertRaises(ClientError) as cm:
            call(**kwargs)
        got, message, status = h.error_of(cm.exception)
        self.assertEqual(got, code, message)
        self.assertEqual(status, 400)
        for f in fragments:
            self.assertIn(f, message)
        return message

    def import_image(self, ws, name, **overrides):
        return ws.import_custom_workspace_image(**h.import_params(name, **overrides))["ImageId"]

    def image(self, ws, image_id):
        images = ws.describe_workspace_images(ImageIds=[image_id])["Images"]
        self.assertEqual(len(images), 1, images)
        return images[0]

    def ids(self, ws, **params):
        """Every image id DescribeWorkspaceImages lists, through the paginator."""
        pages = ws.get_paginator("describe_workspace_images").paginate(**params)
        return [img["ImageId"] for page in pages for img in page["Images"]]

    def share(self, ws, image_id, account, allow=True):
        ws.update_workspace_image_permission(ImageId=image_id, SharedAccountId=account, AllowCopyImage=allow)

    def permissions(self, ws, image_id):
        out = ws.describe_workspace_image_permissions(ImageId=image_id)
        self.assertEqual(out["ImageId"], image_id)
        return [p["SharedAccountId"] for p in out["ImagePermissions"]]


class SharingTest(CatalogTestBase):
    def test_two_account_sharing_story(self):
        a_id, a = self.new_client()
        b_id, b = self.new_client()
        image = self.import_image(a, "golden", Tags=[{"Key": "team", "Value": "vdi"}])
        b_own = self.import_image(b, "b-own")

        # A shares with B: B sees it as SHARED, owned by A.
        self.share(a, image, b_id)
        self.assertEqual(self.permissions(a, image), [b_id])
        self.assertEqual(self.ids(b, ImageType="SHARED"), [image])
        self.assertEqual(self.ids(b, ImageType="OWNED"), [b_own])
        self.assertEqual(self.ids(b), [b_own, image])
        seen = self.image(b, image)
        self.assertEqual(seen["OwnerAccountId"], a_id)
        self.assertEqual(seen["Created"], self.image(a, image)["Created"])
        self.assertEqual(seen["State"], "AVAILABLE")
        self.assertNotIn("Updates", seen)

        # B can't act as the owner.
        self.assertClientError("AccessDeniedException", b.update_workspace_image_permission,
                               "only its owner", ImageId=image, SharedAccountId=fresh_account(), AllowCopyImage=True)
        self.assertClientError("AccessDeniedException", b.describe_workspace_image_permissions, ImageId=image)
        self.assertClientError("AccessDeniedException", b.delete_workspace_image, ImageId=image)

        # B copies it into its own account.
        copy = b.copy_workspace_image(Name="golden-of-b", SourceImageId=image,
                                      SourceRegion=h.DEFAULT_REGION)["ImageId"]
        self.assertEqual(self.image(b, copy)["OwnerAccountId"], b_id)
        self.assertEqual(self.image(b, copy)["State"], "AVAILABLE")

        # A can't delete while shared; unsharing is immediate.
        self.assertClientError("ResourceAssociatedException", a.delete_workspace_image,
                               "Unshare", b_id, ImageId=image)
        self.share(a, image, b_id, allow=False)
        self.assertEqual(self.ids(b, ImageType="SHARED"), [])
        self.assertEqual(b.describe_workspace_images(ImageIds=[image])["Images"], [])
        self.assertEqual(self.permissions(a, image), [])
        self.assertClientError("ResourceNotFoundException", b.copy_workspace_image,
                               Name="too-late", SourceImageId=image, SourceRegion=h.DEFAULT_REGION)

        a.delete_workspace_image(ImageId=image)
        self.assertEqual(self.ids(a), [])
        self.assertEqual(sorted(self.ids(b)), sorted([b_own, copy]))

    def test_sharing_errors(self):
        a_id, a = self.new_client()
        image = self.import_image(a, "golden")
        self.assertClientError("InvalidParameterValuesException", a.update_workspace_image_permission,
                               "your own account", ImageId=image, SharedAccountId=a_id, AllowCopyImage=True)
        self.assertClientError("ResourceNotFoundException", a.update_workspace_image_permission,
                               ImageId=UNKNOWN_ID, SharedAccountId=fresh_account(), AllowCopyImage=True)
        self.assertClientError("InvalidParameterValuesException", a.update_workspace_image_permission,
                               "not shared", ImageId=image, SharedAccountId=fresh_account(), AllowCopyImage=False)
        self.assertClientError("ResourceNotFoundException", a.describe_workspace_image_permissions, ImageId=UNKNOWN_ID)
        # Sharing twice is the same as sharing once.
        b_id = fresh_account()
        self.share(a, image, b_id)
        self.share(a, image, b_id)
        self.assertEqual(self.permissions(a, image), [b_id])
        # Shares are per Region.
        _, a_west = self.new_client(region=OTHER_REGION, account=a_id)
        self.assertClientError("ResourceNotFoundException", a_west.update_workspace_image_permission,
                               ImageId=image, SharedAccountId=b_id, AllowCopyImage=True)
        self.assertEqual(self.ids(self.server.client(account=b_id, region=OTHER_REGION)), [])

    def test_paginator_walks_owned_then_shared_once(self):
        b_id, b = self.new_client()
        owned = sorted(self.import_image(b, "own-%d" % i) for i in range(4))
        shared = []
        for i in range(3):
            _, owner = self.new_client()
            image = self.import_image(owner, "theirs-%d" % i)
            self.share(owner, image, b_id)
            shared.append(image)
        shared.sort()
        for size in range(1, 9):
            config = {"PageSize": size}
            pages = list(b.get_paginator("describe_workspace_images").paginate(PaginationConfig=config))
            self.assertTrue(all(len(p["Images"]) <= size for p in pages))
            self.assertEqual([i["ImageId"] for p in pages for i in p["Images"]], owned + shared, size)
            self.assertEqual(self.ids(b, ImageType="SHARED", PaginationConfig=config), shared)
            self.assertEqual(self.ids(b, ImageType="OWNED", PaginationConfig=config), owned)
            self.assertEqual(self.ids(b, ImageIds=owned + shared + [UNKNOWN_ID], PaginationConfig=config),
                             owned + shared)
        full = b.get_paginator("describe_workspace_images").paginate(
            PaginationConfig={"PageSize": 2}).build_full_result()
        self.assertEqual([i["ImageId"] for i in full["Images"]], owned + shared)

    def test_bad_next_token(self):
        _, ws = self.new_client()
        self.assertClientError("ValidationException", ws.describe_workspace_images, "NextToken", NextToken="garbage")

    def test_image_associations(self):
        _, a = self.new_client()
        b_id, b = self.new_client()
        image = self.import_image(a, "golden")
        out = a.describe_image_associations(ImageId=image, AssociatedResourceTypes=["APPLICATION"])
        self.assertEqual(out["Associations"], [])
        self.assertClientError("ResourceNotFoundException", b.describe_image_associations, image,
                               ImageId=image, AssociatedResourceTypes=["APPLICATION"])
        self.share(a, image, b_id)
        self.assertEqual(b.describe_image_associations(ImageId=image, AssociatedResourceTypes=["APPLICATION"])["Associations"], [])
        self.assertClientError("ValidationException", a.describe_image_associations,
                               ImageId=image, AssociatedResourceTypes=["BUNDLE"])


class ClockTestBase(CatalogTestBase):
    """A server with the quick profile whose clock each test freezes."""
    profile = "quick"

    def setUp(self):
        self.server.freeze()


class CopyTest(ClockTestBase):
    extra_args = ("--image-quota", "2")

    def test_two_region_copy_story(self):
        account, east = self.new_client()
        _, west = self.new_client(region=OTHER_REGION, account=account)
        src = self.import_image(east, "golden")
        self.assertClientError("ResourceUnavailableException", west.copy_workspace_image, "PENDING",
                               Name="golden", SourceImageId=src, SourceRegion=h.DEFAULT_REGION)
        self.server.advance("1h")

        copy = west.copy_workspace_image(Name="golden", Description="copy in Ireland", SourceImageId=src,
                                         SourceRegion=h.DEFAULT_REGION, Tags=[{"Key": "copy", "Value": "1"}])["ImageId"]
        image = self.image(west, copy)
        self.assertEqual((image["State"], image["OwnerAccountId"], image["Description"]),
                         ("PENDING", account, "copy in Ireland"))
        self.assertEqual(self.ids(east), [src])
        self.server.advance("9s")
        self.assertEqual(self.image(west, copy)["State"], "PENDING")
        self.server.advance("1s")
        self.assertEqual(self.image(west, copy)["State"], "AVAILABLE")
        self.assertEqual(west.describe_tags(ResourceId=copy)["TagList"], [{"Key": "copy", "Value": "1"}])

        # Duplicate name refused in the destination.
        self.assertClientError("ResourceAlreadyExistsException", west.copy_workspace_image, "golden",
                               Name="golden", SourceImageId=src, SourceRegion=h.DEFAULT_REGION)
        # The destination's quota (2) counts the copies; the source's does not.
        west.copy_workspace_image(Name="golden-2", SourceImageId=src, SourceRegion=h.DEFAULT_REGION)
        self.assertClientError("ResourceLimitExceededException", west.copy_workspace_image, OTHER_REGION,
                               Name="golden-3", SourceImageId=src, SourceRegion=h.DEFAULT_REGION)
        east.copy_workspace_image(Name="golden-east", SourceImageId=src, SourceRegion=h.DEFAULT_REGION)

    def test_copy_errors(self):
        account, east = self.new_client()
        _, west = self.new_client(region=OTHER_REGION, account=account)
        self.assertClientError("ResourceNotFoundException", west.copy_workspace_image, UNKNOWN_ID,
                               Name="x", SourceImageId=UNKNOWN_ID, SourceRegion=h.DEFAULT_REGION)
        src = self.import_image(east, "golden")
        self.server.advance("1h")
        self.assertClientError("ResourceNotFoundException", west.copy_workspace_image,
                               Name="x", SourceImageId=src, SourceRegion=OTHER_REGION)
        _, stranger = self.new_client()
        self.assertClientError("ResourceNotFoundException", stranger.copy_workspace_image,
                               Name="x", SourceImageId=src, SourceRegion=h.DEFAULT_REGION)
        copy = west.copy_workspace_image(Name="doomed", SourceImageId=src, SourceRegion=h.DEFAULT_REGION,
                                         Tags=[{"Key": "wsim:fail-at", "Value": "PENDING"}])["ImageId"]
        self.server.advance("1m")
        image = self.image(west, copy)
        self.assertEqual((image["State"], image["ErrorCode"]), ("ERROR", "UnknownError"))


class DeleteTest(ClockTestBase):
    extra_args = ("--image-quota", "1")

    def test_delete(self):
        _, ws = self.new_client()
        ws.delete_workspace_image(ImageId=UNKNOWN_ID)  # idempotent: wsim's choice
        image = self.import_image(ws, "golden")
        self.assertClientError("InvalidResourceStateException", ws.delete_workspace_image, "PENDING", ImageId=image)
        self.server.advance("1h")
        bundle = ws.create_workspace_bundle(
            BundleName="golden-bundle", BundleDescription="on golden", ImageId=image,
            ComputeType={"Name": "STANDARD"}, UserStorage={"Capacity": "50"})["WorkspaceBundle"]["BundleId"]
        self.assertClientError("ResourceAssociatedException", ws.delete_workspace_image, bundle, ImageId=image)
        ws.delete_workspace_bundle(BundleId=bundle)
        ws.delete_workspace_image(ImageId=image)
        self.assertEqual(self.ids(ws), [])
        # The name and the only quota slot are free again.
        self.import_image(ws, "golden")


class UpdatedImageTest(ClockTestBase):
    def test_updated_image(self):
        b_id, b = self.new_client()
        _, ws = self.new_client()
        src = self.import_image(ws, "golden")
        self.assertNotIn("Updates", self.image(ws, src))
        self.assertClientError("InvalidResourceStateException", ws.create_updated_workspace_image,
                               Name="golden-2", Description="updated", SourceImageId=src)
        self.server.advance("1h")
        self.assertEqual(self.image(ws, src)["Updates"]["UpdateAvailable"], False)
        self.assertClientError("OperationNotSupportedException", ws.create_updated_workspace_image, "No updates",
                               Name="golden-2", Description="updated", SourceImageId=src)
        self.assertClientError("ResourceNotFoundException", ws.create_updated_workspace_image,
                               Name="golden-2", Description="updated", SourceImageId=UNKNOWN_ID)

        self.server.advance(UPDATE_INTERVAL)
        updates = self.image(ws, src)["Updates"]
        self.assertTrue(updates["UpdateAvailable"])
        self.assertTrue(updates["Description"])
        self.assertClientError("ResourceAlreadyExistsException", ws.create_updated_workspace_image,
                               Name="golden", Description="updated", SourceImageId=src)
        self.share(ws, src, b_id)
        self.assertClientError("AccessDeniedException", b.create_updated_workspace_image,
                               Name="mine", Description="updated", SourceImageId=src)

        new = ws.create_updated_workspace_image(Name="golden-2", Description="updated", SourceImageId=src,
                                                Tags=[{"Key": "stage", "Value": "updated"}])["ImageId"]
        self.assertEqual(self.image(ws, new)["State"], "PENDING")
        self.server.advance("15s")
        image = self.image(ws, new)
        self.assertEqual(image["State"], "AVAILABLE")
        self.assertFalse(image["Updates"]["UpdateAvailable"])
        self.assertTrue(self.image(ws, src)["Updates"]["UpdateAvailable"])


class LegacyImportTest(ClockTestBase):
    extra_args = ("--image-quota", "3")

    def test_lifecycle(self):
        _, ws = self.new_client()
        created = self.server.now()
        image = ws.import_workspace_image(**legacy_params("legacy", Tags=[{"Key": "team", "Value": "vdi"}]))["ImageId"]
        entry = self.image(ws, image)
        self.assertEqual(entry["State"], "PENDING")
        self.assertEqual(entry["RequiredTenancy"], "DEDICATED")
        self.assertEqual(entry["Created"].timestamp(), created)
        self.assertClientError("ResourceNotFoundException", ws.describe_custom_workspace_image_import, ImageId=image)
        self.server.advance("19s")
        self.assertEqual(self.image(ws, image)["State"], "PENDING")
        self.server.advance("1s")
        self.assertEqual(self.image(ws, image)["State"], "AVAILABLE")
        self.assertEqual(ws.describe_tags(ResourceId=image)["TagList"], [{"Key": "team", "Value": "vdi"}])
        self.assertClientError("ResourceAlreadyExistsException", ws.import_workspace_image, **legacy_params("legacy"))

    def test_failures(self):
        _, ws = self.new_client()
        image = ws.import_workspace_image(**legacy_params(
            "doomed", Tags=[{"Key": "wsim:fail-at", "Value": "PENDING"}, {"Key": "wsim:error-code", "Value": "PendingReboot"}]))["ImageId"]
        self.server.advance("1m")
        entry = self.image(ws, image)
        self.assertEqual((entry["State"], entry["ErrorCode"]), ("ERROR", "PendingReboot"))
        self.assertEqual(entry["ErrorDetails"][0]["ErrorCode"], "PendingReboot")
        rule = self.server.add_fault(kind="legacy-import", namePattern="rule-*", failAt="PENDING")
        try:
            image = ws.import_workspace_image(**legacy_params("rule-hit"))["ImageId"]
            self.server.advance("1m")
            self.assertEqual(self.image(ws, image)["ErrorCode"], "OSNotSupported")
        finally:
            self.server.delete_fault(rule["id"])
        self.assertClientError("InvalidParameterValuesException", ws.import_workspace_image, "GENERALIZING",
                               **legacy_params("bad", Tags=[{"Key": "wsim:fail-at", "Value": "GENERALIZING"}]))

    def test_quota(self):
        _, ws = self.new_client()
        for i in range(3):
            ws.import_workspace_image(**legacy_params("q-%d" % i))
        self.assertClientError("ResourceLimitExceededException", ws.import_workspace_image, **legacy_params("q-3"))

    def test_applications(self):
        _, ws = self.new_client()
        win11 = [{"Key": "wsim:os-version", "Value": "Windows_11"}]
        self.assertClientError("InvalidParameterValuesException", ws.import_workspace_image, "one application",
                               **legacy_params("a1", Applications=["Microsoft_Office_2016", "Microsoft_Office_2019"]))
        self.assertClientError("OperationNotSupportedException", ws.import_workspace_image, "Microsoft_Office_2019",
                               **legacy_params("a2", Applications=["Microsoft_Office_2016"], Tags=win11))
        self.assertClientError("OperationNotSupportedException", ws.import_workspace_image, "GPU",
                               **legacy_params("a3", IngestionProcess="BYOL_GRAPHICS_G4DN_WSP",
                                               Applications=["Microsoft_Office_2019"], Tags=win11))
        ws.import_workspace_image(**legacy_params("a4", Applications=["Microsoft_Office_2019"], Tags=win11))
        ws.import_workspace_image(**legacy_params("a5", Applications=["Microsoft_Office_2016"]))
        # Enums are checked by wsim, not by botocore.
        raw = self.server.client(account=fresh_account(), parameter_validation=False)
        self.assertClientError("ValidationException", raw.import_workspace_image, "ingestionProcess",
                               **legacy_params("a6", IngestionProcess="BYOL_ANYTHING"))


class StrictBYOLTest(CatalogTestBase):
    extra_args = ("--byol", "strict")

    def test_legacy_import_needs_byol(self):
        _, ws = self.new_client()
        self.assertClientError("AccessDeniedException", ws.import_workspace_image, "BYOL", **legacy_params("strict"))

    def test_share_needs_byol_grantee(self):
        _, a = self.new_client()
        a.modify_account(DedicatedTenancySupport="ENABLED", DedicatedTenancyManagementCidrRange="10.0.0.0/16")
        image = self.import_image(a, "golden")
        b_id = fresh_account()
        self.assertClientError("InvalidParameterValuesException", a.update_workspace_image_permission, "BYOL", b_id,
                               ImageId=image, SharedAccountId=b_id, AllowCopyImage=True)


class CliTest(CatalogTestBase):
    """The same operations through `aws workspaces`."""
    profile = "quick"

    def cli(self, *args, account, region=h.DEFAULT_REGION):
        return self.server.cli(*args, account=account, region=region)

    def assertCliError(self, code, result, *fragments):
        rc, out, err = result
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES, (out, err))
        self.assertIn("(%s)" % code, err)
        for f in fragments:
            self.assertIn(f, err)

    def ok(self, result):
        rc, out, err = result
        self.assertEqual(rc, 0, err)
        return out

    def test_cli_story(self):
        self.server.freeze()
        a, b = fresh_account(), fresh_account()
        image = self.ok(self.cli("import-workspace-image", "--ec2-image-id", "ami-0123456789abcdef0",
                                 "--ingestion-process", "BYOL_REGULAR", "--image-name", "cli-golden",
                                 "--image-description", "from the CLI", "--applications", "Microsoft_Office_2019",
                                 account=a))["ImageId"]
        listed = self.ok(self.cli("describe-workspace-images", "--image-ids", image, account=a))["Images"]
        self.assertEqual(listed[0]["State"], "PENDING")
        self.assertCliError("ResourceUnavailableException", self.cli(
            "update-workspace-image-permission", "--image-id", image, "--allow-copy-image",
            "--shared-account-id", b, account=a))
        self.assertCliError("InvalidResourceStateException", self.cli("delete-workspace-image", "--image-id", image, account=a))
        self.server.advance("1h")

        self.ok(self.cli("update-workspace-image-permission", "--image-id", image, "--allow-copy-image",
                         "--shared-account-id", b, account=a))
        perms = self.ok(self.cli("describe-workspace-image-permissions", "--image-id", image, account=a))
        self.assertEqual(perms["ImagePermissions"], [{"SharedAccountId": b}])
        shared = self.ok(self.cli("describe-workspace-images", "--image-type", "SHARED", account=b))["Images"]
        self.assertEqual([(i["ImageId"], i["OwnerAccountId"]) for i in shared], [(image, a)])
        self.assertCliError("AccessDeniedException", self.cli(
            "update-workspace-image-permission", "--image-id", image, "--allow-copy-image",
            "--shared-account-id", fresh_account(), account=b))
        self.assertCliError("AccessDeniedException", self.cli("describe-workspace-image-permissions", "--image-id", image, account=b))

        copy = self.ok(self.cli("copy-workspace-image", "--name", "cli-copy", "--source-image-id", image,
                                "--source-region", h.DEFAULT_REGION, account=b, region=OTHER_REGION))["ImageId"]
        self.assertCliError("ResourceAlreadyExistsException", self.cli(
            "copy-workspace-image", "--name", "cli-copy", "--source-image-id", image,
            "--source-region", h.DEFAULT_REGION, account=b, region=OTHER_REGION))
        self.assertCliError("ResourceNotFoundException", self.cli(
            "copy-workspace-image", "--name", "x", "--source-image-id", UNKNOWN_ID,
            "--source-region", h.DEFAULT_REGION, account=b))
        self.server.advance("10s")
        mine = self.ok(self.cli("describe-workspace-images", "--image-ids", copy, account=b, region=OTHER_REGION))["Images"]
        self.assertEqual((mine[0]["State"], mine[0]["OwnerAccountId"]), ("AVAILABLE", b))

        assoc = self.ok(self.cli("describe-image-associations", "--image-id", image,
                                 "--associated-resource-types", "APPLICATION", account=a))
        self.assertEqual(assoc["Associations"], [])
        self.assertCliError("ResourceNotFoundException", self.cli(
            "describe-image-associations", "--image-id", UNKNOWN_ID, "--associated-resource-types", "APPLICATION", account=a))

        self.assertCliError("OperationNotSupportedException", self.cli(
            "create-updated-workspace-image", "--name", "cli-updated", "--description", "updated",
            "--source-image-id", image, account=a))
        self.server.advance(UPDATE_INTERVAL)
        updated = self.ok(self.cli("create-updated-workspace-image", "--name", "cli-updated", "--description", "updated",
                                   "--source-image-id", image, account=a))["ImageId"]
        self.assertEqual(self.ok(self.cli("describe-workspace-images", "--image-ids", updated, account=a))["Images"][0]["State"], "PENDING")

        self.assertCliError("ResourceAssociatedException", self.cli("delete-workspace-image", "--image-id", image, account=a), b)
        self.ok(self.cli("update-workspace-image-permission", "--image-id", image, "--no-allow-copy-image",
                         "--shared-account-id", b, account=a))
        self.assertEqual(self.ok(self.cli("describe-workspace-images", "--image-type", "SHARED", account=b))["Images"], [])
        self.ok(self.cli("delete-workspace-image", "--image-id", image, account=a))
        self.ok(self.cli("delete-workspace-image", "--image-id", image, account=a))
        remaining = self.ok(self.cli("describe-workspace-images", account=a))["Images"]
        self.assertEqual([i["ImageId"] for i in remaining], [updated])

    def test_cli_legacy_import_errors(self):
        a = fresh_account()
        self.assertCliError("InvalidParameterValuesException", self.cli(
            "import-workspace-image", "--ec2-image-id", "ami-0123456789abcdef0", "--ingestion-process", "BYOL_REGULAR",
            "--image-name", "two-apps", "--image-description", "x",
            "--applications", "Microsoft_Office_2016", "Microsoft_Office_2019", account=a))
        self.assertCliError("OperationNotSupportedException", self.cli(
            "import-workspace-image", "--ec2-image-id", "ami-0123456789abcdef0", "--ingestion-process", "BYOL_GRAPHICS_G4DN_WSP",
            "--image-name", "gpu-office", "--image-description", "x", "--applications", "Microsoft_Office_2019",
            "--tags", json.dumps([{"Key": "wsim:os-version", "Value": "Windows_11"}]), account=a))


if __name__ == "__main__":
    unittest.main()
