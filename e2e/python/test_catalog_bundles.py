"""Issue 5, part B: bundles, tags, the account's BYOL settings and quotas,
through boto3 (with its paginators) and the AWS CLI, against a real wsim.
"""

import re
import unittest

from botocore.exceptions import ClientError

from . import wsim_harness as h

ACCOUNT = "121212121212"
OTHER = "343434343434"
BUNDLE_ID = re.compile(r"^wsb-[0-9a-z]{9}$")
CLI_SERVICE_ERROR_CODES = (254, 255)


def bundle_params(name, image_id, **overrides):
    params = {
        "BundleName": name,
        "BundleDescription": "Bundle " + name,
        "ImageId": image_id,
        "ComputeType": {"Name": "PERFORMANCE"},
        "UserStorage": {"Capacity": "100"},
        "RootStorage": {"Capacity": "80"},
    }
    params.update(overrides)
    return params


class CatalogTestCase(h.APIErrorAssertions, unittest.TestCase):
    def assertCliError(self, code, *args, account=ACCOUNT, region=h.DEFAULT_REGION):
        rc, _, err = self.server.cli(*args, account=account, region=region)
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES, err)
        self.assertIn("(%s)" % code, err)

    def import_image(self, ws, name, **overrides):
        image_id = ws.import_custom_workspace_image(**h.import_params(name, **overrides))["ImageId"]
        return image_id


