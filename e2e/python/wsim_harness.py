"""Harness for driving a real wsim binary with boto3 and the AWS CLI.

The tests in this package start `wsim serve` as a subprocess (in-memory store,
a free port on 127.0.0.1) and talk to it exactly as a user's script would:
through boto3, through the AWS CLI (`aws workspaces ...`), or with raw HTTP for
what no SDK can send. Time is driven through wsim's control plane
(/_wsim/clock), never by sleeping.

The binary is $WSIM_BIN; when that is unset it is built once per test run with
`go build -o <tmp>/wsim ./cmd/wsim` from the repository root.

Run from the repository root:

    WSIM_BIN=/path/to/wsim python3 -m unittest discover -s e2e/python -t . -p "test_*.py" -v
"""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DEFAULT_ACCOUNT = "111122223333"
DEFAULT_REGION = "us-east-1"

# The model's content type of every AWS JSON 1.1 request and response.
JSON_11 = "application/x-amz-json-1.1"

_build_lock = threading.Lock()
_built_binary = None
_build_error = None


def wsim_binary():
    """Path of the wsim binary under test: $WSIM_BIN, else built once."""
    global _built_binary, _build_error
    env_bin = os.environ.get("WSIM_BIN")
    if env_bin:
        if not os.access(env_bin, os.X_OK):
            raise RuntimeError("WSIM_BIN=%s is not an executable file" % env_bin)
        return env_bin
    with _build_lock:
        if _build_error is not None:  # build once per run, even when it fails
            raise RuntimeError(_build_error)
        if _built_binary is None:
            out_dir = tempfile.mkdtemp(prefix="wsim-e2e-bin-")
            atexit.register(shutil.rmtree, out_dir, True)
            path = os.path.join(out_dir, "wsim")
            proc = subprocess.run(
                ["go", "build", "-o", path, "./cmd/wsim"],
                cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
            )
            if proc.returncode != 0:
                _build_error = "go build ./cmd/wsim failed:\n" + proc.stdout + proc.stderr
                raise RuntimeError(_build_error)
            _built_binary = path
        return _built_binary


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WsimError(RuntimeError):
    """The wsim process or its control plane did not behave."""


