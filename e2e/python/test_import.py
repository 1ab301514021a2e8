"""Issue 3: ImportCustomWorkspaceImage and DescribeCustomWorkspaceImageImport,
with the full pipeline, through boto3 and the AWS CLI.

Time is driven through wsim's clock (/_wsim/clock); nothing here sleeps for
service time to pass.
"""

import datetime
import itertools
import json
import re
import unittest
import urllib.request

from botocore.exceptions import ClientError

from . import wsim_harness as h

STAGES = [
    "PENDING", "IN_PROGRESS", "PROCESSING_SOURCE_IMAGE", "IMAGE_TESTING_START",
    "UPDATING_OPERATING_SYSTEM", "IMAGE_COMPATIBILITY_CHECKING",
    "IMAGE_TESTING_GENERALIZATION", "CREATING_TEST_INSTANCE", "INSTALLING_COMPONENTS",
    "GENERALIZING", "VALIDATING", "PUBLISHING",
]
ALL_STATES = STAGES + ["COMPLETED"]
BUILDER_FROM = STAGES.index("IMAGE_TESTING_START")

IMAGE_ID = re.compile(r"^wsi-[0-9a-z]{9}$")
INSTANCE_ID = re.compile(r"^i-[0-9a-f]{17}$")
DESCRIBE_MEMBERS = {
    "ImageId", "InfrastructureConfigurationArn", "State", "StateMessage",
    "ProgressPercentage", "Created", "LastUpdatedTime", "ImageSource",
    "ImageBuilderInstanceId", "ErrorDetails",
}
CLI_SERVICE_ERROR_CODES = (254, 255)

_accounts = itertools.count(1)


def fresh_account():
    """A 12-digit account no other test uses, so tests sharing a server never
    see each other's images."""
    return "4%011d" % next(_accounts)


def ts(value):
    """Epoch seconds of a boto3 datetime or a CLI number."""
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


class ImportTestBase(h.ServerTestCase):

    def new_client(self, region=h.DEFAULT_REGION):
        account = fresh_account()
        return account, self.server.client(account=account, region=region)

    def assertClientError(self, code, call, *args, **kwargs):
        with self.assertRaises(ClientError) as cm:
            call(*args, **kwargs)
        got, message, status = h.error_of(cm.exception)
        self.assertEqual(got, code, message)
        self.assertEqual(status, 400)
        self.assertTrue(message, "the error has no message")
        return cm.exception

    def catalogue_entry(self, ws, image_id):
        images = ws.describe_workspace_images(ImageIds=[image_id])["Images"]
        self.assertEqual(len(images), 1, images)
        return images[0]

    def assertFailed(self, desc, stage, code=None, message=None):
        """desc is a describe of an import that failed during stage."""
        self.assertEqual(desc["State"], "ERROR")
        self.assertLess(desc["ProgressPercentage"], 100)
        self.assertIn(stage, desc["StateMessage"])
        details = desc.get("ErrorDetails")
        self.assertTrue(details, "ERROR without ErrorDetails")
        self.assertTrue(details[0]["ErrorCode"])
        self.assertTrue(details[0]["ErrorMessage"])
        if code is not None:
            self.assertEqual(details[0]["ErrorCode"], code)
        if message is not None:
            self.assertEqual(details[0]["ErrorMessage"], message)
        if STAGES.index(stage) >= BUILDER_FROM:
            self.assertRegex(desc.get("ImageBuilderInstanceId", ""), INSTANCE_ID)
        else:
            self.assertNotIn("ImageBuilderInstanceId", desc)

    def assertCatalogueError(self, entry, desc):
        detail = desc["ErrorDetails"][0]
        self.assertEqual(entry["State"], "ERROR")
        self.assertEqual(entry["ErrorCode"], detail["ErrorCode"])
        self.assertEqual(entry["ErrorMessage"], detail["ErrorMessage"])
        self.assertEqual(entry["ErrorDetails"],
                         [{"ErrorCode": detail["ErrorCode"], "ErrorMessage": detail["ErrorMessage"]}])


