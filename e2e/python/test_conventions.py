"""Issue 9, point 6: conventions users bring along, through boto3 and the AWS CLI.

- STS GetCallerIdentity answered on wsim's port (query protocol, XML), with
  the account taken from the access key as for WorkSpaces calls;
- AWS_ENDPOINT_URL_WORKSPACES sends WorkSpaces, and only WorkSpaces, to wsim,
  while AWS_ENDPOINT_URL (or AWS's own endpoints) keep serving the rest.

Two servers show where each call went: `wsim` is the one WorkSpaces is sent
to, `other` stands for wherever the other services go.
"""

import json
import os
import re
import subprocess
import unittest
import urllib.parse
import urllib.request
from unittest import mock

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from . import wsim_harness as h

ACCOUNT = "333344445555"
OTHER_DEFAULT_ACCOUNT = "999900001111"
STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def clean_env(**extra):
    """The process environment without any AWS_ variable, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": h.DEFAULT_REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_PAGER": "",
    })
    env.update(extra)
    return env


def aws(env, *args):
    """Runs the AWS CLI with env; returns (exit code, parsed JSON stdout or None, stderr)."""
    proc = subprocess.run(["aws"] + list(args) + ["--output", "json"], env=env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr


class ConventionsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.wsim = h.WsimServer(profile="instant").start()
        cls.addClassCleanup(cls.wsim.stop)
        cls.other = h.WsimServer(profile="instant", extra_args=["--default-account", OTHER_DEFAULT_ACCOUNT]).start()
        cls.addClassCleanup(cls.other.stop)

    def sts(self, access_key=ACCOUNT, region=h.DEFAULT_REGION, endpoint=None):
        return boto3.session.Session().client(
            "sts", endpoint_url=endpoint or self.wsim.url, region_name=region,
            aws_access_key_id=access_key, aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}))

    def count_lines(self, server, operation):
        return len(server.request_log_lines(operation))

    # -- STS GetCallerIdentity -------------------------------------------

    def test_boto3_get_caller_identity(self):
        out = self.sts().get_caller_identity()
        self.assertEqual(out["Account"], ACCOUNT)
        self.assertEqual(out["Arn"], "arn:aws:iam::%s:user/wsim" % ACCOUNT)
        self.assertEqual(out["UserId"], "AIDAWSIM" + ACCOUNT)
        meta = out["ResponseMetadata"]
        self.assertEqual(meta["HTTPStatusCode"], 200)
        self.assertRegex(meta["RequestId"], UUID)
        self.assertEqual(meta["HTTPHeaders"]["content-type"], "text/xml")
        # The request line names the operation and the caller.
        line = self.wsim.request_log_lines("GetCallerIdentity")[-1]
        self.assertIn("account=%s" % ACCOUNT, line)
        self.assertIn("status=200", line)

    def test_boto3_other_keys_are_the_default_account(self):
        out = self.sts(access_key="AKIAIOSFODNN7EXAMPLE").get_caller_identity()
        self.assertEqual(out["Account"], "123456789012")
        out = self.sts(access_key="AKIAIOSFODNN7EXAMPLE", endpoint=self.other.url).get_caller_identity()
        self.assertEqual(out["Account"], OTHER_DEFAULT_ACCOUNT)

    def test_boto3_partition_follows_the_region(self):
        out = self.sts(region="cn-north-1").get_caller_identity()
        self.assertEqual(out["Arn"], "arn:aws-cn:iam::%s:user/wsim" % ACCOUNT)

    def test_boto3_other_sts_actions_are_invalid(self):
        with self.assertRaises(ClientError) as cm:
            self.sts().assume_role(RoleArn="arn:aws:iam::%s:role/x" % ACCOUNT, RoleSessionName="wsim-e2e")
        code, message, status = h.error_of(cm.exception)
        self.assertEqual((code, status), ("InvalidAction", 400))
        self.assertIn("AssumeRole", message)
        self.assertEqual(cm.exception.response["Error"]["Type"], "Sender")

    def test_cli_get_caller_identity(self):
        code, out, err = aws(clean_env(AWS_ACCESS_KEY_ID=ACCOUNT), "sts", "get-caller-identity", "--endpoint-url", self.wsim.url)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, {"UserId": "AIDAWSIM" + ACCOUNT, "Account": ACCOUNT,
                               "Arn": "arn:aws:iam::%s:user/wsim" % ACCOUNT})

    def test_cli_get_caller_identity_through_aws_endpoint_url(self):
        code, out, err = aws(clean_env(AWS_ACCESS_KEY_ID=ACCOUNT, AWS_ENDPOINT_URL=self.wsim.url), "sts", "get-caller-identity")
        self.assertEqual(code, 0, err)
        self.assertEqual(out["Account"], ACCOUNT)

    def test_raw_get_with_query_string(self):
        req = urllib.request.Request(self.wsim.url + "/?" + urllib.parse.urlencode(
            {"Action": "GetCallerIdentity", "Version": "2011-06-15"}))
        req.add_header("Authorization", h.sigv4_header(ACCOUNT, service="sts")["Authorization"])
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read().decode()
        self.assertIn('<GetCallerIdentityResponse xmlns="%s">' % STS_XMLNS, body)
        self.assertIn("<Account>%s</Account>" % ACCOUNT, body)

    def test_workspaces_scope_is_refused_for_sts(self):
        status, _, body = self.wsim.raw(None, b"Action=GetCallerIdentity&Version=2011-06-15",
                                        headers=dict(h.sigv4_header(ACCOUNT, service="workspaces"),
                                                     **{"Content-Type": "application/x-www-form-urlencoded"}))
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)

    def test_workspaces_without_target_keeps_its_error(self):
        status, headers, body = self.wsim.raw(None, b"{}")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "UnknownOperationException")

    # -- AWS_ENDPOINT_URL_WORKSPACES --------------------------------------

    def test_boto3_service_specific_endpoint(self):
        env = {"AWS_ENDPOINT_URL_WORKSPACES": self.wsim.url}
        with mock.patch.dict(os.environ, env):
            os.environ.pop("AWS_ENDPOINT_URL", None)
            session = boto3.session.Session(aws_access_key_id=ACCOUNT, aws_secret_access_key="test",
                                            region_name=h.DEFAULT_REGION)
            ws = session.client("workspaces", config=Config(retries={"max_attempts": 1}))
            sts = session.client("sts")
        self.assertEqual(ws.meta.endpoint_url, self.wsim.url)
        # Only WorkSpaces: STS still goes to AWS (not called here: offline).
        self.assertEqual(sts.meta.endpoint_url, "https://sts.us-east-1.amazonaws.com")
        before = self.count_lines(self.wsim, "DescribeWorkspaceImages")
        self.assertEqual(ws.describe_workspace_images()["Images"], [])
        self.assertEqual(self.count_lines(self.wsim, "DescribeWorkspaceImages"), before + 1)

    def test_boto3_service_specific_endpoint_beside_the_global_one(self):
        env = {"AWS_ENDPOINT_URL_WORKSPACES": self.wsim.url, "AWS_ENDPOINT_URL": self.other.url}
        with mock.patch.dict(os.environ, env):
            session = boto3.session.Session(aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="test",
                                            region_name=h.DEFAULT_REGION)
            ws = session.client("workspaces", config=Config(retries={"max_attempts": 1}))
            sts = session.client("sts", config=Config(retries={"max_attempts": 1}))
        ws_before, other_before = self.count_lines(self.wsim, "DescribeWorkspaceImages"), self.count_lines(self.other, "DescribeWorkspaceImages")
        ws.describe_workspace_images()
        self.assertEqual(self.count_lines(self.wsim, "DescribeWorkspaceImages"), ws_before + 1)
        self.assertEqual(self.count_lines(self.other, "DescribeWorkspaceImages"), other_before)
        # STS went where AWS_ENDPOINT_URL sends everything else.
        self.assertEqual(sts.get_caller_identity()["Account"], OTHER_DEFAULT_ACCOUNT)

    def test_cli_service_specific_endpoint(self):
        env = clean_env(AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
                        AWS_ENDPOINT_URL_WORKSPACES=self.wsim.url, AWS_ENDPOINT_URL=self.other.url)
        ws_before, other_before = self.count_lines(self.wsim, "DescribeWorkspaceImages"), self.count_lines(self.other, "DescribeWorkspaceImages")
        code, out, err = aws(env, "workspaces", "describe-workspace-images")
        self.assertEqual(code, 0, err)
        self.assertEqual(out["Images"], [])
        self.assertEqual(self.count_lines(self.wsim, "DescribeWorkspaceImages"), ws_before + 1)
        self.assertEqual(self.count_lines(self.other, "DescribeWorkspaceImages"), other_before)
        code, out, err = aws(env, "sts", "get-caller-identity")
        self.assertEqual(code, 0, err)
        self.assertEqual(out["Account"], OTHER_DEFAULT_ACCOUNT)


if __name__ == "__main__":
    unittest.main()
