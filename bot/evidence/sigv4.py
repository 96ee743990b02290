"""AWS Signature Version 4 for S3 requests, as plain functions over plain values.

Every S3-compatible service the bot is meant for (AWS, MinIO, Aliyun OSS, Tencent COS,
Huawei OBS) accepts these signatures. The rules that differ from other AWS services: the
path is encoded once (not twice) and not normalised, and the payload hash is sent in
`x-amz-content-sha256` (a hex SHA-256, or `UNSIGNED-PAYLOAD`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# Headers the signature covers besides every x-amz-*: those a proxy has no reason to touch.
_SIGNED_PLAIN = frozenset({"host", "content-type", "content-md5", "range", "if-match"})


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    # Temporary credentials (STS) come with a token sent as x-amz-security-token.
    session_token: str = ""

    def __repr__(self) -> str:
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='**')"


def uri_encode(text: str, *, keep_slash: bool = False) -> str:
    """RFC 3986 encoding as SigV4 wants it: only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return quote(text, safe="-_.~/" if keep_slash else "-_.~")


def canonical_query(params: Sequence[tuple[str, str]]) -> str:
    encoded = sorted((uri_encode(k), uri_encode(v)) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in encoded)


def amz_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret}".encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def canonical_request(
    method: str, path: str, params: Sequence[tuple[str, str]],
    headers: Mapping[str, str], signed: Sequence[str], payload_hash: str,
) -> str:
    lines = [method, path, canonical_query(params)]
    lines += [f"{name}:{' '.join(headers[name].split())}" for name in signed]
    return "\n".join([*lines, "", ";".join(signed), payload_hash])


def sign(
    *,
    method: str,
    path: str,
    params: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    payload_hash: str,
    credentials: Credentials,
    region: str,
    now: datetime,
    service: str = "s3",
) -> dict[str, str]:
    """The headers to add to a request: Authorization, x-amz-date, x-amz-content-sha256.

    `path` is the already encoded request path (`/bucket/key` or `/key`), exactly as it
    goes on the wire; `headers` must include `host`. Header names are matched without
    regard to case.
    """
    stamp = amz_date(now)
    day = stamp[:8]
    added = {"x-amz-date": stamp, "x-amz-content-sha256": payload_hash}
    if credentials.session_token:
        added["x-amz-security-token"] = credentials.session_token
    lowered = {k.lower(): v.strip() for k, v in headers.items()} | added
    signed = sorted(n for n in lowered if n.startswith("x-amz-") or n in _SIGNED_PLAIN)
    request = canonical_request(method, path, params, lowered, signed, payload_hash)
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        (ALGORITHM, stamp, scope, hashlib.sha256(request.encode()).hexdigest())
    )
    key = signing_key(credentials.secret_access_key, day, region, service)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    added["authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
    return added
