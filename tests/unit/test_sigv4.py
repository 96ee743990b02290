"""SigV4 for S3: AWS's published example, and agreement with botocore's own signer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.utils import percent_encode_sequence

from bot.evidence import sigv4
from bot.evidence.sigv4 import Credentials, sign

EXAMPLE = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def test_the_get_object_example_of_the_s3_documentation() -> None:
    # "Signature Calculations for the Authorization Header", example GET Object.
    added = sign(
        method="GET", path="/test.txt", params=[],
        headers={"Host": "examplebucket.s3.amazonaws.com", "Range": "bytes=0-9"},
        payload_hash=sigv4.EMPTY_SHA256, credentials=EXAMPLE, region="us-east-1",
        now=datetime(2013, 5, 24, tzinfo=UTC),
    )
    assert added["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    assert added["x-amz-date"] == "20130524T000000Z"


@pytest.mark.parametrize(
    ("method", "path", "params", "headers", "payload", "token"),
    [
        ("PUT", "/evidence/ab/" + "ab" * 32, [],
         {"content-type": "application/octet-stream", "x-amz-meta-sha256": "ab" * 32,
          "x-amz-checksum-sha256": "q83vEjRWeJA=", "content-length": "12"},
         "ab" * 32, ""),
        ("PUT", "/bucket/p/k", [("partNumber", "3"), ("uploadId", "a/b+c=d~e f")],
         {"content-length": "5242880"}, sigv4.UNSIGNED_PAYLOAD, "FwoGZXIvYXdzEJr//token=="),
        ("POST", "/k", [("uploads", "")], {"content-type": "application/xml"},
         sigv4.EMPTY_SHA256, ""),
        ("GET", "/k", [], {"range": "bytes=1048576-", "if-match": '"0123abcd"',
                           "accept-encoding": "identity"}, sigv4.EMPTY_SHA256, ""),
    ],
)
def test_agrees_with_botocore(
    method: str, path: str, params: list[tuple[str, str]], headers: dict[str, str],
    payload: str, token: str,
) -> None:
    now = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)
    host = "evidence.s3.oss-cn-hangzhou.aliyuncs.com"
    ours = sign(method=method, path=path, params=params, headers={"host": host, **headers},
                payload_hash=payload, credentials=Credentials("AK", "SECRET/key+1", token),
                region="cn-hangzhou", now=now)

    # botocore signs every header it is given; ours leaves out those a proxy may rewrite
    # (content-length, accept-encoding), so botocore is given the ones we signed.
    signed = ours["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    sent = {"host": host, **headers, **ours}
    # The query as botocore itself encodes request parameters, not as ours does.
    query = percent_encode_sequence(params)
    request = AWSRequest(method=method, url=f"https://{host}{path}" + (f"?{query}" if query else ""),
                         headers={k: v for k, v in sent.items() if k in signed})
    request.context["timestamp"] = ours["x-amz-date"]
    boto = S3SigV4Auth(BotoCredentials("AK", "SECRET/key+1", token or None), "s3", "cn-hangzhou")
    canonical = boto.canonical_request(request)
    expected = boto.signature(boto.string_to_sign(request, canonical), request)
    assert ours["authorization"].endswith(f"Signature={expected}")
    assert ("x-amz-security-token" in ours) == bool(token)


def test_credentials_never_show_the_secret() -> None:
    assert "wJalr" not in repr(EXAMPLE) and "AKIAIOSFODNN7EXAMPLE" in repr(EXAMPLE)