class WsimServer:
    """A `wsim serve` subprocess on a free port with an in-memory store.

    Use as a context manager, or call start() and stop(). profile=None leaves
    --profile out (wsim's default). extra_args are added to the serve command
    line (e.g. ["--image-quota", "2"]).
    """

    START_TIMEOUT = 20.0

    def __init__(self, profile="instant", extra_args=()):
        self.profile = profile
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.url = None
        self._log = None
        self._tmp = None

    # -- process -----------------------------------------------------------

    def start(self):
        binary = wsim_binary()
        self._tmp = tempfile.mkdtemp(prefix="wsim-e2e-")
        last_error = None
        for _ in range(3):  # the free port may be taken before wsim binds it
            self.port = _free_port()
            self.url = "http://127.0.0.1:%d" % self.port
            log_path = os.path.join(self._tmp, "wsim-%d.log" % self.port)
            self._log = open(log_path, "w+b")
            args = [binary, "serve", "--addr", "127.0.0.1:%d" % self.port,
                    "--store", "memory", "--data-dir", self._tmp]
            if self.profile is not None:  # None: wsim's default profile
                args += ["--profile", self.profile]
            args += self.extra_args
            self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            try:
                self._wait_healthy()
                return self
            except WsimError as e:
                last_error = e
                self._kill()
                if "address already in use" not in str(e):
                    break
        self.stop()
        raise last_error

    def _wait_healthy(self):
        deadline = time.monotonic() + self.START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise WsimError("wsim exited with %s before becoming healthy:\n%s"
                                % (self.proc.returncode, self.log_text()))
            try:
                with urllib.request.urlopen(self.url + "/_wsim/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
                pass
            time.sleep(0.05)  # polling the start-up, not waiting for service time
        raise WsimError("wsim did not answer GET /_wsim/health with 200 within %.0fs:\n%s"
                        % (self.START_TIMEOUT, self.log_text()))

    def _kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; removes the temporary files."""
        self._kill()
        self.proc = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def log_text(self):
        """Everything wsim has logged so far."""
        if self._log is None or self._log.closed:
            return ""
        self._log.flush()
        with open(self._log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request_log_lines(self, operation):
        """The request log lines of one operation."""
        return [l for l in self.log_text().splitlines()
                if "msg=request" in l and ("operation=%s " % operation) in l]

    # -- control plane -------------------------------------------------------

    def control(self, method, path, body=None):
        """Calls /_wsim/<path>; returns (status, parsed JSON body or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_wsim/" + path.lstrip("/"), data=data, method=method)
        if method != "GET":
            # wsim takes control-plane writes only as JSON, even bodiless ones.
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        return status, (json.loads(raw) if raw.strip() else None)

    def _control_ok(self, method, path, body=None, expect=(200,)):
        status, out = self.control(method, path, body)
        if status not in expect:
            raise WsimError("%s /_wsim/%s %r -> %s %r" % (method, path, body, status, out))
        return out

    def clock(self):
        """GET /_wsim/clock: {"now", "epoch", "frozen", "offsetSeconds"}."""
        return self._control_ok("GET", "clock")

    def change_clock(self, action, by=None, to=None):
        body = {"action": action}
        if by is not None:
            body["by"] = by
        if to is not None:
            body["to"] = to
        return self._control_ok("POST", "clock", body)

    def freeze(self):
        return self.change_clock("freeze")

    def resume(self):
        return self.change_clock("resume")

    def advance(self, by):
        """Moves the service clock forward by a Go duration ("90m", "30s")."""
        return self.change_clock("advance", by=by)

    def set_clock(self, to):
        return self.change_clock("set", to=to)

    def reset_clock(self):
        return self.change_clock("reset")

    def now(self):
        """The service clock in epoch seconds (millisecond precision)."""
        return self.clock()["epoch"]

    def add_fault(self, **rule):
        """POST /_wsim/faults with a FaultRule (account, region, namePattern,
        sourceId, kind, failAt, errorCode, errorMessage); returns the rule."""
        return self._control_ok("POST", "faults", rule, expect=(201,))

    def faults(self):
        return self._control_ok("GET", "faults")["rules"]

    def delete_fault(self, rule_id=None):
        """Deletes one rule, or every rule when rule_id is None."""
        path = "faults" if rule_id is None else "faults/" + rule_id
        self._control_ok("DELETE", path, expect=(204,))

    # -- clients -----------------------------------------------------------

    def client(self, account=DEFAULT_ACCOUNT, region=DEFAULT_REGION, max_attempts=1,
               retry_mode="standard", parameter_validation=True):
        """A boto3 WorkSpaces client acting for account in region."""
        return boto3.session.Session().client(
            "workspaces", endpoint_url=self.url, region_name=region,
            aws_access_key_id=account, aws_secret_access_key="test",
            config=Config(retries={"max_attempts": max_attempts, "mode": retry_mode},
                          parameter_validation=parameter_validation,
                          connect_timeout=5, read_timeout=30),
        )

    def cli_env(self, account=DEFAULT_ACCOUNT, region=DEFAULT_REGION, max_attempts=1,
                config_file=os.devnull):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            # AWS CLI v1.45 (botocore 1.43) honours AWS_ENDPOINT_URL.
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": account,
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": region,
            "AWS_MAX_ATTEMPTS": str(max_attempts),
            "AWS_RETRY_MODE": "standard",
            "AWS_CONFIG_FILE": config_file,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_PAGER": "",
        })
        return env

    def cli(self, *args, account=DEFAULT_ACCOUNT, region=DEFAULT_REGION, max_attempts=1,
            parameter_validation=True):
        """Runs `aws workspaces <args> --output json`.

        Returns (exit code, parsed stdout JSON or None, stderr). With
        parameter_validation=False the CLI gets a config file that turns
        botocore's client-side validation off, so that wsim sees the request.
        """
        config_file = os.devnull
        tmp = None
        if not parameter_validation:
            fd, tmp = tempfile.mkstemp(prefix="wsim-e2e-awsconfig-")
            with os.fdopen(fd, "w") as f:
                f.write("[default]\nparameter_validation = false\n")
            config_file = tmp
        try:
            proc = subprocess.run(
                ["aws", "workspaces"] + [str(a) for a in args] + ["--output", "json"],
                env=self.cli_env(account, region, max_attempts, config_file),
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            )
        finally:
            if tmp:
                os.unlink(tmp)
        out = None
        if proc.stdout.strip():
            try:
                out = json.loads(proc.stdout)
            except ValueError:
                out = None
        return proc.returncode, out, proc.stderr

    def raw(self, target, body=b"{}", method="POST", headers=None):
        """Sends one unsigned HTTP request to the API endpoint.

        target is the X-Amz-Target header (None leaves it out). Returns
        (status, headers as a lower-cased dict, parsed JSON body or the raw
        bytes when it is not JSON).
        """
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        req = urllib.request.Request(self.url + "/", data=body if method != "GET" else None, method=method)
        req.add_header("Content-Type", JSON_11)
        if target is not None:
            req.add_header("X-Amz-Target", target)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, hdrs, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, raw = e.code, e.headers, e.read()
        lower = {k.lower(): v for k, v in hdrs.items()}
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
        return status, lower, parsed


