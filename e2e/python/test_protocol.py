"""Issue 2: the AWS JSON 1.1 protocol as boto3, the AWS CLI and raw HTTP see it.

Every case runs against a real `wsim serve` process: a successful call, a
ValidationException per constraint kind in the AWS framework's wording,
serialization errors, an unknown operation and an unimplemented one.
"""

import json
import re
import unittest

from botocore.exceptions import ClientError

from . import wsim_harness as h

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CLI_SERVICE_ERROR_CODES = (254, 255)  # CLI v1 answers service errors with 255 (v2: 254)
VALID_ID = "wsi-000000000"


class ProtocolTest(unittest.TestCase):
    account = "222233334444"

    @classmethod
    def setUpClass(cls):
        cls.server = h.WsimServer(profile="instant").start()
        cls.addClassCleanup(cls.server.stop)
        cls.ws = cls.server.client(account=cls.account)
        # botocore checks required members, minimum lengths, ranges and the
        # union rule before sending; this client lets wsim see such requests.
        cls.raw_ws = cls.server.client(account=cls.account, parameter_validation=False)
        cls.model = cls.ws.meta.service_model

    def pattern_of(self, operation, member):
        return self.model.operation_model(operation).input_shape.members[member].metadata["pattern"]

    def assertValidation(self, call, expected_fragments, **params):
        """call(**params) fails with ValidationException (HTTP 400) whose
        message contains every expected fragment."""
        with self.assertRaises(ClientError) as cm:
            call(**params)
        code, message, status = h.error_of(cm.exception)
        self.assertEqual(code, "ValidationException", message)
        self.assertEqual(status, 400)
        self.assertRegex(message, r"^\d+ validation errors? detected: ")
        for frag in expected_fragments:
            self.assertIn(frag, message)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["RetryAttempts"], 0)
        return message

    # -- success -----------------------------------------------------------

    def test_successful_call_boto3(self):
        out = self.ws.describe_workspace_images()
        meta = out["ResponseMetadata"]
        self.assertEqual(meta["HTTPStatusCode"], 200)
        self.assertEqual(out["Images"], [])
        self.assertNotIn("NextToken", out)
        self.assertRegex(meta["RequestId"], UUID)
        self.assertEqual(meta["RequestId"], meta["HTTPHeaders"]["x-amzn-requestid"])
        self.assertEqual(meta["HTTPHeaders"]["content-type"], h.JSON_11)

    def test_request_ids_are_unique(self):
        ids = {self.ws.describe_workspace_images()["ResponseMetadata"]["RequestId"] for _ in range(5)}
        self.assertEqual(len(ids), 5)

    def test_successful_call_raw_http(self):
        status, headers, body = self.server.raw("WorkspacesService.DescribeWorkspaceImages", b"{}",
                                                headers=h.sigv4_header(self.account))
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], h.JSON_11)
        self.assertRegex(headers["x-amzn-requestid"], UUID)
        # Absent members are omitted, never null.
        self.assertEqual(body, {"Images": []})

    def test_empty_body_counts_as_empty_object(self):
        status, _, body = self.server.raw("WorkspacesService.DescribeWorkspaceImages", b"",
                                          headers=h.sigv4_header(self.account))
        self.assertEqual(status, 200, body)

    def test_successful_call_cli(self):
        rc, out, err = self.server.cli("describe-workspace-images", account=self.account)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, {"Images": []})

    # -- ValidationException per constraint kind (boto3) --------------------

    def test_pattern(self):
        pattern = self.pattern_of("ImportCustomWorkspaceImage", "ImageName")
        msg = self.assertValidation(
            self.ws.import_custom_workspace_image,
            ["Value 'bad name!' at 'imageName' failed to satisfy constraint: "
             "Member must satisfy regular expression pattern: " + pattern],
            **h.import_params("bad name!"))
        self.assertTrue(msg.startswith("1 validation error detected: "), msg)

    def test_pattern_of_list_member(self):
        self.assertValidation(
            self.ws.describe_workspace_images,
            ["Value 'nope' at 'imageIds.1.member' failed to satisfy constraint: "
             "Member must satisfy regular expression pattern: "
             + self.model.shape_for("WorkspaceImageId").metadata["pattern"]],
            ImageIds=["nope"])

    def test_pattern_is_not_anchored_at_the_start(self):
        # The model's WorkspaceImageId pattern is "wsi-[0-9a-z]{9,63}$": smithy
        # patterns are not implicitly anchored, so a prefix is allowed.
        out = self.ws.describe_workspace_images(ImageIds=["xx" + VALID_ID])
        self.assertEqual(out["Images"], [])

    def test_max_length(self):
        name = "a" * 65
        self.assertValidation(
            self.ws.import_custom_workspace_image,
            ["Value '%s' at 'imageName' failed to satisfy constraint: "
             "Member must have length less than or equal to 64" % name],
            **h.import_params(name))

    def test_max_length_is_accepted_at_the_limit(self):
        ws = self.server.client(account="222233339999")  # keeps this account's catalogue empty
        out = ws.import_custom_workspace_image(**h.import_params("b" * 64))
        self.assertEqual(out["State"], "PENDING")

    def test_min_length(self):
        self.assertValidation(
            self.raw_ws.import_custom_workspace_image,
            ["Value '' at 'tags.1.member.key' failed to satisfy constraint: "
             "Member must have length greater than or equal to 1"],
            **h.import_params("min-length", Tags=[{"Key": "", "Value": "v"}]))

    def test_min_length_and_pattern_both_reported(self):
        msg = self.assertValidation(
            self.raw_ws.import_custom_workspace_image,
            ["Value '' at 'imageName' failed to satisfy constraint: "
             "Member must have length greater than or equal to 1",
             "Member must satisfy regular expression pattern"],
            **h.import_params(""))
        self.assertTrue(msg.startswith("2 validation errors detected: "), msg)

    def test_required(self):
        self.assertValidation(
            self.raw_ws.import_custom_workspace_image,
            ["Value null at 'imageName' failed to satisfy constraint: Member must not be null"],
            **h.import_params(None))

    def test_enum(self):
        msg = self.assertValidation(
            self.ws.import_custom_workspace_image,
            ["Value 'NOPE' at 'computeType' failed to satisfy constraint: "
             "Member must satisfy enum value set: ["],
            **h.import_params("enum-case", ComputeType="NOPE"))
        for value in self.model.shape_for("ImageComputeType").enum:
            self.assertIn(value, msg)

    def test_numeric_range_max(self):
        self.assertValidation(
            self.ws.describe_workspace_images,
            ["Value '26' at 'maxResults' failed to satisfy constraint: "
             "Member must have value less than or equal to 25"],
            MaxResults=26)

    def test_numeric_range_min(self):
        self.assertValidation(
            self.raw_ws.describe_workspace_images,
            ["Value '0' at 'maxResults' failed to satisfy constraint: "
             "Member must have value greater than or equal to 1"],
            MaxResults=0)

    def test_list_length_max(self):
        ids = ["wsi-%09d" % i for i in range(26)]
        self.assertValidation(
            self.ws.describe_workspace_images,
            ["at 'imageIds' failed to satisfy constraint: "
             "Member must have length less than or equal to 25"],
            ImageIds=ids)

    def test_list_length_max_accepted_at_the_limit(self):
        ids = ["wsi-%09d" % i for i in range(25)]
        self.assertEqual(self.ws.describe_workspace_images(ImageIds=ids)["Images"], [])

    def test_list_length_min(self):
        self.assertValidation(
            self.raw_ws.describe_workspace_images,
            ["Value '[]' at 'imageIds' failed to satisfy constraint: "
             "Member must have length greater than or equal to 1"],
            ImageIds=[])

    def test_union_with_two_members(self):
        self.assertValidation(
            self.raw_ws.import_custom_workspace_image,
            ["at 'imageSource' failed to satisfy constraint", "exactly one member", "2"],
            **h.import_params("union-two", ImageSource={
                "Ec2ImageId": "ami-0123456789abcdef0", "Ec2ImportTaskId": "import-ami-12345678"}))

    def test_union_with_no_member(self):
        self.assertValidation(
            self.raw_ws.import_custom_workspace_image,
            ["at 'imageSource' failed to satisfy constraint", "exactly one member"],
            **h.import_params("union-none", ImageSource={}))

    def test_union_member_constraints(self):
        self.assertValidation(
            self.ws.import_custom_workspace_image,
            ["Value 'ami-XYZ' at 'imageSource.ec2ImageId' failed to satisfy constraint: "
             "Member must satisfy regular expression pattern: "],
            **h.import_params("union-member", ImageSource={"Ec2ImageId": "ami-XYZ"}))

    def test_several_errors_are_counted(self):
        msg = self.assertValidation(
            self.ws.import_custom_workspace_image,
            ["at 'imageName'", "at 'computeType'", "at 'protocol'"],
            **h.import_params("bad name!", ComputeType="NOPE", Protocol="RDP"))
        self.assertTrue(msg.startswith("3 validation errors detected: "), msg)

    # -- serialization --------------------------------------------------------

    def test_malformed_json(self):
        status, headers, body = self.server.raw("WorkspacesService.DescribeWorkspaceImages", b"{not json")
        self.assertEqual(status, 400)
        self.assertEqual(headers["content-type"], h.JSON_11)
        self.assertEqual(body["__type"], "SerializationException")
        self.assertTrue(body["message"])

    def test_wrongly_typed_member(self):
        status, _, body = self.server.raw("WorkspacesService.DescribeWorkspaceImages", {"MaxResults": "ten"})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "SerializationException")
        self.assertIn("MaxResults", body["message"])

    def test_unknown_members_are_ignored(self):
        status, _, body = self.server.raw("WorkspacesService.DescribeWorkspaceImages",
                                          {"NotAMember": 1, "MaxResults": None},
                                          headers=h.sigv4_header(self.account))
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"Images": []})

    def test_body_that_is_not_an_object(self):
        status, _, body = self.server.raw("WorkspacesService.DescribeWorkspaceImages", b"[1, 2]")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "SerializationException")

    # -- unknown operation ------------------------------------------------------

    def test_unknown_operation(self):
        status, headers, body = self.server.raw("WorkspacesService.Nope", b"{}")
        self.assertEqual(status, 400)
        self.assertEqual(headers["content-type"], h.JSON_11)
        self.assertRegex(headers["x-amzn-requestid"], UUID)
        self.assertEqual(body["__type"], "UnknownOperationException")
        self.assertIn("Nope", body["message"])

    def test_unknown_operation_signed(self):
        # A SigV4-shaped Authorization header (the signature is not checked).
        status, _, body = self.server.raw("WorkspacesService.Nope", b"{}", headers=h.sigv4_header(self.account))
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "UnknownOperationException")

    def test_target_of_another_service(self):
        status, _, body = self.server.raw("AmazonEC2.DescribeInstances", b"{}")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "UnknownOperationException")

    def test_missing_target(self):
        status, headers, body = self.server.raw(None, b"{}")
        self.assertEqual(status, 400)
        self.assertEqual(headers["content-type"], h.JSON_11)
        self.assertEqual(body["__type"], "UnknownOperationException")

    # -- unimplemented operation ------------------------------------------------

    def assertNotImplemented(self, exc, operation):
        code, message, status = h.error_of(exc)
        self.assertEqual(code, "NotImplementedException")
        self.assertEqual(status, 501)
        self.assertIn(operation, message)
        # botocore does not retry 501.
        self.assertEqual(exc.response["ResponseMetadata"]["RetryAttempts"], 0)

    def test_unimplemented_operation_is_not_retried(self):
        for mode in ("standard", "legacy"):
            with self.subTest(retry_mode=mode):
                before = len(self.server.request_log_lines("DescribeWorkspacesPools"))
                ws = self.server.client(account=self.account, max_attempts=3, retry_mode=mode)
                with self.assertRaises(ClientError) as cm:
                    ws.describe_workspaces_pools()
                self.assertNotImplemented(cm.exception, "DescribeWorkspacesPools")
                lines = self.server.request_log_lines("DescribeWorkspacesPools")
                self.assertEqual(len(lines) - before, 1, "\n".join(lines))
                self.assertIn("status=501", lines[-1])

    def test_unimplemented_operation_raw(self):
        status, headers, body = self.server.raw("WorkspacesService.DescribeWorkspacesPools", b"{}")
        self.assertEqual(status, 501)
        self.assertEqual(headers["content-type"], h.JSON_11)
        self.assertEqual(body["__type"], "NotImplementedException")
        self.assertIn("DescribeWorkspacesPools", body["message"])

    def test_unimplemented_operation_still_validates(self):
        # Constraint checks come from the model, so they apply even to
        # operations wsim does not implement.
        with self.assertRaises(ClientError) as cm:
            self.ws.describe_workspaces(Limit=26)
        code, message, _ = h.error_of(cm.exception)
        self.assertEqual(code, "ValidationException", message)
        self.assertIn("'limit'", message)

    # -- callers ----------------------------------------------------------------

    def test_account_and_region_come_from_the_credential_scope(self):
        ws = self.server.client(account="444455556666", region="eu-central-1")
        image_id = ws.import_custom_workspace_image(**h.import_params("caller-scope"))["ImageId"]
        entry = ws.describe_workspace_images(ImageIds=[image_id])["Images"][0]
        self.assertEqual(entry["OwnerAccountId"], "444455556666")
        for account, region in (("444455556666", "us-east-1"), ("444455556667", "eu-central-1")):
            other = self.server.client(account=account, region=region)
            self.assertEqual(other.describe_workspace_images(ImageIds=[image_id])["Images"], [])

    def test_other_access_keys_and_unsigned_requests_act_for_the_default_account(self):
        # wsim serve's --default-account is 123456789012 and --default-region us-east-1.
        ws = self.server.client(account="AKIAIOSFODNN7EXAMPLE")
        image_id = ws.import_custom_workspace_image(**h.import_params("default-caller"))["ImageId"]
        entry = ws.describe_workspace_images(ImageIds=[image_id])["Images"][0]
        self.assertEqual(entry["OwnerAccountId"], "123456789012")
        status, _, body = self.server.raw("WorkspacesService.DescribeWorkspaceImages", {"ImageIds": [image_id]})
        self.assertEqual(status, 200, body)
        self.assertEqual([i["ImageId"] for i in body["Images"]], [image_id])

    def test_malformed_authorization_header(self):
        status, headers, body = self.server.raw("WorkspacesService.DescribeWorkspaceImages", b"{}",
                                                headers={"Authorization": "Bearer abc"})
        self.assertEqual(status, 400)
        self.assertEqual(headers["content-type"], h.JSON_11)
        self.assertEqual(body["__type"], "IncompleteSignatureException")

    def test_scope_of_another_service(self):
        status, _, body = self.server.raw("WorkspacesService.DescribeWorkspaceImages", b"{}",
                                          headers=h.sigv4_header(self.account, service="ec2"))
        self.assertEqual(status, 403)
        self.assertEqual(body["__type"], "InvalidSignatureException")

    # -- wire format ----------------------------------------------------------------

    def test_response_wire_format(self):
        ws = self.server.client(account="444455557777")
        image_id = ws.import_custom_workspace_image(**h.import_params("wire-format"))["ImageId"]
        for target, body in (("DescribeWorkspaceImages", {"ImageIds": [image_id]}),
                             ("DescribeCustomWorkspaceImageImport", {"ImageId": image_id})):
            with self.subTest(operation=target):
                status, _, out = self.server.raw("WorkspacesService." + target, body,
                                                 headers=h.sigv4_header("444455557777"))
                self.assertEqual(status, 200, out)
                self.assertNoNulls(out)
                record = out["Images"][0] if "Images" in out else out
                self.assertIsInstance(record["Created"], (int, float))  # epoch seconds
                self.assertNotIsInstance(record["Created"], bool)
                if "ImageSource" in record:
                    self.assertEqual(record["ImageSource"], {"Ec2ImageId": "ami-0123456789abcdef0"})
                    self.assertIsInstance(record["LastUpdatedTime"], (int, float))

    def assertNoNulls(self, value, path="$"):
        self.assertIsNotNone(value, path)
        if isinstance(value, dict):
            for k, v in value.items():
                self.assertNoNulls(v, path + "." + k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.assertNoNulls(v, "%s[%d]" % (path, i))

    def test_error_body_has_modelled_members(self):
        status, _, body = self.server.raw("WorkspacesService.DescribeCustomWorkspaceImageImport",
                                          {"ImageId": VALID_ID})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "ResourceNotFoundException")
        self.assertTrue(body["message"])
        self.assertEqual(body.get("ResourceId"), VALID_ID)

    def test_oversized_body(self):
        body = b'{"NextToken": "' + b"a" * (5 << 20) + b'"}'
        status, headers, out = self.server.raw("WorkspacesService.DescribeWorkspaceImages", body)
        self.assertIn(status, (400, 413))
        self.assertEqual(headers["content-type"], h.JSON_11)
        self.assertIsInstance(out, dict)
        self.assertTrue(out.get("__type"))
        self.assertTrue(out.get("message"))

    # -- request log --------------------------------------------------------------

    def test_one_log_line_per_request(self):
        out = self.ws.describe_workspace_images()
        rid = out["ResponseMetadata"]["RequestId"]
        lines = [l for l in self.server.request_log_lines("DescribeWorkspaceImages") if rid in l]
        self.assertEqual(len(lines), 1)
        for field in ("account=%s" % self.account, "region=us-east-1", "status=200", "duration="):
            self.assertIn(field, lines[0])


