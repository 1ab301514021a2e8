"""Directories registered with WorkSpaces through boto3 and the AWS CLI,
including the CLI's own examples run as printed, against a real wsim.
"""

import json
import os
import re
import shlex
import unittest

import awscli
from botocore.exceptions import ClientError

from . import wsim_harness as h

# The account of the CLI's examples, so that their output compares as printed.
EXAMPLE_ACCOUNT = "123456789012"
ACCOUNT = "565656565656"
EXAMPLES = os.path.join(os.path.dirname(awscli.__file__), "examples", "workspaces")
WSD_ID = re.compile(r"^wsd-[0-9a-z]{9}$")
CLI_SERVICE_ERROR_CODES = (254, 255)


def example(name):
    """The command (as argv after `aws workspaces`) and the output (parsed
    JSON, or None) of one of the CLI's bundled examples."""
    with open(os.path.join(EXAMPLES, name + ".rst")) as f:
        text = f.read()
    m = re.search(r"^\s+aws workspaces ((?:.*\\\n)*.*)$", text, re.M)
    argv = shlex.split(m.group(1).replace("\\\n", " "))
    out = None
    m = re.search(r"Output::\n\n((?:    .*\n|\n)+)", text)
    if m:
        out = json.loads(m.group(1))
    return argv, out


class DirectoriesTestCase(h.APIErrorAssertions, unittest.TestCase):
    def cli_ok(self, *args, account=ACCOUNT):
        rc, out, err = self.server.cli(*args, account=account)
        self.assertEqual(rc, 0, err)
        return out

    def assertCliError(self, code, *args, account=ACCOUNT):
        rc, _, err = self.server.cli(*args, account=account)
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES, err)
        self.assertIn("(%s)" % code, err)


class CLIExamplesTest(DirectoriesTestCase):
    """register, describe, modify-workspace-creation-properties and
    deregister, as the CLI's examples print them, with only the ids
    changed (none needs to be: d-926722edaf is a well-formed id)."""

    @classmethod
    def setUpClass(cls):
        cls.server = h.WsimServer(profile="instant").start()
        cls.addClassCleanup(cls.server.stop)

    def test_examples_as_printed(self):
        argv, _ = example("describe-workspace-directories")
        _, want = example("describe-workspace-directories")
        d = want["Directories"][0]
        # The directory behind the example, as Directory Service would hold it.
        status, body = self.server.control("POST", "directories", {
            "account": EXAMPLE_ACCOUNT, "region": h.DEFAULT_REGION, "directoryId": d["DirectoryId"],
            "name": d["DirectoryName"], "type": d["DirectoryType"], "subnetIds": d["SubnetIds"],
            "dnsIpAddresses": d["DnsIpAddresses"], "customerUserName": d["CustomerUserName"]})
        self.assertEqual(status, 201, body)

        reg, _ = example("register-workspace-directory")
        out = self.cli_ok(*reg, account=EXAMPLE_ACCOUNT)
        self.assertEqual(out["DirectoryId"], d["DirectoryId"])

        got = self.cli_ok(*argv, account=EXAMPLE_ACCOUNT)["Directories"]
        self.assertEqual(len(got), 1)
        got = got[0]
        self.assertRegex(got["RegistrationCode"], r"^[A-Za-z]{5}\+[A-Za-z0-9]{7}$")
        self.assertRegex(got["WorkspaceSecurityGroupId"], r"^sg-[0-9a-f]{17}$")
        for key, value in d.items():
            if key in ("RegistrationCode", "WorkspaceSecurityGroupId"):
                continue
            self.assertEqual(got.get(key), value, key)

        mod, _ = example("modify-workspace-creation-properties")
        self.cli_ok(*mod, account=EXAMPLE_ACCOUNT)
        got = self.cli_ok(*argv, account=EXAMPLE_ACCOUNT)["Directories"][0]
        self.assertEqual(got["WorkspaceCreationProperties"],
                         dict(d["WorkspaceCreationProperties"], EnableInternetAccess=True))

        dereg, _ = example("deregister-workspace-directory")
        self.cli_ok(*dereg, account=EXAMPLE_ACCOUNT)
        # Instant profile: deregistered and gone at once.
        self.assertEqual(self.cli_ok(*argv, account=EXAMPLE_ACCOUNT)["Directories"], [])


