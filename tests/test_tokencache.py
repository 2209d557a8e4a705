"""tokencache: tokens by endpoint and user, private, tolerant of a corrupt file."""

from __future__ import annotations

import base64
import json
import os
import stat
import time
import tomllib
from pathlib import Path

import pytest

from vss_shell import paths
from vss_shell.tokencache import TokenCache

EP = "https://cloud-api.eis.utoronto.ca"


def b64url(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def jwt(seconds_left: float, sub: str = "jdoe") -> str:
    """A JWT expiring in ``seconds_left`` (fake signature: Token.parse doesn't verify)."""
    now = int(time.time())
    payload = {"sub": sub, "iat": now - 3600, "exp": now + int(seconds_left), "otp": True}
    return f"{b64url({'alg': 'HS256', 'typ': 'JWT'})}.{b64url(payload)}.c2lnbmF0dXJl"


@pytest.fixture
def cache(home) -> TokenCache:
    return TokenCache()


def test_put_get_drop(home, cache):
    token = jwt(3600)
    cache.put(EP, "jdoe", token)
    path = paths.tokens_path()
    assert cache.path == path == Path(home, ".local", "state", "vss-shell", "tokens.toml")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert cache.get(EP, "jdoe") == token
    assert cache.get(EP + "/", "jdoe") == token  # trailing slash ignored
    assert TokenCache(path).get(EP, "jdoe") == token  # another instance reads the file
    assert cache.get(EP, "other") is None
    assert cache.get("https://vss-api.eis.utoronto.ca", "jdoe") is None
    cache.drop(EP, "jdoe")
    assert cache.get(EP, "jdoe") is None
    cache.drop(EP, "jdoe")  # dropping nothing is fine


def test_entries_are_keyed_by_endpoint_and_user(cache):
    tokens = {
        (ep, user): jwt(3600, user)
        for ep in (EP, "http://127.0.0.1:8080")
        for user in ("a", "b@example.org", "c d")
    }
    for (ep, user), raw in tokens.items():
        cache.put(ep, user, raw)
    for (ep, user), raw in tokens.items():
        assert cache.get(ep, user) == raw
    doc = tomllib.loads(cache.path.read_text())
    assert doc["tokens"]["http://127.0.0.1:8080"]["c d"] == tokens[("http://127.0.0.1:8080", "c d")]
    cache.drop(EP, "a")
    assert cache.get(EP, "a") is None
    assert cache.get(EP, "b@example.org") == tokens[(EP, "b@example.org")]
    newer = jwt(7200, "a")
    cache.put("http://127.0.0.1:8080", "a", newer)
    assert cache.get("http://127.0.0.1:8080", "a") == newer


@pytest.mark.parametrize("seconds_left", [59, 30, 0, -100])
def test_soon_expiring_token_is_not_returned(cache, seconds_left):
    cache.path.parent.mkdir(parents=True)
    stale = jwt(seconds_left)
    cache.path.write_text(f'[tokens."{EP}"]\njdoe = "{stale}"\n')
    assert cache.get(EP, "jdoe") is None
    cache.put(EP, "other", jwt(3600))  # a write prunes the stale entry
    assert "jdoe" not in tomllib.loads(cache.path.read_text())["tokens"][EP]


def test_put_of_unusable_token_forgets_the_old_one(cache):
    cache.put(EP, "jdoe", jwt(3600))
    cache.put(EP, "jdoe", jwt(10))
    assert cache.get(EP, "jdoe") is None
    cache.put(EP, "jdoe", "not-a-jwt")
    assert cache.get(EP, "jdoe") is None
    assert "not-a-jwt" not in cache.path.read_text()


def test_unparsable_entry_is_ignored(cache):
    cache.path.parent.mkdir(parents=True)
    cache.path.write_text(f'[tokens."{EP}"]\njdoe = "a.b.c"\nbob = 5\n')
    assert cache.get(EP, "jdoe") is None
    assert cache.get(EP, "bob") is None


@pytest.mark.parametrize("text", ["tokens = [\n", "tokens = 5\n", "\xff\xfe garbage"])
def test_corrupt_cache_is_empty_and_replaced(cache, text):
    cache.path.parent.mkdir(parents=True)
    cache.path.write_bytes(text.encode("latin-1"))
    assert cache.get(EP, "jdoe") is None
    token = jwt(3600)
    cache.put(EP, "jdoe", token)
    assert cache.get(EP, "jdoe") == token
    assert stat.S_IMODE(os.stat(cache.path).st_mode) == 0o600


def test_reading_creates_nothing(home, cache):
    assert cache.get(EP, "jdoe") is None
    cache.drop(EP, "jdoe")
    assert not Path(home, ".local").exists()


def test_existing_file_mode_is_made_private(cache):
    cache.path.parent.mkdir(parents=True)
    cache.path.write_text("")
    os.chmod(cache.path, 0o644)
    cache.put(EP, "jdoe", jwt(3600))
    assert stat.S_IMODE(os.stat(cache.path).st_mode) == 0o600


@pytest.mark.parametrize("text", ["a = " + "[" * 100_000, "a = " + "{b=" * 100_000,
                                  "# big\n" + "x" * (2 << 20)])
def test_deep_or_huge_cache_is_empty_and_replaced(cache, text):
    cache.path.parent.mkdir(parents=True)
    cache.path.write_text(text)
    assert cache.get(EP, "jdoe") is None
    cache.drop(EP, "jdoe")  # nothing to drop in it
    token = jwt(3600)
    cache.put(EP, "jdoe", token)
    assert cache.get(EP, "jdoe") == token


def planted_link(cache: TokenCache) -> Path:
    """The cache path made a link to a file holding a cache with a token."""
    victim = cache.path.parent / "elsewhere.toml"
    cache.path.parent.mkdir(parents=True)
    victim.write_text(f'[tokens."{EP}"]\njdoe = "{jwt(3600)}"\n')
    cache.path.symlink_to(victim)
    return victim


def test_symlinked_cache_is_no_cache_and_never_written(cache):
    victim = planted_link(cache)
    before = victim.read_text()
    assert cache.get(EP, "jdoe") is None  # never read through the link
    with pytest.raises(OSError) as caught:
        cache.put(EP, "bob", jwt(3600, "bob"))
    assert caught.value.filename == str(cache.path)
    assert "symbolic link" in caught.value.strerror
    assert victim.read_text() == before
    assert cache.path.is_symlink()


def test_drop_that_cannot_remove_the_token_raises(cache):
    """`logout` must not say "Logged out." while the token stays cached."""
    token = jwt(3600)
    cache.put(EP, "jdoe", token)
    cache.path.chmod(0o400)  # read-only: the entry cannot be removed
    with pytest.raises(OSError) as caught:
        cache.drop(EP, "jdoe")
    assert caught.value.filename == str(cache.path)
    assert TokenCache(cache.path).get(EP, "jdoe") == token


def test_drop_through_a_link_raises(cache):
    victim = planted_link(cache)
    before = victim.read_text()
    with pytest.raises(OSError) as caught:
        cache.drop(EP, "jdoe")
    assert caught.value.filename == str(cache.path)
    assert victim.read_text() == before


def test_drop_in_an_unwritable_directory_names_the_cache(cache, monkeypatch):
    """Whatever step fails, the error names the cache file, not a temp file."""
    cache.put(EP, "jdoe", jwt(3600))

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", f"{cache.path.parent}/.tokens.toml.x.tmp")

    monkeypatch.setattr(os, "link", denied)
    monkeypatch.setattr(os, "replace", denied)
    with pytest.raises(PermissionError) as caught:
        cache.drop(EP, "jdoe")
    assert caught.value.filename == str(cache.path)
    assert sorted(os.listdir(cache.path.parent)) == ["tokens.toml", "tokens.toml.lock"]


def test_reading_removes_temp_files_a_killed_writer_left(cache):
    """A run that only reads the cache still removes them: they hold live tokens."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()  # its pid is now dead
    cache.path.parent.mkdir(parents=True)
    left = cache.path.parent / f".tokens.toml.{child.pid}.0123456789ab.tmp"
    left.write_text(f'[tokens."{EP}"]\njdoe = "{jwt(3600)}"\n')
    assert cache.get(EP, "jdoe") is None
    assert os.listdir(cache.path.parent) == []


def test_token_gives_the_cached_token_parsed(home, cache):
    cache.put(EP, "jdoe", jwt(3600))
    found = cache.token(EP, "jdoe")
    assert found is not None and found.username == "jdoe" and found.usable()
    assert found.raw == cache.get(EP, "jdoe")
    assert cache.token(EP, "other") is None
    cache.path.write_text(f'[tokens."{EP}"]\njdoe = "{jwt(30)}"\nbob = "not-a-jwt"\n')
    assert cache.token(EP, "jdoe") is None  # within its renewal margin
    assert cache.token(EP, "bob") is None  # not a token at all
