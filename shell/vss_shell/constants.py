"""Constants of the VSS API contract, shared by the client and the emulator.

This is the only module the emulator and the client have in common.
"""

from __future__ import annotations

#: Production endpoints, by profile name (the first is the default).
ENDPOINTS: dict[str, str] = {
    "cloud-api": "https://cloud-api.eis.utoronto.ca",
    "vss-api": "https://vss-api.eis.utoronto.ca",
}

#: MFA methods, exactly as the API spells them.
MFA_METHODS: tuple[str, ...] = ("EMAIL", "AUTHENTICATOR", "SMS")

#: Markers the server puts inside an error ``message``; clients search for them.
OTP_MARKER = "InvalidParameterValue: otp"
ENFORCE_MARKER = "TotpEnforcement: Must enable TOTP"
DISABLE_TOKEN_MARKER = "InvalidParameterValue: token"

#: Error kinds (``error`` field) by HTTP status.
ERROR_KINDS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}

#: Statuses that mean success.
SUCCESS_STATUSES = frozenset({200, 201, 202, 204})

#: API paths.
PATH_TOKEN = "/auth/request-token"
PATH_TF_REQUEST = "/tf/request-token"
PATH_TF_ENABLE = "/tf/enable"
PATH_TF_VERIFY = "/tf/verify"
PATH_TF_DISABLE = "/tf/disable"
PATH_USER = "/v2/user"

#: TOTP parameters (RFC 6238 as the contract fixes them).
TOTP_DIGITS = 6
TOTP_STEP = 30
TOTP_ISSUER = "ITS Private Cloud"

#: Test-and-demo endpoints of the emulator (never on a real server).
PATH_EMU_OUTBOX = "/_emulator/outbox"
PATH_EMU_FAIL = "/_emulator/fail"
PATH_EMU_STATS = "/_emulator/stats"
PATH_EMU_CLOCK = "/_emulator/clock"

#: Timestamps are UTC in this format.
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