class InstantImportTest(ImportTestBase):
    """The instant profile: every import completes (or fails) at creation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        model = cls.server.client().meta.service_model
        cls.error_codes = set(model.shape_for("WorkspaceImageErrorDetailCode").enum)
        cls.model_states = model.shape_for("CustomWorkspaceImageImportState").enum

    def test_stage_list_matches_the_model(self):
        self.assertEqual(self.model_states, ALL_STATES + ["ERROR"])

    def test_lifecycle(self):
        account, ws = self.new_client()
        params = h.import_params("lifecycle-1", Tags=[{"Key": "team", "Value": "e2e"}])
        out = ws.import_custom_workspace_image(**params)
        self.assertRegex(out["ImageId"], IMAGE_ID)
        self.assertEqual(out["State"], "PENDING")
        image_id = out["ImageId"]

        desc = ws.describe_custom_workspace_image_import(ImageId=image_id)
        self.assertEqual(desc["ImageId"], image_id)
        self.assertEqual(desc["State"], "COMPLETED")
        self.assertEqual(desc["ProgressPercentage"], 100)
        self.assertTrue(desc["StateMessage"])
        self.assertEqual(desc["ImageSource"], params["ImageSource"])
        self.assertEqual(desc["InfrastructureConfigurationArn"], params["InfrastructureConfigurationArn"])
        self.assertRegex(desc["ImageBuilderInstanceId"], INSTANCE_ID)
        self.assertNotIn("ErrorDetails", desc)
        self.assertGreaterEqual(ts(desc["LastUpdatedTime"]), ts(desc["Created"]))
        self.assertLessEqual(abs(ts(desc["Created"]) - self.server.now()), 60)

        entry = self.catalogue_entry(ws, image_id)
        self.assertEqual(entry["State"], "AVAILABLE")
        self.assertEqual(entry["Name"], "lifecycle-1")
        self.assertEqual(entry["Description"], params["ImageDescription"])
        self.assertEqual(entry["OperatingSystem"], {"Type": "WINDOWS"})
        self.assertEqual(entry["RequiredTenancy"], "DEDICATED")
        self.assertEqual(entry["OwnerAccountId"], account)
        self.assertEqual(ts(entry["Created"]), ts(desc["Created"]))
        for absent in ("ErrorCode", "ErrorMessage", "ErrorDetails"):
            self.assertNotIn(absent, entry)

        owned = ws.describe_workspace_images(ImageType="OWNED")["Images"]
        self.assertEqual([i["ImageId"] for i in owned], [image_id])
        self.assertEqual(ws.describe_workspace_images(ImageType="SHARED")["Images"], [])
        self.assertEqual([i["ImageId"] for i in ws.describe_workspace_images()["Images"]], [image_id])

    def test_every_image_source_kind_comes_back_as_given(self):
        _, ws = self.new_client()
        sources = {
            "ec2-image": {"Ec2ImageId": "ami-0123abcd"},
            "import-task": {"Ec2ImportTaskId": "import-ami-0123456789abcdef0"},
            "builder-version": {"ImageBuildVersionArn":
                                "arn:aws:imagebuilder:us-east-1:111122223333:image/win11-golden/1.0.2/3"},
        }
        for name, source in sources.items():
            with self.subTest(source=source):
                image_id = ws.import_custom_workspace_image(**h.import_params(name, ImageSource=source))["ImageId"]
                desc = ws.describe_custom_workspace_image_import(ImageId=image_id)
                self.assertEqual(desc["ImageSource"], source)

    def test_ids_are_unique(self):
        _, ws = self.new_client()
        ids = [ws.import_custom_workspace_image(**h.import_params("uniq-%d" % i))["ImageId"] for i in range(12)]
        self.assertEqual(len(set(ids)), len(ids))
        for image_id in ids:
            self.assertRegex(image_id, IMAGE_ID)

    def test_windows_10_with_pcoip_is_accepted(self):
        _, ws = self.new_client()
        out = ws.import_custom_workspace_image(**h.import_params("w10-pcoip", OsVersion="Windows_10", Protocol="PCOIP"))
        self.assertEqual(out["State"], "PENDING")

    # -- failures ---------------------------------------------------------------

    def test_fail_at_every_stage(self):
        _, ws = self.new_client()
        for stage in STAGES:
            with self.subTest(stage=stage):
                params = h.import_params("fail-" + stage.lower().replace("_", "-"),
                                         Tags=[{"Key": "wsim:fail-at", "Value": stage}])
                out = ws.import_custom_workspace_image(**params)
                self.assertEqual(out["State"], "PENDING")
                desc = ws.describe_custom_workspace_image_import(ImageId=out["ImageId"])
                self.assertFailed(desc, stage)
                self.assertIn(desc["ErrorDetails"][0]["ErrorCode"], self.error_codes)
                self.assertEqual(desc["ImageSource"], params["ImageSource"])
                self.assertCatalogueError(self.catalogue_entry(ws, out["ImageId"]), desc)

    def test_fail_with_custom_code_and_message(self):
        _, ws = self.new_client()
        code, message = "AntiVirusInstalled", "Remove the antivirus from the golden image, then retry."
        out = ws.import_custom_workspace_image(**h.import_params("custom-failure", Tags=[
            {"Key": "wsim:fail-at", "Value": "GENERALIZING"},
            {"Key": "wsim:error-code", "Value": code},
            {"Key": "wsim:error-message", "Value": message},
        ]))
        desc = ws.describe_custom_workspace_image_import(ImageId=out["ImageId"])
        self.assertFailed(desc, "GENERALIZING", code=code, message=message)
        self.assertEqual(desc["ErrorDetails"], [{"ErrorCode": code, "ErrorMessage": message}])
        self.assertCatalogueError(self.catalogue_entry(ws, out["ImageId"]), desc)

    def test_custom_code_outside_the_enum(self):
        _, ws = self.new_client()
        out = ws.import_custom_workspace_image(**h.import_params("custom-code", Tags=[
            {"Key": "wsim:fail-at", "Value": "VALIDATING"},
            {"Key": "wsim:error-code", "Value": "SomethingAwsMayAddLater"},
        ]))
        desc = ws.describe_custom_workspace_image_import(ImageId=out["ImageId"])
        self.assertFailed(desc, "VALIDATING", code="SomethingAwsMayAddLater")

    def test_invalid_failure_tags(self):
        _, ws = self.new_client()
        cases = {
            "unknown-stage": [{"Key": "wsim:fail-at", "Value": "NOPE"}],
            "final-state": [{"Key": "wsim:fail-at", "Value": "COMPLETED"}],
            "code-without-stage": [{"Key": "wsim:error-code", "Value": "OSNotSupported"}],
        }
        for name, tags in cases.items():
            with self.subTest(case=name):
                self.assertClientError("InvalidParameterValuesException",
                                       ws.import_custom_workspace_image, **h.import_params(name, Tags=tags))
        self.assertEqual(ws.describe_workspace_images()["Images"], [])

    def test_fault_rules(self):
        account, ws = self.new_client()
        self.addCleanup(self.server.delete_fault)
        by_name = self.server.add_fault(account=account, namePattern="faulty-*", failAt="INSTALLING_COMPONENTS",
                                        errorCode="OfficeInstalled", errorMessage="Office is installed.")
        self.assertTrue(by_name["id"])
        self.server.add_fault(account=account, sourceId="ami-0badbadbadbadbad0", failAt="IN_PROGRESS")
        self.server.add_fault(account=account, region="eu-west-1", failAt="PUBLISHING")
        self.assertEqual(len(self.server.faults()), 3)

        out = ws.import_custom_workspace_image(**h.import_params("faulty-one"))
        desc = ws.describe_custom_workspace_image_import(ImageId=out["ImageId"])
        self.assertFailed(desc, "INSTALLING_COMPONENTS", code="OfficeInstalled", message="Office is installed.")
        self.assertCatalogueError(self.catalogue_entry(ws, out["ImageId"]), desc)

        out = ws.import_custom_workspace_image(**h.import_params(
            "bad-source", ImageSource={"Ec2ImageId": "ami-0badbadbadbadbad0"}))
        desc = ws.describe_custom_workspace_image_import(ImageId=out["ImageId"])
        self.assertFailed(desc, "IN_PROGRESS")
        self.assertIn(desc["ErrorDetails"][0]["ErrorCode"], self.error_codes)

        out = ws.import_custom_workspace_image(**h.import_params("healthy"))
        self.assertEqual(ws.describe_custom_workspace_image_import(ImageId=out["ImageId"])["State"], "COMPLETED")

        eu = self.server.client(account=account, region="eu-west-1")
        out = eu.import_custom_workspace_image(**h.import_params("healthy"))
        self.assertFailed(eu.describe_custom_workspace_image_import(ImageId=out["ImageId"]), "PUBLISHING")

        # Another account matches none of the rules.
        _, other = self.new_client()
        out = other.import_custom_workspace_image(**h.import_params("faulty-one"))
        self.assertEqual(other.describe_custom_workspace_image_import(ImageId=out["ImageId"])["State"], "COMPLETED")

        # Deleting one rule by id stops it from matching.
        self.server.delete_fault(by_name["id"])
        self.assertEqual(len(self.server.faults()), 2)
        out = ws.import_custom_workspace_image(**h.import_params("faulty-two"))
        self.assertEqual(ws.describe_custom_workspace_image_import(ImageId=out["ImageId"])["State"], "COMPLETED")

    def test_tags_take_precedence_over_fault_rules(self):
        account, ws = self.new_client()
        self.addCleanup(self.server.delete_fault)
        self.server.add_fault(account=account, failAt="PUBLISHING", errorCode="UnknownError")
        out = ws.import_custom_workspace_image(**h.import_params("tagged", Tags=[
            {"Key": "wsim:fail-at", "Value": "PENDING"}, {"Key": "wsim:error-code", "Value": "DHCPDisabled"}]))
        self.assertFailed(ws.describe_custom_workspace_image_import(ImageId=out["ImageId"]),
                          "PENDING", code="DHCPDisabled")

    def test_invalid_fault_rule_is_refused(self):
        for rule in ({"failAt": "NOPE"}, {"failAt": "PENDING", "account": "12"}, {"failAt": "PENDING", "bogus": 1}):
            with self.subTest(rule=rule):
                status, body = self.server.control("POST", "faults", rule)
                self.assertEqual(status, 400, body)
                self.assertTrue(body.get("error"))

    # -- errors -------------------------------------------------------------------

    def test_duplicate_name(self):
        _, ws = self.new_client()
        ws.import_custom_workspace_image(**h.import_params("dup-name"))
        self.assertClientError("ResourceAlreadyExistsException",
                               ws.import_custom_workspace_image, **h.import_params("dup-name"))
        self.assertEqual(len(ws.describe_workspace_images()["Images"]), 1)

    def test_duplicate_name_of_a_failed_import(self):
        _, ws = self.new_client()
        ws.import_custom_workspace_image(**h.import_params("dup-failed", Tags=[{"Key": "wsim:fail-at", "Value": "PENDING"}]))
        self.assertClientError("ResourceAlreadyExistsException",
                               ws.import_custom_workspace_image, **h.import_params("dup-failed"))

    def test_windows_11_with_pcoip(self):
        _, ws = self.new_client()
        self.assertClientError("OperationNotSupportedException", ws.import_custom_workspace_image,
                               **h.import_params("w11-pcoip", OsVersion="Windows_11", Protocol="PCOIP"))
        self.assertEqual(ws.describe_workspace_images()["Images"], [])

    def test_reserved_tag_key(self):
        _, ws = self.new_client()
        for key in ("aws:createdBy", "AWS:team"):
            with self.subTest(key=key):
                self.assertClientError("InvalidParameterValuesException", ws.import_custom_workspace_image,
                                       **h.import_params("aws-tag", Tags=[{"Key": key, "Value": "x"}]))
        self.assertEqual(ws.describe_workspace_images()["Images"], [])

    def test_tag_limit(self):
        _, ws = self.new_client()
        tags = [{"Key": "k%d" % i, "Value": "v"} for i in range(50)]
        ws.import_custom_workspace_image(**h.import_params("fifty-tags", Tags=tags))
        with self.assertRaises(ClientError) as cm:
            ws.import_custom_workspace_image(**h.import_params("fifty-one-tags", Tags=tags + [{"Key": "k50", "Value": "v"}]))
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_malformed_id(self):
        _, ws = self.new_client()
        for bad in ("nope", "wsi-short", "wsi-UPPERCASE123"):
            with self.subTest(image_id=bad):
                exc = self.assertClientError("ValidationException",
                                             ws.describe_custom_workspace_image_import, ImageId=bad)
                self.assertIn("'imageId'", h.error_of(exc)[1])

    def test_unknown_id(self):
        _, ws = self.new_client()
        exc = self.assertClientError("ResourceNotFoundException",
                                     ws.describe_custom_workspace_image_import, ImageId="wsi-000000000")
        self.assertIn("wsi-000000000", h.error_of(exc)[1])
        self.assertEqual(exc.response.get("ResourceId"), "wsi-000000000")

    def test_isolation_between_accounts_and_regions(self):
        account_a, a_east = self.new_client()
        out = a_east.import_custom_workspace_image(**h.import_params("shared-name"))
        image_id = out["ImageId"]

        _, b_east = self.new_client()
        a_west = self.server.client(account=account_a, region="us-west-2")
        for who, ws in (("other account", b_east), ("other Region", a_west)):
            with self.subTest(caller=who):
                self.assertClientError("ResourceNotFoundException",
                                       ws.describe_custom_workspace_image_import, ImageId=image_id)
                self.assertEqual(ws.describe_workspace_images()["Images"], [])
                self.assertEqual(ws.describe_workspace_images(ImageIds=[image_id])["Images"], [])
                # Names are unique per account and Region only.
                other = ws.import_custom_workspace_image(**h.import_params("shared-name"))
                self.assertNotEqual(other["ImageId"], image_id)
                self.assertEqual(ws.describe_custom_workspace_image_import(ImageId=other["ImageId"])["State"],
                                 "COMPLETED")
                self.assertEqual(len(ws.describe_workspace_images()["Images"]), 1)
        self.assertEqual([i["ImageId"] for i in a_east.describe_workspace_images()["Images"]], [image_id])

    # -- the catalogue ------------------------------------------------------------

    def test_paginator(self):
        _, ws = self.new_client()
        created = {ws.import_custom_workspace_image(**h.import_params("page-%d" % i))["ImageId"] for i in range(5)}
        pages = list(ws.get_paginator("describe_workspace_images").paginate(PaginationConfig={"PageSize": 2}))
        self.assertEqual([len(p["Images"]) for p in pages], [2, 2, 1])
        seen = [i["ImageId"] for p in pages for i in p["Images"]]
        self.assertEqual(sorted(seen), sorted(created))
        self.assertNotIn("NextToken", pages[-1])

        full = ws.get_paginator("describe_workspace_images").paginate().build_full_result()
        self.assertEqual(sorted(i["ImageId"] for i in full["Images"]), sorted(created))

    def test_image_ids_filter_honours_max_results(self):
        # MaxResults bounds every page, with or without ImageIds, and the
        # paginator then yields each requested image exactly once.
        _, ws = self.new_client()
        ids = [ws.import_custom_workspace_image(**h.import_params("ids-page-%d" % i))["ImageId"] for i in range(5)]
        requested = [ids[3], ids[0], ids[4], ids[1], ids[2]]  # not in id order
        first = ws.describe_workspace_images(ImageIds=requested, MaxResults=2)
        self.assertLessEqual(len(first["Images"]), 2, "MaxResults=2 returned %d images" % len(first["Images"]))
        pages = list(ws.get_paginator("describe_workspace_images").paginate(
            ImageIds=requested, PaginationConfig={"PageSize": 2}))
        seen = [i["ImageId"] for p in pages for i in p["Images"]]
        self.assertEqual(sorted(seen), sorted(ids))
        for p in pages:
            self.assertLessEqual(len(p["Images"]), 2)

    def test_bad_next_token(self):
        _, ws = self.new_client()
        self.assertClientError("ValidationException", ws.describe_workspace_images, NextToken="garbage!")

    def test_image_ids_filter(self):
        _, ws = self.new_client()
        ids = [ws.import_custom_workspace_image(**h.import_params("filter-%d" % i))["ImageId"] for i in range(3)]
        got = ws.describe_workspace_images(ImageIds=[ids[2], ids[0], "wsi-000000000"])["Images"]
        self.assertEqual(sorted(i["ImageId"] for i in got), sorted([ids[0], ids[2]]))
        # An id asked for twice is listed once.
        got = ws.describe_workspace_images(ImageIds=[ids[1], ids[1]])["Images"]
        self.assertEqual([i["ImageId"] for i in got], [ids[1]])


class ImportCliTest(ImportTestBase):
    """The lifecycle through `aws workspaces`."""

    def cli(self, *args, **kw):
        return self.server.cli(*args, account=self.account, **kw)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = fresh_account()

    def test_lifecycle_and_every_member(self):
        params = h.import_params("cli-lifecycle", ImageSource={"Ec2ImportTaskId": "import-ami-0123abcd"})
        rc, out, err = self.cli(*h.cli_import_args(params))
        self.assertEqual(rc, 0, err)
        self.assertRegex(out["ImageId"], IMAGE_ID)
        self.assertEqual(out["State"], "PENDING")

        rc, desc, err = self.cli("describe-custom-workspace-image-import", "--image-id", out["ImageId"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(set(desc), DESCRIBE_MEMBERS - {"ErrorDetails"})
        self.assertEqual(desc["State"], "COMPLETED")
        self.assertEqual(desc["ProgressPercentage"], 100)
        self.assertEqual(desc["ImageSource"], params["ImageSource"])
        self.assertEqual(desc["InfrastructureConfigurationArn"], params["InfrastructureConfigurationArn"])
        self.assertRegex(desc["ImageBuilderInstanceId"], INSTANCE_ID)
        self.assertGreater(ts(desc["Created"]), 0)
        self.assertGreaterEqual(ts(desc["LastUpdatedTime"]), ts(desc["Created"]))

        rc, images, err = self.cli("describe-workspace-images", "--image-ids", out["ImageId"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(images["Images"][0]["State"], "AVAILABLE")
        self.assertEqual(images["Images"][0]["OwnerAccountId"], self.account)

    def test_failed_import_has_every_member(self):
        params = h.import_params("cli-failure", Tags=[
            {"Key": "wsim:fail-at", "Value": "PUBLISHING"}, {"Key": "wsim:error-code", "Value": "UnknownError"}])
        rc, out, err = self.cli(*h.cli_import_args(params))
        self.assertEqual(rc, 0, err)
        rc, desc, err = self.cli("describe-custom-workspace-image-import", "--image-id", out["ImageId"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(set(desc), DESCRIBE_MEMBERS)
        self.assertFailed(desc, "PUBLISHING", code="UnknownError")

    def test_errors(self):
        rc, out, err = self.cli(*h.cli_import_args(h.import_params("cli-w11", Protocol="PCOIP")))
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES, err)
        self.assertIn("OperationNotSupportedException", err)
        rc, out, err = self.cli("describe-custom-workspace-image-import", "--image-id", "wsi-000000000")
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES, err)
        self.assertIn("ResourceNotFoundException", err)
        rc, out, err = self.cli("describe-custom-workspace-image-import", "--image-id", "nope")
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES, err)
        self.assertIn("ValidationException", err)

    def test_cli_pagination(self):
        account = fresh_account()
        ws = self.server.client(account=account)
        created = {ws.import_custom_workspace_image(**h.import_params("cli-page-%d" % i))["ImageId"] for i in range(5)}
        rc, out, err = self.server.cli("describe-workspace-images", "--page-size", "2", account=account)
        self.assertEqual(rc, 0, err)
        seen = [i["ImageId"] for i in out["Images"]]
        self.assertEqual(sorted(seen), sorted(created))
        self.assertEqual(len([l for l in self.server.request_log_lines("DescribeWorkspaceImages")
                              if "account=%s" % account in l]), 3)


class ImportQuotaTest(ImportTestBase):
    extra_args = ("--image-quota", "2")

    def test_quota(self):
        account, ws = self.new_client()
        ws.import_custom_workspace_image(**h.import_params("quota-1"))
        ws.import_custom_workspace_image(**h.import_params("quota-2", Tags=[{"Key": "wsim:fail-at", "Value": "PENDING"}]))
        self.assertClientError("ResourceLimitExceededException",
                               ws.import_custom_workspace_image, **h.import_params("quota-3"))
        self.assertEqual(len(ws.describe_workspace_images()["Images"]), 2)
        # The quota is per account and Region.
        west = self.server.client(account=account, region="us-west-2")
        west.import_custom_workspace_image(**h.import_params("quota-3"))
        _, other = self.new_client()
        other.import_custom_workspace_image(**h.import_params("quota-3"))

    def test_quota_cli(self):
        account = fresh_account()
        for i in range(2):
            rc, _, err = self.server.cli(*h.cli_import_args(h.import_params("cli-quota-%d" % i)), account=account)
            self.assertEqual(rc, 0, err)
        rc, out, err = self.server.cli(*h.cli_import_args(h.import_params("cli-quota-2")), account=account)
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES, err)
        self.assertIn("ResourceLimitExceededException", err)


class ClockControlTest(ImportTestBase):
    """/_wsim/clock read, freeze, advance, set and reset, and what an import
    sees of them."""

    profile = "realistic"

    def test_clock_controls(self):
        server = self.server
        self.assertFalse(server.clock()["frozen"])
        frozen = server.freeze()
        self.assertTrue(frozen["frozen"])
        self.assertEqual(server.clock()["epoch"], frozen["epoch"])

        _, ws = self.new_client()
        image_id = ws.import_custom_workspace_image(**h.import_params("clock"))["ImageId"]
        created = ts(ws.describe_custom_workspace_image_import(ImageId=image_id)["Created"])
        self.assertAlmostEqual(created, frozen["epoch"], delta=0.002)

        advanced = server.advance("90m")
        self.assertAlmostEqual(advanced["epoch"] - frozen["epoch"], 5400, delta=0.002)
        self.assertTrue(advanced["frozen"])
        mid = ws.describe_custom_workspace_image_import(ImageId=image_id)
        self.assertNotIn(mid["State"], ("PENDING", "COMPLETED", "ERROR"))

        # Moving backwards is refused and leaves the clock as it was (a
        # frozen clock's offsetSeconds, its distance from real time, falls
        # as real time passes).
        def still(clock):
            return {k: v for k, v in clock.items() if k != "offsetSeconds"}
        for body in ({"action": "set", "to": "2001-01-01T00:00:00Z"}, {"action": "advance", "by": "-5m"},
                     {"action": "advance", "by": "2000000h"}, {"action": "set", "to": "9999-12-31T23:59:59Z"}):
            status, out = server.control("POST", "clock", body)
            self.assertEqual(status, 400, out)
            self.assertEqual(still(server.clock()), still(advanced))
        for body in ({"action": "jump"}, {"action": "advance", "by": "soon"}, {"action": "freeze", "typo": 1}):
            status, out = server.control("POST", "clock", body)
            self.assertEqual(status, 400, out)
        self.assertEqual(still(server.clock()), still(advanced))


        later = datetime.datetime.fromtimestamp(frozen["epoch"] + 6 * 3600, datetime.timezone.utc)
        state = server.set_clock(later.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        self.assertAlmostEqual(state["epoch"], frozen["epoch"] + 6 * 3600, delta=0.002)
        done = ws.describe_custom_workspace_image_import(ImageId=image_id)
        self.assertEqual(done["State"], "COMPLETED")
        self.assertEqual(self.catalogue_entry(ws, image_id)["State"], "AVAILABLE")

        resumed = server.resume()
        self.assertFalse(resumed["frozen"])
        self.assertGreaterEqual(server.now(), state["epoch"])
        # The clock is hours ahead of real time: reset keeps it running from
        # where it stands (it never moves back) and says so.
        before = server.now()
        reset = server.reset_clock()
        self.assertFalse(reset["frozen"])
        self.assertGreaterEqual(reset["epoch"], before)
        self.assertGreater(reset["offsetSeconds"], 5 * 3600)
        self.assertIn("would move it back", reset["note"])
        self.assertEqual(ws.describe_custom_workspace_image_import(ImageId=image_id)["State"], "COMPLETED")



class MotoResetTest(ImportTestBase):
    """POST /moto-api/reset, as moto's server mode serves it."""

    def test_moto_reset(self):
        """moto's server-mode decorator posts /moto-api/reset with no body:
        wsim empties everything and answers as moto does."""
        _, ws = self.new_client()
        image_id = ws.import_custom_workspace_image(**h.import_params("moto"))["ImageId"]
        req = urllib.request.Request(self.server.url + "/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.read()), {"status": "ok"})
        with self.assertRaises(ws.exceptions.ResourceNotFoundException):
            ws.describe_custom_workspace_image_import(ImageId=image_id)
        # The same import runs again.
        ws.import_custom_workspace_image(**h.import_params("moto"))


class WalkMixin:
    """Walks an import through its states on a frozen clock."""

    STEP_SECONDS = 60
    LIMIT_SECONDS = 6 * 3600

    def walk(self, ws, image_id, created, server=None, step=None):
        """Advances the clock a step at a time until the import is done and
        returns the observations: (clock epoch, describe, catalogue entry)."""
        server = server or self.server
        step = step or self.STEP_SECONDS
        observations = []
        now = server.now()
        while True:
            desc = ws.describe_custom_workspace_image_import(ImageId=image_id)
            entry = self.catalogue_entry(ws, image_id)
            observations.append((now, desc, entry))
            if desc["State"] in ("COMPLETED", "ERROR"):
                return observations
            self.assertLess(now - created, self.LIMIT_SECONDS, "the import never finished")
            now = server.advance("%ds" % step)["epoch"]

    def check_walk(self, observations, created):
        """Invariants of every walk; returns the states in the order seen."""
        seen = []
        prev_time, prev_desc, instance = None, None, None
        for t, desc, entry in observations:
            state = desc["State"]
            where = "at +%ds in %s" % (t - created, state)
            self.assertAlmostEqual(ts(desc["Created"]), created, delta=0.002, msg=where)
            self.assertTrue(desc["StateMessage"], where)
            progress = desc["ProgressPercentage"]
            self.assertTrue(0 <= progress <= 100, where)
            self.assertEqual(progress == 100, state == "COMPLETED", where)
            if state == "ERROR":
                self.assertTrue(desc.get("ErrorDetails"), where)
            else:
                self.assertNotIn("ErrorDetails", desc, where)
            self.assertEqual(entry["State"], {"COMPLETED": "AVAILABLE", "ERROR": "ERROR"}.get(state, "PENDING"), where)
            self.assertAlmostEqual(ts(entry["Created"]), created, delta=0.002, msg=where)
            updated = ts(desc["LastUpdatedTime"])
            if prev_desc is None:
                self.assertEqual(state, "PENDING")
                self.assertAlmostEqual(updated, created, delta=0.002, msg=where)
            else:
                self.assertGreaterEqual(progress, prev_desc["ProgressPercentage"], where)
                if state == prev_desc["State"]:
                    self.assertEqual(desc["LastUpdatedTime"], prev_desc["LastUpdatedTime"], where)
                else:
                    # The change happened after the previous look and no later than now.
                    self.assertGreater(updated, prev_time + 0.0005, where)
                    self.assertLessEqual(updated, t + 0.0005, where)
            has_instance = "ImageBuilderInstanceId" in desc
            if state in STAGES:
                self.assertEqual(has_instance, STAGES.index(state) >= BUILDER_FROM, where)
            if has_instance:
                self.assertRegex(desc["ImageBuilderInstanceId"], INSTANCE_ID)
                if instance is not None:
                    self.assertEqual(desc["ImageBuilderInstanceId"], instance, where)
                instance = desc["ImageBuilderInstanceId"]
            if not seen or seen[-1] != state:
                seen.append(state)
            prev_time, prev_desc = t, desc
        return seen


class RealisticClockTest(WalkMixin, ImportTestBase):
    """The realistic profile on a frozen clock advanced in steps: every state
    is observed in order."""

    profile = "realistic"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        state = cls.server.freeze()
        assert state["frozen"], state

    def test_every_state_in_order(self):
        _, ws = self.new_client()
        created = self.server.now()
        params = h.import_params("realistic-walk")
        out = ws.import_custom_workspace_image(**params)
        self.assertEqual(out["State"], "PENDING")

        observations = self.walk(ws, out["ImageId"], created)
        seen = self.check_walk(observations, created)
        self.assertEqual(seen, ALL_STATES)
        # A sentence of its own for every state.
        messages = {o[1]["State"]: o[1]["StateMessage"] for o in observations}
        self.assertEqual(len(set(messages.values())), len(ALL_STATES), messages)

        last = observations[-1][1]
        self.assertEqual(last["ProgressPercentage"], 100)
        self.assertEqual(last["ImageSource"], params["ImageSource"])
        total = ts(last["LastUpdatedTime"]) - created
        self.assertTrue(2 * 3600 <= total <= 3 * 3600, "realistic import took %ds" % total)
        # Progress moves with time, not only at state changes.
        self.assertGreater(len({o[1]["ProgressPercentage"] for o in observations}), len(ALL_STATES))

        # Nothing changes once COMPLETED.
        self.server.advance("24h")
        again = ws.describe_custom_workspace_image_import(ImageId=out["ImageId"])
        for member in ("State", "ProgressPercentage", "LastUpdatedTime", "Created", "ImageBuilderInstanceId"):
            self.assertEqual(again[member], last[member], member)

    def test_frozen_clock_stands_still(self):
        _, ws = self.new_client()
        out = ws.import_custom_workspace_image(**h.import_params("frozen"))
        first = ws.describe_custom_workspace_image_import(ImageId=out["ImageId"])
        self.assertEqual(first["State"], "PENDING")
        self.assertEqual(first["ProgressPercentage"], 0)
        self.assertNotIn("ImageBuilderInstanceId", first)
        self.assertTrue(self.server.clock()["frozen"])
        second = ws.describe_custom_workspace_image_import(ImageId=out["ImageId"])
        first.pop("ResponseMetadata")
        second.pop("ResponseMetadata")
        self.assertEqual(second, first)

    def test_failure_mid_pipeline(self):
        _, ws = self.new_client()
        created = self.server.now()
        stage = "IMAGE_COMPATIBILITY_CHECKING"
        out = ws.import_custom_workspace_image(**h.import_params("realistic-failure", Tags=[
            {"Key": "wsim:fail-at", "Value": stage}, {"Key": "wsim:error-code", "Value": "DiskSizeExceeded"}]))
        observations = self.walk(ws, out["ImageId"], created)
        seen = self.check_walk(observations, created)
        self.assertEqual(seen, STAGES[:STAGES.index(stage) + 1] + ["ERROR"])
        last = observations[-1][1]
        self.assertFailed(last, stage, code="DiskSizeExceeded")
        self.assertCatalogueError(observations[-1][2], last)

        self.server.advance("10h")
        again = ws.describe_custom_workspace_image_import(ImageId=out["ImageId"])
        for member in ("State", "ProgressPercentage", "LastUpdatedTime", "ErrorDetails", "StateMessage"):
            self.assertEqual(again[member], last[member], member)


if __name__ == "__main__":
    unittest.main()


class ProfileTest(WalkMixin, ImportTestBase):
    """The default profile a person can watch, and per-stage overrides; each
    test starts its own server."""

    @classmethod
    def setUpClass(cls):
        cls.server = None

    def test_default_profile_can_be_watched(self):
        with h.WsimServer(profile=None) as server:
            status, health = server.control("GET", "health")
            self.assertEqual(status, 200)
            self.assertNotIn(health["profile"], ("instant", "realistic"))
            server.freeze()
            ws = server.client(account=fresh_account())
            created = server.now()
            image_id = ws.import_custom_workspace_image(**h.import_params("watchable"))["ImageId"]
            observations = self.walk(ws, image_id, created, server=server, step=1)
            self.assertEqual(self.check_walk(observations, created), ALL_STATES)
            total = ts(observations[-1][1]["LastUpdatedTime"]) - created
            self.assertTrue(10 <= total <= 120, "the default profile took %ds" % total)

    def test_stage_override(self):
        with h.WsimServer(profile="instant", extra_args=["--stage-duration", "GENERALIZING=10m"]) as server:
            server.freeze()
            ws = server.client(account=fresh_account())
            created = server.now()
            image_id = ws.import_custom_workspace_image(**h.import_params("override"))["ImageId"]
            observations = self.walk(ws, image_id, created, server=server, step=60)
            # Every other stage takes no time under instant, so the import is
            # in GENERALIZING from its creation for ten minutes.
            states = [o[1]["State"] for o in observations]
            self.assertEqual(states, ["GENERALIZING"] * 10 + ["COMPLETED"])
            progress = [o[1]["ProgressPercentage"] for o in observations]
            self.assertEqual(progress, sorted(progress))
            self.assertEqual(progress[-1], 100)
            self.assertAlmostEqual(ts(observations[0][1]["LastUpdatedTime"]), created, delta=0.002)
            self.assertAlmostEqual(ts(observations[-1][1]["LastUpdatedTime"]), created + 600, delta=0.002)

    def test_invalid_stage_override_is_refused(self):
        with self.assertRaises(h.WsimError):
            h.WsimServer(profile="instant", extra_args=["--stage-duration", "NOPE=1m"]).start()
