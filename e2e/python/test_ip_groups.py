"""IP access control groups through boto3 and the AWS CLI against a real
wsim: rules, association with directories, errors and limits, isolation.
"""

import itertools
import re
import unittest

from botocore.exceptions import ClientError

from . import wsim_harness as h

GROUP_ID = re.compile(r"^wsipg-[0-9a-z]{9}$")
CLI_SERVICE_ERROR_CODES = (254, 255)

# Every test acts as an account of its own on the shared server.
_accounts = ("%012d" % n for n in itertools.count(730000000001))


class IPGroupsTestCase(h.APIErrorAssertions, h.ServerTestCase):
    profile = "instant"

    def setUp(self):
        self.account = next(_accounts)
        self.ws = self.server.client(account=self.account)

    def group(self, gid, ws=None):
        result = (ws or self.ws).describe_ip_groups(GroupIds=[gid])["Result"]
        self.assertLessEqual(len(result), 1)
        return result[0] if result else None

    def directory(self, did="d-906734ad5c"):
        self.ws.register_workspace_directory(DirectoryId=did)
        d = self.ws.describe_workspace_directories(DirectoryIds=[did])["Directories"][0]
        self.assertEqual(d["State"], "REGISTERED")
        return did


class Boto3Test(IPGroupsTestCase):
    def test_lifecycle(self):
        gid = self.ws.create_ip_group(
            GroupName="Contractors", GroupDesc="Contractors IP access control group",
            UserRules=[{"ipRule": "150.24.14.0/24", "ruleDesc": "NY"}, {"ipRule": "125.191.14.85"}],
            Tags=[{"Key": "team", "Value": "desk"}])["GroupId"]
        self.assertRegex(gid, GROUP_ID)
        self.assertEqual(self.group(gid), {
            "groupId": gid, "groupName": "Contractors", "groupDesc": "Contractors IP access control group",
            "userRules": [{"ipRule": "150.24.14.0/24", "ruleDesc": "NY"}, {"ipRule": "125.191.14.85"}]})
        self.assertEqual(self.ws.describe_tags(ResourceId=gid)["TagList"], [{"Key": "team", "Value": "desk"}])

        self.ws.authorize_ip_rules(GroupId=gid, UserRules=[{"ipRule": "44.98.100.0/24", "ruleDesc": "STL"}])
        self.ws.revoke_ip_rules(GroupId=gid, UserRules=["125.191.14.85/32"])
        self.assertEqual([r["ipRule"] for r in self.group(gid)["userRules"]], ["150.24.14.0/24", "44.98.100.0/24"])
        self.ws.update_rules_of_ip_group(GroupId=gid, UserRules=[])
        self.assertEqual(self.group(gid)["userRules"], [])

        did = self.directory()
        self.ws.associate_ip_groups(DirectoryId=did, GroupIds=[gid])
        self.ws.associate_ip_groups(DirectoryId=did, GroupIds=[gid])  # idempotent
        d = self.ws.describe_workspace_directories(DirectoryIds=[did])["Directories"][0]
        self.assertEqual(d["ipGroupIds"], [gid])
        self.assertError("ResourceAssociatedException", self.ws.delete_ip_group, gid, did, GroupId=gid)
        self.ws.disassociate_ip_groups(DirectoryId=did, GroupIds=[gid])
        d = self.ws.describe_workspace_directories(DirectoryIds=[did])["Directories"][0]
        self.assertNotIn("ipGroupIds", d)
        self.ws.delete_ip_group(GroupId=gid)
        self.assertIsNone(self.group(gid))
        self.assertError("ResourceNotFoundException", self.ws.delete_ip_group, gid, GroupId=gid)

    def test_deregistered_directory_lets_go(self):
        did = self.directory()
        gid = self.ws.create_ip_group(GroupName="g")["GroupId"]
        self.ws.associate_ip_groups(DirectoryId=did, GroupIds=[gid])
        self.ws.deregister_workspace_directory(DirectoryId=did)
        self.ws.delete_ip_group(GroupId=gid)
        gid = self.ws.create_ip_group(GroupName="g")["GroupId"]
        self.assertError("ResourceNotFoundException", self.ws.associate_ip_groups, did,
                         DirectoryId=did, GroupIds=[gid])

    def test_errors(self):
        gid = self.ws.create_ip_group(GroupName="taken")["GroupId"]
        self.assertError("ResourceAlreadyExistsException", self.ws.create_ip_group, "taken", GroupName="taken")
        for bad in ("10.0.0.0/33", "10.0.0.01/16", "2001:db8::/32", "anywhere"):
            self.assertError("InvalidParameterValuesException", self.ws.create_ip_group, bad,
                             GroupName="g", UserRules=[{"ipRule": bad}])
        # As in the Terraform provider's acceptance tests against AWS.
        tf = self.ws.create_ip_group(GroupName="tf", UserRules=[
            {"ipRule": "10.0.0.0/16"}, {"ipRule": "10.0.0.1/16", "ruleDesc": "Home"}])["GroupId"]
        self.assertEqual(self.group(tf)["userRules"], [{"ipRule": "10.0.0.0/16"}, {"ipRule": "10.0.0.1/16", "ruleDesc": "Home"}])
        rules = [{"ipRule": "192.0.2.%d" % i} for i in range(11)]
        self.assertError("ResourceLimitExceededException", self.ws.create_ip_group, "10 rules",
                         GroupName="g", UserRules=rules)
        self.ws.update_rules_of_ip_group(GroupId=gid, UserRules=rules[:10])
        self.assertError("ResourceLimitExceededException", self.ws.authorize_ip_rules, gid,
                         GroupId=gid, UserRules=rules[10:])
        self.assertError("InvalidParameterValuesException", self.ws.revoke_ip_rules, "198.51.100.1",
                         GroupId=gid, UserRules=["198.51.100.1"])
        self.assertError("ResourceNotFoundException", self.ws.associate_ip_groups, "d-0123456789",
                         DirectoryId="d-0123456789", GroupIds=[gid])
        self.assertError("ResourceNotFoundException", self.ws.authorize_ip_rules, "wsipg-000000000",
                         GroupId="wsipg-000000000", UserRules=rules[:1])
        self.assertError("InvalidParameterValuesException", self.ws.create_ip_group, "aws:",
                         GroupName="g", Tags=[{"Key": "aws:x", "Value": "v"}])

    def test_limits_and_paging(self):
        ids = sorted(self.ws.create_ip_group(GroupName="g%03d" % i)["GroupId"] for i in range(100))
        self.assertError("ResourceLimitExceededException", self.ws.create_ip_group, "100",
                         GroupName="one-too-many")
        got, token = [], None
        while True:
            kw = {"MaxResults": 7}
            if token:
                kw["NextToken"] = token
            page = self.ws.describe_ip_groups(**kw)
            self.assertLessEqual(len(page["Result"]), 7)
            got += [g["groupId"] for g in page["Result"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(got, ids)
        did = self.directory()
        self.assertError("ResourceLimitExceededException", self.ws.associate_ip_groups, "25",
                         DirectoryId=did, GroupIds=ids[:26])
        self.ws.associate_ip_groups(DirectoryId=did, GroupIds=ids[:25])
        d = self.ws.describe_workspace_directories(DirectoryIds=[did])["Directories"][0]
        self.assertEqual(d["ipGroupIds"], ids[:25])

    def test_isolation(self):
        gid = self.ws.create_ip_group(GroupName="same")["GroupId"]
        other = self.server.client(account=next(_accounts))
        elsewhere = self.server.client(account=self.account, region="eu-west-1")
        for ws in (other, elsewhere):
            self.assertEqual(ws.describe_ip_groups()["Result"], [])
            self.assertIsNone(self.group(gid, ws))
            self.assertError("ResourceNotFoundException", ws.delete_ip_group, gid, GroupId=gid)
            ws.create_ip_group(GroupName="same")
        self.assertEqual(self.group(gid)["groupName"], "same")


class CLITest(IPGroupsTestCase):
    def cli_ok(self, *args):
        rc, out, err = self.server.cli(*args, account=self.account)
        self.assertEqual(rc, 0, err)
        return out

    def assertCliError(self, code, *args):
        rc, _, err = self.server.cli(*args, account=self.account)
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES, err)
        self.assertIn("(%s)" % code, err)

    def test_cli(self):
        gid = self.cli_ok("create-ip-group", "--group-name", "Office", "--group-desc", "HQ",
                          "--user-rules", "ipRule=203.0.113.0/24,ruleDesc=LAN")["GroupId"]
        self.assertRegex(gid, GROUP_ID)
        self.cli_ok("authorize-ip-rules", "--group-id", gid, "--user-rules", "ipRule=198.51.100.7")
        out = self.cli_ok("describe-ip-groups", "--group-ids", gid)
        self.assertEqual(out["Result"], [{"groupId": gid, "groupName": "Office", "groupDesc": "HQ", "userRules": [
            {"ipRule": "203.0.113.0/24", "ruleDesc": "LAN"}, {"ipRule": "198.51.100.7"}]}])
        self.cli_ok("revoke-ip-rules", "--group-id", gid, "--user-rules", "198.51.100.7")
        self.cli_ok("update-rules-of-ip-group", "--group-id", gid, "--user-rules", "ipRule=10.0.0.0/8")
        self.assertEqual(self.cli_ok("describe-ip-groups")["Result"][0]["userRules"], [{"ipRule": "10.0.0.0/8"}])
        self.assertCliError("InvalidParameterValuesException", "authorize-ip-rules", "--group-id", gid,
                            "--user-rules", "ipRule=10.0.0.0/99")
        did = self.directory()
        self.cli_ok("associate-ip-groups", "--directory-id", did, "--group-ids", gid)
        self.assertCliError("ResourceAssociatedException", "delete-ip-group", "--group-id", gid)
        self.cli_ok("disassociate-ip-groups", "--directory-id", did, "--group-ids", gid)
        self.cli_ok("delete-ip-group", "--group-id", gid)
        self.assertEqual(self.cli_ok("describe-ip-groups")["Result"], [])
        self.assertCliError("ResourceNotFoundException", "delete-ip-group", "--group-id", gid)


if __name__ == "__main__":
    unittest.main()
