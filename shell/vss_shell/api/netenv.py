"""Where requests go and whom they trust, read once per session from the environment.

The standard variables: ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` (either case,
lower case first, as curl and Python read them), ``NO_PROXY``;
``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` and ``SSL_CERT_FILE``, which replace the
trusted certificate authorities. A loopback endpoint (127.0.0.0/8, ::1,
localhost) never goes through a proxy, whatever the variables say.

Pure and cheap: no ``requests`` here; the client applies the result once
(``trust_env`` off), so nothing scans the environment per request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from vss_shell.errors import hide_url_secrets
from vss_shell.record import Frozen

#: Variables that replace the trusted CAs, in the order they win.
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


class NetEnv(Frozen):
    """What the environment says for one endpoint. Safe to show: ``proxy`` hides
    the proxy's credentials; the URL requests need is kept out of ``repr``."""

    __slots__ = FIELDS = ("proxy", "proxy_source", "ca_bundle", "ca_source", "proxy_url")
    _hidden = ("proxy_url",)

    def __init__(self, proxy: str | None = None, proxy_source: str | None = None,
                 ca_bundle: str | None = None, ca_source: str | None = None,
                 proxy_url: str | None = None) -> None:
        #: The proxy requests to the endpoint go through, as shown (``***`` for its
        #: user name and password), or None (direct).
        self.proxy = proxy
        #: The variable that named the proxy (``https_proxy``, ``ALL_PROXY``...).
        self.proxy_source = proxy_source
        #: A CA bundle path that replaces the trusted CAs, and the variable that set it.
        self.ca_bundle = ca_bundle
        self.ca_source = ca_source
        #: The proxy URL as given (credentials included), for ``requests`` only.
        self.proxy_url = proxy_url

    @property
    def proxies(self) -> dict[str, str]:
        """The ``proxies`` mapping for ``requests`` (empty: direct)."""
        if self.proxy_url is None:
            return {}
        return {"http": self.proxy_url, "https": self.proxy_url}

    def describe(self) -> str:
        """One line for ``--debug`` and ``whoami``: the proxy and the CAs in use."""
        via = f"proxy {self.proxy} (from {self.proxy_source})" if self.proxy else "no proxy"
        cas = f"CA bundle {self.ca_bundle} (from {self.ca_source})" if self.ca_bundle else (
            "default CAs")
        return f"{via}; {cas}"


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (also IPv4-mapped): the hosts
    that never go through a proxy and may be spoken to in plain http (the profiles'
    check too). Other names, ``*.localhost`` included, depend on a resolver."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    if not host or not (host[0].isdigit() or ":" in host):
        return False
    import ipaddress  # only for what looks like an address

    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _get(env: Mapping[str, str], name: str) -> tuple[str | None, str | None]:
    """The value of ``name`` (lower case first, then upper case) and its spelling."""
    for spelling in (name.lower(), name.upper()):
        value = (env.get(spelling) or "").strip()
        if value:
            return value, spelling
    return None, None


def _port(parts: object) -> int | None:
    try:
        return parts.port  # type: ignore[attr-defined]
    except ValueError:
        return None


def bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """True when ``NO_PROXY`` (comma or space separated) names ``host``: ``*``; the
    host or a parent domain (``example.org``, ``.example.org``), optionally with
    ``:port``; an address or a CIDR block (``10.0.0.0/8``)."""
    host = host.strip("[]").lower().rstrip(".")
    for entry in no_proxy.replace(",", " ").split():
        entry = entry.lower()
        if entry == "*":
            return True
        name, want_port = entry, None
        if entry.count(":") == 1 or (entry.startswith("[") and "]:" in entry):
            name, _, text = entry.rpartition(":")
            want_port = int(text) if text.isdigit() else -1
        name = name.strip("[]").lstrip("*").lstrip(".").rstrip(".")
        if not name or (want_port is not None and want_port != port):
            continue
        if host == name or host.endswith("." + name) or _in_block(host, name):
            return True
    return False


def _in_block(host: str, block: str) -> bool:
    if "/" not in block or not (host[:1].isdigit() or ":" in host):
        return False
    import ipaddress

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(block, strict=False)
    except ValueError:
        return False


def _proxy_for(scheme: str, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    url, source = _get(env, f"{scheme}_proxy")
    if url is None:
        url, source = _get(env, "all_proxy")
    if url is not None and scheme == "http" and source == "HTTP_PROXY" and (
        "REQUEST_METHOD" in env
    ):
        return None, None  # a CGI request's "Proxy:" header (httpoxy): never trusted
    if url is not None and "://" not in url:
        url = "http://" + url  # as requests and curl read "host:port"
    return url, source


def resolve(endpoint: str, env: Mapping[str, str] | None = None) -> NetEnv:
    """The proxy and CA settings for ``endpoint``, from ``env`` (``os.environ`` if None)."""
    env = os.environ if env is None else env
    parts = urlsplit(endpoint.strip())
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    ca_bundle = ca_source = None
    for name in CA_VARIABLES if scheme == "https" else ():  # plain http trusts no CA
        value = (env.get(name) or "").strip()
        if value:
            ca_bundle, ca_source = value, name
            break
    proxy_url = proxy_source = None
    if host and not is_loopback(host):
        proxy_url, proxy_source = _proxy_for(scheme, env)
        no_proxy, _ = _get(env, "no_proxy")
        port = _port(parts) or {"http": 80, "https": 443}.get(scheme)
        if proxy_url is not None and no_proxy and bypassed(host, port, no_proxy):
            proxy_url = proxy_source = None
    return NetEnv(
        proxy=hide_url_secrets(proxy_url) if proxy_url else None,
        proxy_source=proxy_source,
        ca_bundle=ca_bundle,
        ca_source=ca_source,
        proxy_url=proxy_url,
    )
