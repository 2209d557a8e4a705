"""Where requests go and whom they trust, read once per session from the environment.

The standard variables: ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` (either case),
``NO_PROXY``; ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` and ``SSL_CERT_FILE``, which
replace the trusted certificate authorities. A loopback endpoint (127.0.0.0/8,
::1, localhost) never goes through a proxy, whatever the variables say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class NetEnv:
    """What the environment says for one endpoint."""

    #: The proxy URL requests to the endpoint go through, or None (direct).
    proxy: str | None = None
    #: A CA bundle path that replaces the trusted CAs, and the variable that set it.
    ca_bundle: str | None = None
    ca_source: str | None = None


def resolve(endpoint: str, env: Mapping[str, str] | None = None) -> NetEnv:
    """The proxy and CA settings for ``endpoint`` (stub: direct, default CAs)."""
    return NetEnv()