# -- request helpers shared by the tests ------------------------------------

def sigv4_header(access_key=DEFAULT_ACCOUNT, region=DEFAULT_REGION, service="workspaces"):
    """An Authorization header of SigV4 shape for raw requests. wsim reads the
    caller from its credential scope; the signature itself is not checked."""
    return {"Authorization": "AWS4-HMAC-SHA256 Credential=%s/20250101/%s/%s/aws4_request, "
                             "SignedHeaders=host;x-amz-date;x-amz-target, Signature=%s"
                             % (access_key, region, service, "0" * 64),
            "X-Amz-Date": "20250101T000000Z"}


INFRA_ARN = "arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/wsim-e2e-infra"


def with_overrides(params, overrides):
    """params with overrides applied: a value replaces a member, None removes it."""
    for k, v in overrides.items():
        if v is None:
            params.pop(k, None)
        else:
            params[k] = v
    return params


class ServerTestCase(unittest.TestCase):
    """Test cases sharing one wsim server per class, started with the class's
    profile and extra arguments."""

    profile = "instant"
    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = WsimServer(profile=cls.profile, extra_args=cls.extra_args).start()
        cls.addClassCleanup(cls.server.stop)


def import_params(name, **overrides):
    """Valid ImportCustomWorkspaceImage parameters; overrides replace members
    (a value of None removes the member)."""
    return with_overrides({
        "ImageName": name,
        "ImageDescription": "Imported by the wsim e2e suite",
        "ComputeType": "BASE",
        "Protocol": "DCV",
        "ImageSource": {"Ec2ImageId": "ami-0123456789abcdef0"},
        "InfrastructureConfigurationArn": INFRA_ARN,
        "Platform": "WINDOWS",
        "OsVersion": "Windows_11",
    }, overrides)


def cli_import_args(params):
    """ImportCustomWorkspaceImage parameters as AWS CLI arguments."""
    flags = {
        "ImageName": "--image-name", "ImageDescription": "--image-description",
        "ComputeType": "--compute-type", "Protocol": "--protocol",
        "ImageSource": "--image-source",
        "InfrastructureConfigurationArn": "--infrastructure-configuration-arn",
        "Platform": "--platform", "OsVersion": "--os-version", "Tags": "--tags",
    }
    args = ["import-custom-workspace-image"]
    for k, v in params.items():
        args.append(flags[k])
        args.append(json.dumps(v) if isinstance(v, (dict, list)) else v)
    return args


def error_of(exc):
    """(code, message, HTTP status) of a botocore ClientError."""
    err = exc.response.get("Error", {})
    return err.get("Code"), err.get("Message", ""), exc.response["ResponseMetadata"]["HTTPStatusCode"]


class APIErrorAssertions:
    """unittest.TestCase mixin: assertError checks the AWS error a call gets."""

    def assertError(self, code, call, *fragments, **params):
        """call(**params) must fail with a 400 of the error code, whose
        message holds every fragment; returns the message."""
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            call(**params)
        got, message, status = error_of(cm.exception)
        self.assertEqual(got, code, message)
        self.assertEqual(status, 400)
        for f in fragments:
            self.assertIn(f, message)
        return message
