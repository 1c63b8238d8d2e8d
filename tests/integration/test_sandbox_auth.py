"""Sandbox: HTTP Basic, OAuth2 client credentials and Bearer tokens, account access."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET

import httpx

from orchestrator.sandbox import ManualClock

TOKEN = "/api/v1/oauth2/token"


def token(
    base_url: str,
    client_id: str = "sandbox-client",
    secret: str = "sandbox-secret",
    grant: str = "client_credentials",
) -> httpx.Response:
    return httpx.post(base_url + TOKEN, auth=(client_id, secret), data={"grant_type": grant})


def test_no_credentials_is_401(sandbox, sandbox_account_url):
    """A request without Authorization answers 401 with an empty body and a Basic challenge."""
    r = httpx.get(sandbox_account_url + "/tnoptions")
    assert r.status_code == 401
    assert r.content == b""
    assert r.headers["www-authenticate"].startswith("Basic")


def test_wrong_basic_password_is_401(sandbox_account_url):
    """Wrong Basic credentials answer 401."""
    assert (
        httpx.get(sandbox_account_url + "/tnoptions", auth=("sandbox", "nope")).status_code == 401
    )


def test_basic_credentials_work(sandbox_account_url, sandbox_credentials):
    """The documented default Basic credentials are accepted."""
    auth = (sandbox_credentials.username, sandbox_credentials.password)
    assert httpx.get(sandbox_account_url + "/tnoptions", auth=auth).status_code == 200


def test_token_endpoint_issues_bearer_token(sandbox, sandbox_account_url):
    """Client credentials get a JSON access_token, expires_in and token_type; it authorises."""
    r = token(sandbox.base_url)
    assert r.status_code == 200
    body = r.json()
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer"
    claims = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    assert claims["accounts"] == ["9900012"]
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert httpx.get(sandbox_account_url + "/tnoptions", headers=headers).status_code == 200


def test_token_endpoint_refuses_bad_client_and_grant(sandbox):
    """Wrong client secret answers 401 invalid_client; another grant 400 unsupported_grant_type."""
    bad = token(sandbox.base_url, secret="wrong")
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
    grant = token(sandbox.base_url, grant="password")
    assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")


def test_unknown_bearer_token_is_401(sandbox_account_url):
    """A Bearer token the sandbox never issued answers 401."""
    headers = {"Authorization": "Bearer not-a-token"}
    assert httpx.get(sandbox_account_url + "/tnoptions", headers=headers).status_code == 401


def test_expired_bearer_token_is_401(sandbox_factory, sandbox_account_url):
    """A token past its expires_in (configurable) answers 401; a new one works."""
    clock = ManualClock()
    sandbox = sandbox_factory(token_expires_s=30, clock=clock)
    body = token(sandbox.base_url).json()
    assert body["expires_in"] == 30
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert httpx.get(sandbox_account_url + "/tnoptions", headers=headers).status_code == 200
    clock.advance(30)
    assert httpx.get(sandbox_account_url + "/tnoptions", headers=headers).status_code == 401
    fresh = {"Authorization": f"Bearer {token(sandbox.base_url).json()['access_token']}"}
    assert httpx.get(sandbox_account_url + "/tnoptions", headers=fresh).status_code == 200


def test_credentials_are_configurable(sandbox_factory):
    """Credentials come from the config; the defaults then stop working."""
    from orchestrator.sandbox.config import Credentials

    sandbox = sandbox_factory(credentials=Credentials("ops", "pw", "cid", "csecret"))
    url = f"{sandbox.base_url}/api/v2/accounts/9900012/tnoptions"
    assert httpx.get(url, auth=("ops", "pw")).status_code == 200
    assert httpx.get(url, auth=("sandbox", "sandbox")).status_code == 401
    assert token(sandbox.base_url, "cid", "csecret").status_code == 200


def test_unknown_account_is_403_1001(sandbox, sandbox_credentials):
    """Valid credentials on an account that does not exist answer 403 ResponseStatus 1001."""
    auth = (sandbox_credentials.username, sandbox_credentials.password)
    r = httpx.get(f"{sandbox.base_url}/api/v2/accounts/1234/tnoptions", auth=auth)
    assert r.status_code == 403
    root = ET.fromstring(r.content)
    assert root.findtext("ResponseStatus/ErrorCode") == "1001"
    assert root.findtext("ResponseStatus/Description") == "Access Denied"