class BundlesTest(CatalogTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = h.WsimServer(profile="instant", extra_args=["--bundle-quota", "30"]).start()
        cls.addClassCleanup(cls.server.stop)
        cls.ws = cls.server.client(account=ACCOUNT)

    def test_lifecycle_boto3(self):
        img1 = self.import_image(self.ws, "py-bundle-1")
        img2 = self.import_image(self.ws, "py-bundle-2")
        b = self.ws.create_workspace_bundle(**bundle_params(
            "py-life", img1, Tags=[{"Key": "team", "Value": "qa"}]))["WorkspaceBundle"]
        self.assertRegex(b["BundleId"], BUNDLE_ID)
        self.assertEqual(b["Owner"], ACCOUNT)
        self.assertEqual(b["State"], "AVAILABLE")
        self.assertEqual(b["BundleType"], "REGULAR")
        self.assertEqual(b["ComputeType"], {"Name": "PERFORMANCE"})
        self.assertEqual(b["UserStorage"], {"Capacity": "100"})
        self.assertEqual(b["RootStorage"], {"Capacity": "80"})
        self.assertEqual(b["CreationTime"], b["LastUpdatedTime"])
        self.assertEqual(self.ws.describe_tags(ResourceId=b["BundleId"])["TagList"],
                         [{"Key": "team", "Value": "qa"}])
        got = self.ws.describe_workspace_bundles(BundleIds=[b["BundleId"]])["Bundles"]
        self.assertEqual([x["BundleId"] for x in got], [b["BundleId"]])

        self.assertError("ResourceAssociatedException", self.ws.delete_workspace_image, b["BundleId"], ImageId=img1)
        self.server.advance("1m")
        self.ws.update_workspace_bundle(BundleId=b["BundleId"], ImageId=img2)
        got = self.ws.describe_workspace_bundles(BundleIds=[b["BundleId"]])["Bundles"][0]
        self.assertEqual(got["ImageId"], img2)
        self.assertGreater(got["LastUpdatedTime"], got["CreationTime"])
        self.ws.delete_workspace_image(ImageId=img1)
        self.ws.delete_workspace_bundle(BundleId=b["BundleId"])
        self.assertEqual(self.ws.describe_workspace_bundles(BundleIds=[b["BundleId"]])["Bundles"], [])
        self.ws.delete_workspace_image(ImageId=img2)

    def test_paginator_walks_every_bundle_once(self):
        ws = self.server.client(account="565656565656")
        img = self.import_image(ws, "py-paged")
        ids = sorted(ws.create_workspace_bundle(**bundle_params("p%02d" % i, img))["WorkspaceBundle"]["BundleId"]
                     for i in range(27))
        pages = list(ws.get_paginator("describe_workspace_bundles").paginate())
        self.assertEqual([len(p["Bundles"]) for p in pages], [25, 2])
        self.assertEqual([b["BundleId"] for p in pages for b in p["Bundles"]], ids)
        amazon = [b for p in ws.get_paginator("describe_workspace_bundles").paginate(Owner="AMAZON")
                  for b in p["Bundles"]]
        self.assertTrue(amazon)
        self.assertEqual({b["Owner"] for b in amazon}, {"Amazon"})

    def test_errors_boto3(self):
        ws = self.server.client(account="787878787878")
        img = self.import_image(ws, "py-errors")
        self.assertError("ResourceNotFoundException", ws.create_workspace_bundle, "wsi-000000000",
                         **bundle_params("unknown-image", "wsi-000000000"))
        failed = self.import_image(ws, "py-failed", Tags=[{"Key": "wsim:fail-at", "Value": "PUBLISHING"}])
        self.assertError("ResourceUnavailableException", ws.create_workspace_bundle, "ERROR",
                         **bundle_params("failed-image", failed))
        ws.create_workspace_bundle(**bundle_params("dup", img))
        self.assertError("ResourceAlreadyExistsException", ws.create_workspace_bundle, "dup",
                         **bundle_params("dup", img))
        self.assertError("InvalidParameterValuesException", ws.create_workspace_bundle, "root",
                         **bundle_params("bad-size", img, RootStorage={"Capacity": "90"}))
        self.assertError("InvalidParameterValuesException", ws.describe_workspace_bundles, "not both",
                         BundleIds=["wsb-bh8rsxt14"], Owner="AMAZON")
        self.assertError("InvalidParameterValuesException", ws.describe_workspace_bundles, Owner="someone")
        self.assertError("ResourceNotFoundException", ws.update_workspace_bundle,
                         BundleId="wsb-000000000", ImageId=img)
        self.assertError("ResourceNotFoundException", ws.delete_workspace_bundle, BundleId="wsb-000000000")
        self.assertError("AccessDeniedException", ws.update_workspace_bundle, BundleId="wsb-bh8rsxt14", ImageId=img)
        self.assertError("AccessDeniedException", ws.delete_workspace_bundle, BundleId="wsb-bh8rsxt14")
        self.assertError("ValidationException", ws.describe_workspace_bundles, NextToken="garbage")

    def test_quota(self):
        with h.WsimServer(profile="instant", extra_args=["--bundle-quota", "1"]) as srv:
            ws = srv.client(account=ACCOUNT)
            img = self.import_image(ws, "quota")
            ws.create_workspace_bundle(**bundle_params("one", img))
            self.assertError("ResourceLimitExceededException", ws.create_workspace_bundle, "1 bundles",
                             **bundle_params("two", img))
            other = srv.client(account=OTHER)
            other.create_workspace_bundle(**bundle_params("one", self.import_image(other, "quota")))

    def test_pending_image_is_unavailable(self):
        with h.WsimServer(profile="quick") as srv:
            srv.freeze()
            ws = srv.client(account=ACCOUNT)
            img = self.import_image(ws, "pending")
            self.assertError("ResourceUnavailableException", ws.create_workspace_bundle, "PENDING",
                             **bundle_params("early", img))
            srv.advance("2m")
            ws.create_workspace_bundle(**bundle_params("late", img))

    def test_cli(self):
        acct = "909090909090"
        rc, out, err = self.server.cli(*h.cli_import_args(h.import_params("cli-bundle")), account=acct)
        self.assertEqual(rc, 0, err)
        img = out["ImageId"]
        rc, out, err = self.server.cli(
            "create-workspace-bundle", "--bundle-name", "cli", "--bundle-description", "CLI bundle",
            "--image-id", img, "--compute-type", "Name=STANDARD", "--user-storage", "Capacity=50",
            "--tags", "Key=via,Value=cli", account=acct)
        self.assertEqual(rc, 0, err)
        bid = out["WorkspaceBundle"]["BundleId"]
        rc, out, err = self.server.cli("describe-workspace-bundles", account=acct)
        self.assertEqual(rc, 0, err)
        self.assertEqual([b["BundleId"] for b in out["Bundles"]], [bid])
        self.assertEqual(out["Bundles"][0]["RootStorage"], {"Capacity": "80"})
        rc, out, err = self.server.cli("describe-workspace-bundles", "--owner", "AMAZON", account=acct)
        self.assertEqual(rc, 0, err)
        self.assertTrue(all(b["Owner"] == "Amazon" for b in out["Bundles"]))
        img2 = self.server.cli(*h.cli_import_args(h.import_params("cli-bundle-2")), account=acct)[1]["ImageId"]
        rc, _, err = self.server.cli("update-workspace-bundle", "--bundle-id", bid, "--image-id", img2, account=acct)
        self.assertEqual(rc, 0, err)
        self.assertCliError("ResourceAlreadyExistsException", "create-workspace-bundle", "--bundle-name", "cli",
                            "--bundle-description", "again", "--image-id", img, "--compute-type", "Name=STANDARD",
                            "--user-storage", "Capacity=50", account=acct)
        self.assertCliError("ResourceNotFoundException", "update-workspace-bundle", "--bundle-id", "wsb-000000000",
                            "--image-id", img, account=acct)
        self.assertCliError("InvalidParameterValuesException", "describe-workspace-bundles", "--owner", "AMAZON",
                            "--bundle-ids", bid, account=acct)
        rc, _, err = self.server.cli("delete-workspace-bundle", "--bundle-id", bid, account=acct)
        self.assertEqual(rc, 0, err)
        self.assertCliError("ResourceNotFoundException", "delete-workspace-bundle", "--bundle-id", bid, account=acct)


class TagsTest(CatalogTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = h.WsimServer(profile="instant").start()
        cls.addClassCleanup(cls.server.stop)
        cls.ws = cls.server.client(account=ACCOUNT)
        cls.image = cls.ws.import_custom_workspace_image(
            **h.import_params("tags", Tags=[{"Key": "from", "Value": "import"}]))["ImageId"]
        cls.bundle = cls.ws.create_workspace_bundle(**bundle_params("tags", cls.image))["WorkspaceBundle"]["BundleId"]

    def test_tag_operations_boto3(self):
        for rid in (self.image, self.bundle):
            with self.subTest(resource=rid):
                self.ws.create_tags(ResourceId=rid, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
                self.ws.create_tags(ResourceId=rid, Tags=[{"Key": "a", "Value": "one"}])
                tags = {t["Key"]: t["Value"] for t in self.ws.describe_tags(ResourceId=rid)["TagList"]}
                self.assertEqual(tags["a"], "one")
                self.assertEqual(tags["b"], "2")
                self.ws.delete_tags(ResourceId=rid, TagKeys=["a", "b", "absent"])
                keys = [t["Key"] for t in self.ws.describe_tags(ResourceId=rid)["TagList"]]
                self.assertNotIn("a", keys)
                self.assertError("InvalidParameterValuesException", self.ws.create_tags, "aws:",
                                 ResourceId=rid, Tags=[{"Key": "aws:x", "Value": "y"}])
                self.assertError("InvalidParameterValuesException", self.ws.delete_tags, "aws:",
                                 ResourceId=rid, TagKeys=["aws:x"])
                room = 50 - len(keys)
                self.ws.create_tags(ResourceId=rid, Tags=[{"Key": "n%02d" % i, "Value": "v"} for i in range(room)])
                self.assertError("ResourceLimitExceededException", self.ws.create_tags, "50",
                                 ResourceId=rid, Tags=[{"Key": "extra", "Value": "v"}])
                self.ws.delete_tags(ResourceId=rid, TagKeys=["n%02d" % i for i in range(room)])
        self.assertIn({"Key": "from", "Value": "import"}, self.ws.describe_tags(ResourceId=self.image)["TagList"])

    def test_unknown_and_foreign_resources(self):
        for rid in ("wsi-000000000", "wsb-000000000", "d-9067000000", "ws-abcdefghi", "wsipg-abcdefghi"):
            self.assertError("ResourceNotFoundException", self.ws.describe_tags, rid, ResourceId=rid)
            self.assertError("ResourceNotFoundException", self.ws.create_tags, ResourceId=rid,
                             Tags=[{"Key": "k", "Value": "v"}])
            self.assertError("ResourceNotFoundException", self.ws.delete_tags, ResourceId=rid, TagKeys=["k"])
        other = self.server.client(account=OTHER)
        self.assertError("ResourceNotFoundException", other.describe_tags, ResourceId=self.bundle)
        # Shared with OTHER, the image's tags are still its owner's alone.
        self.ws.update_workspace_image_permission(ImageId=self.image, AllowCopyImage=True, SharedAccountId=OTHER)
        try:
            self.assertError("ResourceNotFoundException", other.describe_tags, ResourceId=self.image)
            other.create_workspace_bundle(**bundle_params("on-shared", self.image))
        finally:
            for b in other.describe_workspace_bundles()["Bundles"]:
                other.delete_workspace_bundle(BundleId=b["BundleId"])
            self.ws.update_workspace_image_permission(ImageId=self.image, AllowCopyImage=False, SharedAccountId=OTHER)

    def test_cli(self):
        rc, _, err = self.server.cli("create-tags", "--resource-id", self.bundle, "--tags", "Key=cli,Value=yes",
                                     account=ACCOUNT)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.server.cli("describe-tags", "--resource-id", self.bundle, account=ACCOUNT)
        self.assertEqual(rc, 0, err)
        self.assertIn({"Key": "cli", "Value": "yes"}, out["TagList"])
        rc, _, err = self.server.cli("delete-tags", "--resource-id", self.bundle, "--tag-keys", "cli", account=ACCOUNT)
        self.assertEqual(rc, 0, err)
        self.assertCliError("InvalidParameterValuesException", "create-tags", "--resource-id", self.bundle,
                            "--tags", "Key=aws:no,Value=x")
        self.assertCliError("ResourceNotFoundException", "describe-tags", "--resource-id", "wsb-000000000")


class AccountStrictTest(CatalogTestCase):
    """The whole BYOL enablement story with --byol strict."""

    @classmethod
    def setUpClass(cls):
        cls.server = h.WsimServer(profile="quick", extra_args=["--byol", "strict"]).start()
        cls.addClassCleanup(cls.server.stop)

    def test_enablement_story_boto3(self):
        ws = self.server.client(account=ACCOUNT)
        self.server.freeze()
        self.assertError("AccessDeniedException", ws.import_custom_workspace_image, "not enabled for BYOL",
                         **h.import_params("too-early"))
        self.assertError("AccessDeniedException", ws.list_available_management_cidr_ranges,
                         ManagementCidrRangeConstraint="10.0.0.0/8")
        self.assertEqual(ws.describe_account()["DedicatedTenancySupport"], "DISABLED")
        out = ws.modify_account(DedicatedTenancySupport="ENABLED", DedicatedTenancyManagementCidrRange="10.30.0.0/16")
        self.assertIn("10.30.0.0/16", out["Message"])
        mods = [m for p in ws.get_paginator("describe_account_modifications").paginate()
                for m in p["AccountModifications"]]
        self.assertEqual([(m["ModificationState"], m["DedicatedTenancyManagementCidrRange"]) for m in mods],
                         [("PENDING", "10.30.0.0/16")])
        self.assertError("InvalidResourceStateException", ws.modify_account, "in progress",
                         DedicatedTenancySupport="ENABLED", DedicatedTenancyManagementCidrRange="10.31.0.0/16")
        self.assertError("AccessDeniedException", ws.import_custom_workspace_image, **h.import_params("pending"))

        self.server.advance("5s")
        mods = ws.describe_account_modifications()["AccountModifications"]
        self.assertEqual(mods[0]["ModificationState"], "COMPLETED")
        acct = ws.describe_account()
        self.assertEqual((acct["DedicatedTenancySupport"], acct["DedicatedTenancyManagementCidrRange"]),
                         ("ENABLED", "10.30.0.0/16"))
        pages = list(ws.get_paginator("list_available_management_cidr_ranges").paginate(
            ManagementCidrRangeConstraint="10.28.0.0/14", PaginationConfig={"PageSize": 2}))
        ranges = [r for p in pages for r in p["ManagementCidrRanges"]]
        self.assertEqual(ranges, ["10.28.0.0/16", "10.29.0.0/16", "10.31.0.0/16"])
        self.assertTrue(all(len(p["ManagementCidrRanges"]) <= 2 for p in pages))
        ws.import_custom_workspace_image(**h.import_params("now-allowed"))

    def test_enablement_story_cli(self):
        acct = OTHER
        rc, _, err = self.server.cli(*h.cli_import_args(h.import_params("cli-early")), account=acct)
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES)
        self.assertIn("AccessDeniedException", err)
        self.assertCliError("AccessDeniedException", "list-available-management-cidr-ranges",
                            "--management-cidr-range-constraint", "10.0.0.0/8", account=acct)
        rc, out, err = self.server.cli("describe-account", account=acct)
        self.assertEqual((rc, out["DedicatedTenancySupport"]), (0, "DISABLED"), err)
        self.server.freeze()
        rc, out, err = self.server.cli("modify-account", "--dedicated-tenancy-support", "ENABLED",
                                       "--dedicated-tenancy-management-cidr-range", "172.20.0.0/16", account=acct)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.server.cli("describe-account-modifications", account=acct)
        self.assertEqual(out["AccountModifications"][0]["ModificationState"], "PENDING")
        self.server.advance("10s")
        rc, out, err = self.server.cli("describe-account-modifications", account=acct)
        self.assertEqual(out["AccountModifications"][0]["ModificationState"], "COMPLETED")
        rc, out, err = self.server.cli("list-available-management-cidr-ranges",
                                       "--management-cidr-range-constraint", "172.20.0.0/15", account=acct)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["ManagementCidrRanges"], ["172.21.0.0/16"])
        rc, _, err = self.server.cli(*h.cli_import_args(h.import_params("cli-late")), account=acct)
        self.assertEqual(rc, 0, err)


class AccountFriendlyTest(CatalogTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = h.WsimServer(profile="instant").start()
        cls.addClassCleanup(cls.server.stop)

    def test_friendly_defaults_and_errors(self):
        ws = self.server.client(account=ACCOUNT)
        acct = ws.describe_account()
        self.assertEqual((acct["DedicatedTenancySupport"], acct["DedicatedTenancyManagementCidrRange"]),
                         ("ENABLED", "10.0.0.0/16"))
        self.assertEqual(ws.describe_account_modifications()["AccountModifications"], [])
        ws.import_custom_workspace_image(**h.import_params("friendly"))
        self.assertError("InvalidResourceStateException", ws.modify_account, "already enabled",
                         DedicatedTenancySupport="ENABLED", DedicatedTenancyManagementCidrRange="10.0.0.0/16")
        self.assertError("InvalidParameterValuesException", ws.modify_account, "not available",
                         DedicatedTenancySupport="ENABLED", DedicatedTenancyManagementCidrRange="11.0.0.0/16")
        self.assertError("ValidationException", ws.modify_account,
                         DedicatedTenancySupport="ENABLED", DedicatedTenancyManagementCidrRange="10.0.0.0/24")
        self.assertError("InvalidParameterValuesException", ws.list_available_management_cidr_ranges, "/16",
                         ManagementCidrRangeConstraint="10.0.0.0/17")
        self.assertEqual(ws.list_available_management_cidr_ranges(
            ManagementCidrRangeConstraint="10.0.0.0/8")["ManagementCidrRanges"],
            ["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "10.4.0.0/16", "10.5.0.0/16"])

    def test_history_paginator_newest_first(self):
        ws = self.server.client(account="676767676767")
        want = []
        for i in range(1, 13):
            cidr = "10.%d.0.0/16" % i
            ws.modify_account(DedicatedTenancySupport="ENABLED", DedicatedTenancyManagementCidrRange=cidr)
            self.server.advance("1s")
            want.insert(0, cidr)
        pages = list(ws.get_paginator("describe_account_modifications").paginate())
        self.assertGreater(len(pages), 1)
        got = [m["DedicatedTenancyManagementCidrRange"] for p in pages for m in p["AccountModifications"]]
        self.assertEqual(got, want)
        self.assertEqual(ws.describe_account()["DedicatedTenancyManagementCidrRange"], "10.12.0.0/16")

    def test_failed_modification_by_fault_rule(self):
        ws = self.server.client(account="898989898989")
        self.server.add_fault(kind="account-modification", namePattern="100.64.*/16", failAt="PENDING")
        try:
            ws.modify_account(DedicatedTenancySupport="ENABLED", DedicatedTenancyManagementCidrRange="100.64.0.0/16")
        finally:
            self.server.delete_fault()
        m = ws.describe_account_modifications()["AccountModifications"][0]
        self.assertEqual(m["ModificationState"], "FAILED")
        self.assertTrue(m["ErrorCode"])
        self.assertTrue(m["ErrorMessage"])
        self.assertEqual(ws.describe_account()["DedicatedTenancyManagementCidrRange"], "10.0.0.0/16")
