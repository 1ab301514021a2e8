"""WorkSpaces themselves through boto3 and the AWS CLI, including the CLI's
own examples run as printed (only the ids changed), against a real wsim on
a frozen clock moved by hand.
"""

import json
import os
import re
import shlex
import unittest

import awscli
from botocore.exceptions import ClientError

from . import wsim_harness as h

EXAMPLES = os.path.join(os.path.dirname(awscli.__file__), "examples", "workspaces")
WS_ID = re.compile(r"^ws-[0-9a-z]{9}$")
COMPUTER_NAME = re.compile(r"^WSAMZN-[A-Z0-9]{8}$")
CLI_SERVICE_ERROR_CODES = (254, 255)
# The public bundle "Value with Windows 10" real clients name by id, and the
# directory id of the CLI's examples (well formed, so friendly mode knows it).
PUBLIC_BUNDLE = "wsb-bh8rsxt14"
EXAMPLE_DIRECTORY = "d-926722edaf"


def examples(name):
    """Every (argv after `aws workspaces`, printed output or None) of one of
    the CLI's bundled example pages, in order."""
    with open(os.path.join(EXAMPLES, name + ".rst")) as f:
        text = f.read()
    out = []
    for m in re.finditer(r"^\s+aws workspaces ((?:.*\\\n)*.*)$", text, re.M):
        argv = shlex.split(m.group(1).replace("\\\n", " "))
        rest = text[m.end():]
        nxt = re.search(r"^\s+aws workspaces ", rest, re.M)
        block = rest[:nxt.start()] if nxt else rest
        o = re.search(r"Output::\n\n((?:    .*\n|\n)+)", block)
        out.append((argv, json.loads(o.group(1)) if o else None))
    return out


def substitute(argv, ids):
    """argv with every id of the example replaced by ours."""
    res = []
    for a in argv:
        for old, new in ids.items():
            a = a.replace(old, new)
        res.append(a)
    return res


class WorkspacesTestCase(h.APIErrorAssertions, unittest.TestCase):
    profile = "quick"
    extra_args = ("--workspace-quota", "20")

    @classmethod
    def setUpClass(cls):
        cls.server = h.WsimServer(profile=cls.profile, extra_args=cls.extra_args).start()
        cls.addClassCleanup(cls.server.stop)
        cls.server.freeze()
        cls.ws = cls.server.client()
        cls.ws.register_workspace_directory(DirectoryId=EXAMPLE_DIRECTORY)
        cls.server.advance("3s")

    def cli_ok(self, *args):
        rc, out, err = self.server.cli(*args)
        self.assertEqual(rc, 0, err)
        return out

    def state(self, wid):
        got = self.ws.describe_workspaces(WorkspaceIds=[wid])["Workspaces"]
        return got[0]["State"] if got else "gone"

    def observe(self, wid, *steps):
        """Advances the clock by each (duration, state) step and checks it."""
        for by, want in steps:
            if by:
                self.server.advance(by)
            self.assertEqual(self.state(wid), want, "after %s more" % by)


