"""Value classes (vss_shell.record): what the dataclasses they replace gave, no more."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vss_shell.api.netenv import NetEnv
from vss_shell.api.token import Token
from vss_shell.commands.table import Arg, Group, Opt, When
from vss_shell.credentials import CredentialSources
from vss_shell.dispatch import Failure
from vss_shell.profiles import PROFILE_KEYS, Profile
from vss_shell.record import replace

SHELL = Path(__file__).resolve().parents[1] / "shell"


def test_the_way_to_the_prompt_does_not_import_dataclasses() -> None:
    # Nor the way to the first request (the client, its session and its network settings).
    code = ("import sys\n"
            "import vss_shell.cli, vss_shell.repl\n"
            "from vss_shell.commands import table\n"
            "table()\n"
            "import vss_shell.api.client, vss_shell.api.netenv, vss_shell.session\n"
            "print('dataclasses' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(SHELL)}, timeout=60, check=True)
    assert done.stdout.strip() == "False", done.stdout + done.stderr


def test_repr_hides_what_must_not_show() -> None:
    raw = "aaaa.bbbb.cccc-secret"
    token = Token(raw, "jdoe", 1, 2, True)
    assert raw not in repr(token) and "cccc" not in repr(token)
    assert repr(token) == "Token(username='jdoe', issued_at=1, expires_at=2, mfa=True)"
    sources = CredentialSources({}, otp_command="otp", _used="123456")
    assert "123456" not in repr(sources) and "otp_command='otp'" in repr(sources)
    assert "parse" not in repr(PROFILE_KEYS["endpoint"])
    proxy = NetEnv("http://***:***@proxy:3128", "HTTPS_PROXY",
                   proxy_url="http://user:hunter2@proxy:3128")
    assert "hunter2" not in repr(proxy) and "HTTPS_PROXY" in repr(proxy)


def test_frozen_values_compare_and_hash_by_their_fields() -> None:
    when = When("method", ("SMS",))
    one = Opt("--phone", "phone number", "NUMBER", when=when)
    two = Opt("--phone", "phone number", "NUMBER", when=When("method", ("SMS",)))
    assert one == two and hash(one) == hash(two) and len({one, two}) == 1
    assert one != replace(one, short="-p") and one != Arg("--phone", "phone number")
    assert replace(Arg("code", "the code"), rest=True).rest is True


def test_mutable_values_compare_but_do_not_hash() -> None:
    assert Failure(2, "bad", "usage: x") == Failure(2, "bad", "usage: x") != Failure(1, "bad")
    with pytest.raises(TypeError):
        hash(Failure(1, "x"))
    group = Group("mfa", "MFA")
    assert group.children == {} and Group("x", "y").children is not group.children
    # ``explicit`` says where the values came from, not what they are.
    assert Profile("w", "https://a", explicit=frozenset({"endpoint"})) == Profile("w", "https://a")
