"""Staff identity from bearer tokens (SPEC §4.3).

Locally and in tests the tokens are HS256 JWTs signed with ``CMDM_DEV_JWT_SECRET``; in the
``aws`` stage API Gateway's Cognito authorizer has already checked the ID token and hands us
its claims. Both paths end in the same ``Principal``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt

from ..domain.errors import Unauthenticated
from ..domain.model import Principal, Role

ROLE_NAMES = {r.value for r in Role}


def _groups(value: Any) -> frozenset[Role]:
    # Cognito claims reach Lambda as a list, or flattened by API Gateway to "[a b]" / "a,b".
    if isinstance(value, str):
        value = value.strip("[]").replace(",", " ").split()
    if not isinstance(value, (list, tuple)):
        return frozenset()
    return frozenset(Role(g) for g in value if isinstance(g, str) and g in ROLE_NAMES)


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    staff_id = claims.get("sub")
    agency_id = claims.get("custom:agency_id")
    roles = _groups(claims.get("cognito:groups"))
    if not isinstance(staff_id, str) or not staff_id or not isinstance(agency_id, str) or not agency_id:
        raise Unauthenticated("token lacks sub or custom:agency_id")
    if not roles:
        raise Unauthenticated("token carries no CMDM group (worker, supervisor or admin)")
    return Principal(staff_id=staff_id, agency_id=agency_id, roles=roles)


def _bearer(headers: Mapping[str, str]) -> str:
    header = headers.get("authorization") or headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token")
    return token.strip()


class DevTokenVerifier:
    """HS256 tokens for the local and test stages."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def principal(self, headers: Mapping[str, str], context: Mapping[str, Any]) -> Principal:
        token = _bearer(headers)
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={"require": ["exp", "sub"], "verify_aud": False, "verify_iat": False},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("invalid token") from None
        return principal_from_claims(claims)


class CognitoClaimsVerifier:
    """The ``aws`` stage: API Gateway's Cognito authorizer verified the token already."""

    def principal(self, headers: Mapping[str, str], context: Mapping[str, Any]) -> Principal:
        claims = (context.get("authorizer") or {}).get("claims")
        if not isinstance(claims, Mapping):
            raise Unauthenticated("missing Cognito claims")
        return principal_from_claims(claims)


def mint_dev_token(secret: str, staff_id: str, agency_id: str, role: str, ttl_seconds: int = 8 * 3600) -> str:
    now = int(time.time())
    claims = {
        "sub": staff_id,
        "custom:agency_id": agency_id,
        "cognito:groups": [role],
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