class CLIExamplesTest(WorkspacesTestCase):
    """Every WorkSpace example of the CLI, in an order that makes each one's
    printed output true: create (three ways), stop, describe (STOPPED),
    start, reboot, rebuild, restore, modify properties and state, connection
    status, migrate, terminate."""

    def run_example(self, argv, want, ids):
        out = self.cli_ok(*substitute(argv, ids))
        if want is None:
            self.assertIsNone(out, "the example prints nothing")
            return out
        return out

    def test_examples_in_order(self):
        ids = {"wsb-0zsvgp8fc": PUBLIC_BUNDLE}

        # create-workspaces: AlwaysOn for Mateo, AutoStop for Mary, and a
        # user-decoupled one; each prints its pending request.
        for i, (argv, want) in enumerate(examples("create-workspaces")):
            out = self.run_example(argv, want, ids)
            self.assertEqual(out["FailedRequests"], [])
            got = out["PendingRequests"][0]
            self.assertRegex(got["WorkspaceId"], WS_ID)
            printed = want["PendingRequests"][0]
            ids[printed["WorkspaceId"]] = got["WorkspaceId"]
            expect = dict(printed, WorkspaceId=got["WorkspaceId"], BundleId=PUBLIC_BUNDLE)
            self.assertEqual(got, expect)
        mateo, mary = ids["ws-kcqms853t"], ids["ws-dk1xzr417"]
        self.observe(mary, (0, "PENDING"), ("5s", "AVAILABLE"))

        # stop-workspaces on Mary's AutoStop WorkSpace, then describe it STOPPED.
        [(argv, want)] = examples("stop-workspaces")
        self.assertEqual(self.run_example(argv, want, ids), want)
        self.observe(mary, (0, "STOPPING"), ("3s", "STOPPED"))
        [(argv, want)] = examples("describe-workspaces")
        out = self.run_example(argv, want, ids)
        [got], [printed] = out["Workspaces"], want["Workspaces"]
        self.assertRegex(got["ComputerName"], COMPUTER_NAME)
        self.assertRegex(got["IpAddress"], r"^\d+\.\d+\.\d+\.\d+$")
        self.assertRegex(got["SubnetId"], r"^subnet-[0-9a-f]+$")
        props = dict(got["WorkspaceProperties"])
        # Newer than the example: the protocol and the operating system.
        self.assertEqual(props.pop("Protocols"), ["PCOIP"])
        self.assertEqual(props.pop("OperatingSystemName"), "WINDOWS_10")
        expect = dict(printed, WorkspaceId=mary, BundleId=PUBLIC_BUNDLE, IpAddress=got["IpAddress"],
                      SubnetId=got["SubnetId"], ComputerName=got["ComputerName"], WorkspaceProperties=props)
        self.assertEqual(dict(got, WorkspaceProperties=props), expect)
        self.assertEqual(props, printed["WorkspaceProperties"])

        for page, steps in [
            ("start-workspaces", [(0, "STARTING"), ("3s", "AVAILABLE")]),
            ("reboot-workspaces", [(0, "REBOOTING"), ("3s", "AVAILABLE")]),
            ("rebuild-workspaces", [(0, "REBUILDING"), ("6s", "AVAILABLE")]),
            ("restore-workspace", [(0, "RESTORING"), ("6s", "AVAILABLE")]),
        ]:
            [(argv, want)] = examples(page)
            out = self.run_example(argv, want, ids)
            if want is not None:
                self.assertEqual(out, want, page)
            self.observe(mary, *steps)

        # modify-workspace-properties: AUTO_STOP at once, no output. The
        # example's WorkSpace is Mary's (already AUTO_STOP); run it on
        # Mateo's AlwaysOn one too, where it changes something.
        [(argv, want)] = examples("modify-workspace-properties")
        self.run_example(argv, want, ids)
        self.run_example(argv, want, dict(ids, **{"ws-dk1xzr417": mateo}))
        props = self.ws.describe_workspaces(WorkspaceIds=[mateo])["Workspaces"][0]["WorkspaceProperties"]
        self.assertEqual((props["RunningMode"], props["RunningModeAutoStopTimeoutInMinutes"]), ("AUTO_STOP", 60))

        # modify-workspace-state into ADMIN_MAINTENANCE, and back with boto3.
        [(argv, want)] = examples("modify-workspace-state")
        self.run_example(argv, want, ids)
        self.observe(mary, ("1s", "ADMIN_MAINTENANCE"))
        self.ws.modify_workspace_state(WorkspaceId=mary, WorkspaceState="AVAILABLE")
        self.observe(mary, ("1s", "AVAILABLE"))

        # describe-workspaces-connection-status: the example's user is
        # connected, which the wsim:connection-state tag says.
        self.ws.create_tags(ResourceId=mary, Tags=[{"Key": "wsim:connection-state", "Value": "CONNECTED"}])
        [(argv, want)] = examples("describe-workspaces-connection-status")
        out = self.run_example(argv, want, ids)
        [got], [printed] = out["WorkspacesConnectionStatus"], want["WorkspacesConnectionStatus"]
        self.assertIsInstance(got["ConnectionStateCheckTimestamp"], (int, float))
        self.assertAlmostEqual(got["ConnectionStateCheckTimestamp"], self.server.now(), delta=0.001)
        self.assertEqual(got, dict(printed, WorkspaceId=mary, ConnectionStateCheckTimestamp=got["ConnectionStateCheckTimestamp"]))

        # migrate-workspace to the public Performance with Amazon Linux 2
        # bundle the example names.
        [(argv, want)] = examples("migrate-workspace")
        out = self.run_example(argv, want, ids)
        self.assertEqual(out["SourceWorkspaceId"], mary)
        self.assertRegex(out["TargetWorkspaceId"], WS_ID)
        self.assertNotEqual(out["TargetWorkspaceId"], mary)
        target = out["TargetWorkspaceId"]
        self.assertEqual(self.state(mary), "gone")
        self.observe(target, (0, "PENDING"), ("5s", "AVAILABLE"))
        w = self.ws.describe_workspaces(WorkspaceIds=[target])["Workspaces"][0]
        self.assertEqual((w["BundleId"], w["UserName"], w["WorkspaceProperties"]["OperatingSystemName"]),
                         ("wsb-j4dky1gs4", "Mary", "AMAZON_LINUX_2"))

        # terminate-workspaces on the migrated WorkSpace.
        [(argv, want)] = examples("terminate-workspaces")
        ids["ws-dk1xzr417"] = target
        self.assertEqual(self.run_example(argv, want, ids), want)
        self.observe(target, (0, "TERMINATING"), ("3s", "TERMINATED"), ("2s", "gone"))