class ProtocolCliTest(unittest.TestCase):
    """The same cases through `aws workspaces`: service errors exit 254/255
    with the error code on stderr."""

    account = "333344445555"

    @classmethod
    def setUpClass(cls):
        cls.server = h.WsimServer(profile="instant").start()
        cls.addClassCleanup(cls.server.stop)

    def cli(self, *args, **kw):
        kw.setdefault("account", self.account)
        return self.server.cli(*args, **kw)

    def assertCliError(self, result, code, *fragments):
        rc, out, err = result
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES, err)
        self.assertIsNone(out)
        self.assertIn("(%s)" % code, err)
        for frag in fragments:
            self.assertIn(frag, err)

    def test_success(self):
        rc, out, err = self.cli("describe-workspace-images")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, {"Images": []})

    def test_pattern(self):
        self.assertCliError(
            self.cli(*h.cli_import_args(h.import_params("bad name!"))), "ValidationException",
            "Value 'bad name!' at 'imageName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern")

    def test_max_length(self):
        self.assertCliError(
            self.cli(*h.cli_import_args(h.import_params("a" * 65))), "ValidationException",
            "at 'imageName' failed to satisfy constraint: Member must have length less than or equal to 64")

    def test_min_length(self):
        params = h.import_params("cli-min", Tags=[{"Key": "", "Value": "v"}])
        self.assertCliError(
            self.cli(*h.cli_import_args(params), parameter_validation=False), "ValidationException",
            "Value '' at 'tags.1.member.key' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1")

    def test_enum(self):
        self.assertCliError(
            self.cli(*h.cli_import_args(h.import_params("cli-enum", ComputeType="NOPE"))),
            "ValidationException",
            "Value 'NOPE' at 'computeType' failed to satisfy constraint: Member must satisfy enum value set")

    def test_numeric_range(self):
        # --max-results is also the CLI's pagination flag: --page-size maps to
        # MaxResults without the CLI's own paging logic getting in the way.
        self.assertCliError(
            self.cli("describe-workspace-images", "--max-results", "26"), "ValidationException",
            "Value '26' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 25")

    def test_list_length(self):
        ids = ["wsi-%09d" % i for i in range(26)]
        self.assertCliError(
            self.cli("describe-workspace-images", "--image-ids", *ids), "ValidationException",
            "at 'imageIds' failed to satisfy constraint: Member must have length less than or equal to 25")

    def test_union_with_two_members(self):
        params = h.import_params("cli-union", ImageSource={
            "Ec2ImageId": "ami-0123456789abcdef0", "Ec2ImportTaskId": "import-ami-12345678"})
        self.assertCliError(
            self.cli(*h.cli_import_args(params), parameter_validation=False), "ValidationException",
            "at 'imageSource' failed to satisfy constraint")

    def test_unimplemented_operation(self):
        before = len(self.server.request_log_lines("DescribeWorkspacesPools"))
        self.assertCliError(self.cli("describe-workspaces-pools", max_attempts=3),
                            "NotImplementedException", "DescribeWorkspacesPools")
        self.assertEqual(len(self.server.request_log_lines("DescribeWorkspacesPools")) - before, 1,
                         "the CLI retried a 501")


if __name__ == "__main__":
    unittest.main()
