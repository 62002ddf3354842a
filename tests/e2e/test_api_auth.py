"""Identity: registration, login, the caller, roles granted only by an admin, and the role x endpoint matrix."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PASSWORD, Harness
from tests.helpers import unique_name

pytestmark = pytest.mark.e2e


async def test_register_login_me(shared_api: Harness) -> None:
    c = shared_api.client
    name = unique_name("u")
    r = await c.post("/auth/register", json={"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "user"
    r = await c.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    r = await c.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["username"] == name and r.json()["role"] == "user"

    r = await c.post("/auth/login", json={"username": name, "password": "wrong-password"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = await c.post("/auth/register", json={"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    assert r.status_code == 409
    r = await c.get("/auth/me")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = await c.get("/auth/me", headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401 and r.json()["error"]["message"] == "invalid token"


@pytest.mark.parametrize("role", ["admin", "dispatcher", "analyst", "field"])
async def test_self_registration_never_grants_a_privileged_role(shared_api: Harness, role: str) -> None:
    name = unique_name("x")
    r = await shared_api.client.post(
        "/auth/register", json={"username": name, "email": f"{name}@example.com", "password": PASSWORD, "role": role}
    )
    assert r.status_code == 403, r.text
    assert "admin grants" in r.json()["error"]["message"]


async def test_admin_grants_roles(shared_api: Harness) -> None:
    c, h = shared_api.client, shared_api.headers
    name = unique_name("g")
    r = await c.post("/auth/register", json={"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    user_id = r.json()["id"]
    assert (await c.put(f"/auth/users/{user_id}/role", json={"role": "dispatcher"}, headers=h["dispatcher"])).status_code == 403
    r = await c.put(f"/auth/users/{user_id}/role", json={"role": "field"}, headers=h["admin"])
    assert r.status_code == 409 and "team_id" in r.json()["error"]["message"]
    r = await c.put(f"/auth/users/{user_id}/role", json={"role": "field", "team_id": shared_api.team_id}, headers=h["admin"])
    assert r.status_code == 200 and r.json()["role"] == "field" and r.json()["team_id"] == shared_api.team_id
    token = (await c.post("/auth/login", json={"username": name, "password": PASSWORD})).json()["access_token"]
    me = await c.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "field"
    assert (await c.put("/auth/users/99999/role", json={"role": "user"}, headers=h["admin"])).status_code == 404
    users = await c.get("/auth/users", headers=h["admin"])
    assert users.status_code == 200 and name in {u["username"] for u in users.json()}


# (role, method, path, body, expected status). `{ticket}`: a ticket of the field user's team; `{other}`: another team's.
READS = [("GET", "/tickets", None), ("GET", "/tickets/{ticket}", None), ("GET", "/auth/teams", None),
         ("GET", "/tickets/analytics/overview", None), ("GET", "/auth/teams/analytics/performance", None),
         ("GET", "/tickets/{ticket}/history", None)]  # fmt: skip
MATRIX = [
    *[(role, m, p, b, 200) for role in ("admin", "dispatcher", "analyst", "field", "user") for m, p, b in READS],
    ("field", "GET", "/tickets/{other}", None, 403),
    ("field", "GET", "/tickets/{other}/history", None, 403),
    ("user", "GET", "/tickets/{other}", None, 200),
    *[(role, "POST", "/tickets", {"title": "t", "zone": "Johor"}, 201) for role in ("admin", "dispatcher")],
    *[(role, "POST", "/tickets", {"title": "t", "zone": "Johor"}, 403) for role in ("analyst", "field", "user")],
    *[(role, "PUT", "/tickets/{other}", {"priority": "low"}, 403) for role in ("analyst", "field", "user")],
    ("dispatcher", "PUT", "/tickets/{other}", {"priority": "low"}, 200),
    *[(role, "POST", "/tickets/auto-assign", {"ticket_ids": ["{other}"]}, 403) for role in ("analyst", "field", "user")],
    ("dispatcher", "POST", "/tickets/auto-assign", {"ticket_ids": ["{other}"]}, 202),
    *[(role, "DELETE", "/tickets/999999", None, 403) for role in ("analyst", "field", "user")],
    ("dispatcher", "DELETE", "/tickets/999999", None, 404),
    *[(role, "POST", "/auth/teams", {"name": "n", "zone": "Johor"}, 403) for role in ("dispatcher", "analyst", "field", "user")],
    ("admin", "POST", "/auth/teams", {"name": "n", "zone": "Johor"}, 201),
    *[(role, "GET", "/auth/users", None, 403) for role in ("dispatcher", "analyst", "field", "user")],
    ("admin", "GET", "/auth/users", None, 200),
    ("field", "POST", "/tickets/{ticket}/status", {"status": "cancelled"}, 403),
    ("field", "POST", "/tickets/{other}/status", {"status": "in_progress"}, 403),
    ("user", "POST", "/tickets/{ticket}/status", {"status": "in_progress"}, 403),
    ("analyst", "POST", "/tickets/{ticket}/status", {"status": "in_progress"}, 403),
]


@pytest.fixture(scope="module")
async def matrix_tickets(shared_api: Harness) -> dict[str, int]:
    mine = await shared_api.create_ticket(title="mine")
    other = await shared_api.create_ticket(title="other")
    r = await shared_api.client.post(
        "/tickets/assign", json={"ticket_id": mine["id"], "team_id": shared_api.team_id}, headers=shared_api.headers["dispatcher"]
    )
    assert r.status_code == 200, r.text
    return {"ticket": mine["id"], "other": other["id"]}


def _fill(value, ids: dict[str, int]):
    if isinstance(value, str):
        for k, v in ids.items():
            if value == "{" + k + "}":
                return v
            value = value.replace("{" + k + "}", str(v))
        return value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("role", "method", "path", "body", "expected"), MATRIX, ids=[f"{r}-{m}-{p}-{e}" for r, m, p, _, e in MATRIX])
async def test_role_matrix(shared_api: Harness, matrix_tickets: dict[str, int], role, method, path, body, expected) -> None:
    r = await shared_api.client.request(
        method, _fill(path, matrix_tickets), json=_fill(body, matrix_tickets), headers=shared_api.headers[role]
    )
    assert r.status_code == expected, r.text


async def test_field_user_lists_only_own_team(shared_api: Harness, matrix_tickets: dict[str, int]) -> None:
    r = await shared_api.client.get("/tickets", params={"limit": 100}, headers=shared_api.headers["field"])
    ids = {t["id"] for t in r.json()["items"]}
    assert matrix_tickets["ticket"] in ids and matrix_tickets["other"] not in ids
    assert all(t["assigned_team"] == shared_api.team_id for t in r.json()["items"])