class Boto3Test(WorkspacesTestCase):
    def test_byol_story(self):
        """Import → bundle → DEDICATED directory → launch → image, in boto3."""
        img = self.ws.import_custom_workspace_image(**h.import_params("py-byol"))["ImageId"]
        self.server.advance("40s")
        self.assertEqual(self.ws.describe_custom_workspace_image_import(ImageId=img)["State"], "COMPLETED")
        bundle = self.ws.create_workspace_bundle(
            BundleName="py-byol-bundle", BundleDescription="BYOL", ImageId=img,
            ComputeType={"Name": "STANDARD"}, UserStorage={"Capacity": "50"},
            RootStorage={"Capacity": "80"})["WorkspaceBundle"]["BundleId"]
        self.ws.register_workspace_directory(DirectoryId="d-906716ab01", Tenancy="DEDICATED")
        self.server.advance("3s")
        out = self.ws.create_workspaces(Workspaces=[
            {"DirectoryId": EXAMPLE_DIRECTORY, "UserName": "byol1", "BundleId": bundle},
            {"DirectoryId": "d-906716ab01", "UserName": "byol1", "BundleId": bundle,
             "WorkspaceProperties": {"RunningMode": "AUTO_STOP", "RunningModeAutoStopTimeoutInMinutes": 120}},
        ])
        [failed] = out["FailedRequests"]
        self.assertEqual(failed["ErrorCode"], "UnsupportedWorkspaceConfiguration.Tenancy")
        self.assertEqual(failed["WorkspaceRequest"]["DirectoryId"], EXAMPLE_DIRECTORY)
        [pending] = out["PendingRequests"]
        wid = pending["WorkspaceId"]
        self.observe(wid, (0, "PENDING"), ("5s", "AVAILABLE"))
        w = self.ws.describe_workspaces(WorkspaceIds=[wid])["Workspaces"][0]
        self.assertEqual(w["WorkspaceProperties"]["RunningModeAutoStopTimeoutInMinutes"], 120)
        self.assertEqual(w["WorkspaceProperties"]["ComputeTypeName"], "STANDARD")

        image = self.ws.create_workspace_image(Name="py-golden", Description="golden", WorkspaceId=wid)
        self.assertEqual((image["State"], image["RequiredTenancy"]), ("PENDING", "DEDICATED"))
        self.observe(wid, (0, "SUSPENDED"), ("10s", "AVAILABLE"))
        got = self.ws.describe_workspace_images(ImageIds=[image["ImageId"]])["Images"][0]
        self.assertEqual(got["State"], "AVAILABLE")

        self.assertError("ResourceAssociatedException", self.ws.delete_workspace_bundle, wid, BundleId=bundle)
        self.assertEqual(self.ws.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": wid}])["FailedRequests"], [])
        self.observe(wid, (0, "TERMINATING"), ("3s", "TERMINATED"), ("2s", "gone"))
        self.ws.delete_workspace_bundle(BundleId=bundle)

    def test_paginator_and_filters(self):
        ids = []
        for user in ("pg1", "pg2", "pg3"):
            out = self.ws.create_workspaces(Workspaces=[{"DirectoryId": EXAMPLE_DIRECTORY, "UserName": user, "BundleId": PUBLIC_BUNDLE}])
            ids.append(out["PendingRequests"][0]["WorkspaceId"])
        pages = self.ws.get_paginator("describe_workspaces").paginate(DirectoryId=EXAMPLE_DIRECTORY, Limit=1)
        seen = [w["WorkspaceId"] for p in pages for w in p["Workspaces"]]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(set(ids) <= set(seen))
        by_user = self.ws.describe_workspaces(DirectoryId=EXAMPLE_DIRECTORY, UserName="PG2")["Workspaces"]
        self.assertEqual([w["WorkspaceId"] for w in by_user], [ids[1]])
        statuses = self.ws.get_paginator("describe_workspaces_connection_status").paginate(WorkspaceIds=ids)
        got = [s for p in statuses for s in p["WorkspacesConnectionStatus"]]
        self.assertEqual(sorted(s["WorkspaceId"] for s in got), sorted(ids))
        self.assertError("InvalidParameterValuesException", self.ws.describe_workspaces, "one filter",
                         DirectoryId=EXAMPLE_DIRECTORY, WorkspaceIds=ids[:1])
        self.server.advance("5s")
        self.ws.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": i} for i in ids])

    def test_errors(self):
        out = self.ws.create_workspaces(Workspaces=[
            {"DirectoryId": "d-ffffffffff", "UserName": "x", "BundleId": PUBLIC_BUNDLE}])
        [f] = out["FailedRequests"]
        self.assertEqual((f["ErrorCode"], f["ErrorMessage"]),
                         ("ResourceNotFound.Directory", "The specified directory could not be found in the specified region."))
        self.assertEqual(out["PendingRequests"], [])
        out = self.ws.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": "ws-000000000"}])
        self.assertEqual(out["FailedRequests"][0]["ErrorCode"], "ResourceNotFound.Workspace")
        self.assertError("ResourceNotFoundException", self.ws.restore_workspace, WorkspaceId="ws-000000000")
        self.assertError("ResourceNotFoundException", self.ws.describe_workspace_snapshots, WorkspaceId="ws-000000000")
        self.assertError("ResourceNotFoundException", self.ws.modify_workspace_properties,
                         WorkspaceId="ws-000000000", WorkspaceProperties={"RunningMode": "AUTO_STOP"})
        # Another account sees nothing of this one's WorkSpaces.
        other = self.server.client(account="999988887777")
        self.assertEqual(other.describe_workspaces()["Workspaces"], [])


class CLITest(WorkspacesTestCase):
    def test_cli_errors(self):
        rc, _, err = self.server.cli("describe-workspaces", "--directory-id", EXAMPLE_DIRECTORY, "--bundle-id", PUBLIC_BUNDLE)
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES, err)
        self.assertIn("(InvalidParameterValuesException)", err)
        rc, _, err = self.server.cli("restore-workspace", "--workspace-id", "ws-000000000")
        self.assertIn(rc, CLI_SERVICE_ERROR_CODES, err)
        self.assertIn("(ResourceNotFoundException)", err)
        out = self.cli_ok("reboot-workspaces", "--reboot-workspace-requests", "ws-000000000")
        self.assertEqual(out["FailedRequests"][0]["WorkspaceId"], "ws-000000000")


if __name__ == "__main__":
    unittest.main()