class DirectoriesBoto3Test(DirectoriesTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = h.WsimServer(profile="quick", extra_args=["--byol", "strict"]).start()
        cls.addClassCleanup(cls.server.stop)
        cls.ws = cls.server.client(account=ACCOUNT)

    def setUp(self):
        self.server.freeze()
        self.addCleanup(self.server.resume)

    def state(self, directory_id, ws=None):
        out = (ws or self.ws).describe_workspace_directories(DirectoryIds=[directory_id])["Directories"]
        return out[0]["State"] if out else None

    def test_lifecycle_on_the_clock(self):
        did = "d-0123456789"
        out = self.ws.register_workspace_directory(DirectoryId=did, Tags=[{"Key": "team", "Value": "py"}])
        self.assertEqual((out["DirectoryId"], out["State"]), (did, "REGISTERING"))
        self.assertEqual(self.state(did), "REGISTERING")
        self.server.advance("3s")
        self.assertEqual(self.state(did), "REGISTERED")
        self.assertEqual(self.ws.describe_tags(ResourceId=did)["TagList"], [{"Key": "team", "Value": "py"}])
        self.ws.modify_saml_properties(ResourceId=did, SamlProperties={
            "Status": "ENABLED", "UserAccessUrl": "https://idp.example.com/sso", "RelayStateParameterName": "RelayState"})
        self.ws.modify_saml_properties(ResourceId=did, PropertiesToDelete=["SAML_PROPERTIES_RELAY_STATE_PARAMETER_NAME"])
        self.ws.modify_workspace_access_properties(ResourceId=did, WorkspaceAccessProperties={"DeviceTypeWeb": "ALLOW"})
        self.ws.modify_selfservice_permissions(ResourceId=did, SelfservicePermissions={"IncreaseVolumeSize": "ENABLED"})
        self.ws.modify_client_properties(ResourceId=did, ClientProperties={"ReconnectEnabled": "DISABLED"})
        d = self.ws.describe_workspace_directories(DirectoryIds=[did])["Directories"][0]
        self.assertEqual(d["SamlProperties"], {"Status": "ENABLED", "UserAccessUrl": "https://idp.example.com/sso"})
        self.assertEqual(d["WorkspaceAccessProperties"]["DeviceTypeWeb"], "ALLOW")
        self.assertEqual(d["SelfservicePermissions"]["IncreaseVolumeSize"], "ENABLED")
        cp = self.ws.describe_client_properties(ResourceIds=[did])["ClientPropertiesList"]
        self.assertEqual(cp, [{"ResourceId": did, "ClientProperties": {"ReconnectEnabled": "DISABLED", "LogUploadEnabled": "ENABLED"}}])

        self.ws.deregister_workspace_directory(DirectoryId=did)
        self.assertEqual(self.state(did), "DEREGISTERING")
        self.server.advance("3s")
        self.assertEqual(self.state(did), "DEREGISTERED")
        self.server.advance("2s")
        self.assertIsNone(self.state(did))
        self.assertError("ResourceNotFoundException", self.ws.describe_tags, did, ResourceId=did)
        self.assertError("ResourceNotFoundException", self.ws.deregister_workspace_directory, did, DirectoryId=did)

    def test_errors(self):
        did = "d-aaaaaaaaaa"
        self.ws.register_workspace_directory(DirectoryId=did)
        self.assertError("ResourceAlreadyExistsException", self.ws.register_workspace_directory, did, DirectoryId=did)
        self.assertError("InvalidParameterValuesException", self.ws.register_workspace_directory, "BYOL",
                         DirectoryId="d-bbbbbbbbbb", Tenancy="DEDICATED")
        self.assertError("ValidationException", self.ws.register_workspace_directory, "DirectoryId")
        self.assertError("InvalidResourceStateException", self.ws.deregister_workspace_directory, "REGISTERING", DirectoryId=did)
        self.assertError("OperationNotSupportedException", self.ws.modify_workspace_creation_properties, "REGISTERING",
                         ResourceId=did, WorkspaceCreationProperties={"EnableInternetAccess": True})
        self.assertError("ResourceNotFoundException", self.ws.describe_client_properties, "d-cccccccccc",
                         ResourceIds=["d-cccccccccc"])
        self.server.advance("1m")
        self.assertError("InvalidParameterValuesException", self.ws.modify_certificate_based_auth_properties, "SAML",
                         ResourceId=did, CertificateBasedAuthProperties={
                             "Status": "ENABLED",
                             "CertificateAuthorityArn": "arn:aws:acm-pca:us-east-1:565656565656:certificate-authority/x"})

    def test_pools_directory_and_paginator(self):
        acct = "787878787878"
        ws = self.server.client(account=acct)
        ids = []
        for i in range(3):
            did = "d-%010x" % (0xd00 + i)
            ws.register_workspace_directory(DirectoryId=did)
            ids.append(did)
        out = ws.register_workspace_directory(
            WorkspaceType="POOLS", WorkspaceDirectoryName="pools", WorkspaceDirectoryDescription="Pools",
            UserIdentityType="CUSTOMER_MANAGED", SubnetIds=["subnet-0123abcd", "subnet-4567cdef"])
        self.assertRegex(out["DirectoryId"], WSD_ID)
        ids.append(out["DirectoryId"])
        pages = list(ws.get_paginator("describe_workspace_directories").paginate(Limit=2))
        self.assertEqual(len(pages), 2)
        self.assertEqual([d["DirectoryId"] for p in pages for d in p["Directories"]], ids)
        # Another account sees none of them.
        self.assertEqual(self.ws.describe_workspace_directories(DirectoryIds=ids)["Directories"], [])

    def test_cli(self):
        acct = "898989898989"
        out = self.cli_ok("register-workspace-directory", "--directory-id", "d-0c0c0c0c0c", "--tenancy", "SHARED", account=acct)
        self.assertEqual(out["State"], "REGISTERING")
        self.assertCliError("ResourceAlreadyExistsException", "register-workspace-directory", "--directory-id", "d-0c0c0c0c0c", account=acct)
        self.server.advance("1m")
        self.cli_ok("modify-selfservice-permissions", "--resource-id", "d-0c0c0c0c0c",
                    "--selfservice-permissions", "RebuildWorkspace=ENABLED", account=acct)
        self.cli_ok("modify-endpoint-encryption-mode", "--directory-id", "d-0c0c0c0c0c",
                    "--endpoint-encryption-mode", "FIPS_VALIDATED", account=acct)
        d = self.cli_ok("describe-workspace-directories", account=acct)["Directories"][0]
        self.assertEqual(d["SelfservicePermissions"]["RebuildWorkspace"], "ENABLED")
        self.assertEqual(d["EndpointEncryptionMode"], "FIPS_VALIDATED")
        self.cli_ok("deregister-workspace-directory", "--directory-id", "d-0c0c0c0c0c", account=acct)
        self.assertCliError("InvalidResourceStateException", "deregister-workspace-directory", "--directory-id", "d-0c0c0c0c0c", account=acct)


class StrictDirectoriesTest(DirectoriesTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = h.WsimServer(profile="instant", extra_args=["--directories", "strict"]).start()
        cls.addClassCleanup(cls.server.stop)
        cls.ws = cls.server.client(account=ACCOUNT)

    def test_only_declared_directories_register(self):
        did = "d-5555555555"
        self.assertError("ResourceNotFoundException", self.ws.register_workspace_directory, did, DirectoryId=did)
        status, body = self.server.control("POST", "directories", {
            "account": ACCOUNT, "region": h.DEFAULT_REGION, "directoryId": did, "stage": "Creating"})
        self.assertEqual(status, 201, body)
        self.assertError("InvalidResourceStateException", self.ws.register_workspace_directory, "Creating", DirectoryId=did)
        status, body = self.server.control("POST", "directories", {
            "account": ACCOUNT, "region": h.DEFAULT_REGION, "directoryId": did, "name": "corp.example.net", "users": ["jdoe"]})
        self.assertEqual(status, 200, body)
        self.ws.register_workspace_directory(DirectoryId=did)
        d = self.ws.describe_workspace_directories(DirectoryIds=[did])["Directories"][0]
        self.assertEqual((d["State"], d["DirectoryName"]), ("REGISTERED", "corp.example.net"))
        status, body = self.server.control("GET", "directories?account=" + ACCOUNT)
        self.assertEqual((status, body["mode"], [x["users"] for x in body["directories"]]), (200, "strict", [["jdoe"]]))
        status, _ = self.server.control("DELETE", "directories/%s?account=%s&region=%s" % (did, ACCOUNT, h.DEFAULT_REGION))
        self.assertEqual(status, 409)
        self.ws.deregister_workspace_directory(DirectoryId=did)
        status, _ = self.server.control("DELETE", "directories/%s?account=%s&region=%s" % (did, ACCOUNT, h.DEFAULT_REGION))
        self.assertEqual(status, 204)


if __name__ == "__main__":
    unittest.main()
