"""Signature verification (wsim serve --auth sigv4) with boto3 and the AWS
CLI: their SigV4 signatures are accepted, a wrong secret or an unknown key is
refused with AWS's errors, and a principal's policies apply."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from e2e.python import wsim_harness as h

ACCOUNT = "111122223333"
ADMIN_KEY, ADMIN_SECRET = "AKIAWSIMPYADMIN00001", "py-admin-secret"
READER_KEY, READER_SECRET = "AKIAWSIMPYREADER0001", "py-reader-secret"
READER_ARN = "arn:aws:iam::111122223333:role/py-reader"

CREDENTIALS = {
    "credentials": [
        {"accessKeyId": ADMIN_KEY, "secretAccessKey": ADMIN_SECRET,
         "principal": "arn:aws:iam::111122223333:user/py-admin"},
        {"accessKeyId": READER_KEY, "secretAccessKey": READER_SECRET, "principal": READER_ARN},
    ],
    "policies": {
        READER_ARN: [{"Version": "2012-10-17",
                      "Statement": {"Effect": "Allow", "Action": "workspaces:Describe*", "Resource": "*"}}],
    },
}


class SigV4Test(h.APIErrorAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wsim-e2e-auth-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        path = os.path.join(cls.tmp, "credentials.json")
        with open(path, "w") as f:
            json.dump(CREDENTIALS, f)
        cls.server = h.WsimServer(extra_args=["--auth", "sigv4", "--credentials", path]).start()
        cls.addClassCleanup(cls.server.stop)

    def client(self, key, secret, service="workspaces"):
        return boto3.session.Session().client(
            service, endpoint_url=self.server.url, region_name="us-east-1",
            aws_access_key_id=key, aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}))

    def cli(self, key, secret, *args):
        env = self.server.cli_env()
        env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = key, secret
        proc = subprocess.run(["aws"] + list(args) + ["--output", "json"], env=env,
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        return proc.returncode, proc.stdout, proc.stderr

    def test_boto3_signature_accepted(self):
        c = self.client(ADMIN_KEY, ADMIN_SECRET)
        image_id = c.import_custom_workspace_image(**h.import_params("boto3-signed"))["ImageId"]
        images = c.describe_workspace_images(ImageIds=[image_id])["Images"]
        self.assertEqual([i["ImageId"] for i in images], [image_id])
        ident = self.client(ADMIN_KEY, ADMIN_SECRET, "sts").get_caller_identity()
        self.assertEqual(ident["Arn"], "arn:aws:iam::111122223333:user/py-admin")
        self.assertEqual(ident["Account"], ACCOUNT)

    def test_boto3_wrong_secret(self):
        c = self.client(ADMIN_KEY, "not-the-secret")
        with self.assertRaises(ClientError) as cm:
            c.describe_workspace_images()
        code, message, status = h.error_of(cm.exception)
        self.assertEqual((code, status), ("InvalidSignatureException", 403))
        self.assertIn("The request signature we calculated does not match the signature you provided.", message)

    def test_boto3_unknown_key(self):
        self.assertError("UnrecognizedClientException", self.client("AKIAWSIMPYNOBODY0001", ADMIN_SECRET).describe_workspace_images,
                         "The security token included in the request is invalid.")

    def test_boto3_access_denied(self):
        reader = self.client(READER_KEY, READER_SECRET)
        reader.describe_workspace_bundles()
        self.assertError("AccessDeniedException", reader.import_custom_workspace_image,
                         "User: " + READER_ARN + " is not authorized to perform: workspaces:ImportCustomWorkspaceImage"
                         " on resource: arn:aws:workspaces:us-east-1:111122223333:workspaceimage/*"
                         " because no identity-based policy allows the workspaces:ImportCustomWorkspaceImage action",
                         **h.import_params("denied"))

    def test_cli_signature_accepted(self):
        code, out, err = self.cli(ADMIN_KEY, ADMIN_SECRET, "workspaces", "describe-workspace-bundles")
        self.assertEqual(code, 0, err)
        self.assertIn("Bundles", json.loads(out))
        code, out, err = self.cli(ADMIN_KEY, ADMIN_SECRET, "sts", "get-caller-identity")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["Arn"], "arn:aws:iam::111122223333:user/py-admin")

    def test_cli_wrong_secret(self):
        code, _, err = self.cli(ADMIN_KEY, "not-the-secret", "workspaces", "describe-workspace-bundles")
        self.assertNotEqual(code, 0)
        self.assertIn("InvalidSignatureException", err)
        code, _, err = self.cli(READER_KEY, READER_SECRET, "workspaces", "modify-account",
                                "--dedicated-tenancy-support", "ENABLED")
        self.assertNotEqual(code, 0)
        self.assertIn("AccessDeniedException", err)


if __name__ == "__main__":
    unittest.main()
