"""Hostile input and role leaks (issue 11, items 6-8): 4xx with a clear message, never a 500 or a leak.

One API (with its projector) runs in its own thread for the module, so hypothesis can drive it synchronously
and the async tests share it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from aiff.settings import Settings
from tests.e2e.conftest import Harness, api_in_thread

pytestmark = pytest.mark.e2e

NUL = "\x00"
HUGE = 2**70


@dataclass
class Api:
    url: str
    headers: dict[str, dict[str, str]]
    team_id: int
    other_team_id: int
    ticket_id: int


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    async def prepare(h: Harness) -> Api:
        other = await h.create_team(zone="Johor")
        ticket = await h.create_ticket()
        assert h.team_id is not None
        return Api(h.url, h.headers, h.team_id, other["id"], ticket["id"])

    with api_in_thread(Settings(AIFF_ENV="test"), prepare) as item:
        yield item


def _client(api: Api) -> httpx.Client:
    return httpx.Client(base_url=api.url, timeout=30)


def _assert_clear_4xx(r: httpx.Response, status: int = 422) -> None:
    assert r.status_code == status, (r.request.url, r.status_code, r.text[:500])
    error = r.json()["error"]
    assert error["code"] and error["message"], r.text


# --- 7: answers of 500 --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/analytics/performance", "/analytics/trends", "/analytics/reports", "/analytics/export"])
@pytest.mark.parametrize("zone", [NUL, "Atlantis"])
def test_analytics_zone_query_is_validated(api: Api, path: str, zone: str) -> None:
    with _client(api) as c:
        r = c.get(path, params={"zone": zone}, headers=api.headers["admin"])
    _assert_clear_4xx(r)
    assert "zone" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/analytics/reports", {"zone": NUL}),
        ("/analytics/reports", {"team_ids": [HUGE]}),
        ("/ai/analyze", {"data": {"zone": "Atlantis"}}),
        ("/ai/analyze", {"data": {"zone": NUL}}),
        ("/ai/analyze", {"data": {"team_id": "abc"}}),
        ("/ai/analyze", {"data": {"team_id": HUGE}}),
        ("/ai/analyze", {"data": {"team_ids": "1,2"}}),
        ("/ai/analyze", {"data": {"period": "year"}}),
        ("/ai/predict", {"prediction_type": "team_performance", "data": {"team_id": "x"}}),
        ("/ai/predict", {"prediction_type": "team_performance", "data": {"team_id": HUGE}}),
        ("/ai/predict", {"prediction_type": "customer_satisfaction", "data": {"zone": "Atlantis"}}),
        ("/ai/predict", {"prediction_type": "ticket_volume", "data": {"zone": ["Johor", "Sabah"]}}),
        ("/ai/predict", {"prediction_type": "ticket_volume", "data": {"horizon": 8}}),
        ("/ai/chat", {"message": "hello" + NUL}),
    ],
)
def test_reported_bodies_answer_422(api: Api, path: str, body: dict) -> None:
    with _client(api) as c:
        _assert_clear_4xx(c.post(path, json=body, headers=api.headers["admin"]))


def test_valid_ai_bodies_still_work(api: Api) -> None:
    with _client(api) as c:
        h = api.headers["analyst"]
        r = c.post("/ai/analyze", json={"data": {"zone": "penang", "team_ids": [api.team_id]}}, headers=h)
        assert r.status_code == 200 and r.json()["zone"] == "Pulau Pinang", r.text
        r = c.post("/ai/predict", json={"prediction_type": "ticket_volume", "data": {"zone": "Sabah", "horizon": 14}}, headers=h)
        assert r.status_code == 200 and r.json()["horizon_days"] == 14, r.text
        r = c.post("/ai/predict", json={"prediction_type": "team_performance", "data": {"team_id": api.team_id}}, headers=h)
        assert r.status_code == 200 and r.json()["team_id"] == api.team_id, r.text


_junk = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30), st.sampled_from([NUL, "Atlantis", "Selangor", "1,2", "week", "x" + NUL]),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
_keys = ["zone", "team_id", "team_ids", "period", "horizon", "days"]
_data = st.dictionaries(st.sampled_from(_keys), _junk, max_size=4)
_bodies = st.one_of(
    st.tuples(st.just("/ai/analyze"), st.fixed_dictionaries({"data": _data})),
    st.tuples(st.just("/ai/predict"), st.fixed_dictionaries(
        {"prediction_type": st.sampled_from(["ticket_volume", "team_performance", "customer_satisfaction", NUL, "x"]), "data": _data})),
    st.tuples(st.just("/analytics/reports"), st.dictionaries(st.sampled_from(["zone", "team_ids", "period", "include_charts"]), _junk, max_size=4)),
)  # fmt: skip


@given(case=_bodies, role=st.sampled_from(["admin", "field"]))
@hypothesis_settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_body_answers_5xx(api: Api, case: tuple[str, dict], role: str) -> None:
    path, body = case
    if path == "/analytics/reports":
        body = {**body, "include_charts": False}  # charts cost ~100 ms each and test nothing here
    with _client(api) as c:
        r = c.post(path, json=body, headers=api.headers[role])
    assert r.status_code < 500, (path, body, r.status_code, r.text[:500])
    if r.status_code >= 400:
        assert r.json()["error"]["message"]


@given(zone=st.text(max_size=20), team_id=st.text(max_size=25), path=st.sampled_from(
    ["/analytics/performance", "/analytics/trends", "/analytics/reports", "/analytics/export"]))
@hypothesis_settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_query_answers_5xx(api: Api, zone: str, team_id: str, path: str) -> None:
    params = {"zone": zone, "team_ids" if path == "/analytics/reports" else "team_id": team_id}
    with _client(api) as c:
        r = c.get(path, params=params, headers=api.headers["admin"])
    assert r.status_code < 500, (path, params, r.status_code, r.text[:500])


# --- 8: strict ids, /api docs, long websocket query strings -------------------------------------------------


@pytest.mark.parametrize("raw", ["1.0", "+1", "1e0", "01.", " 1", "1_0", "0x1", "٣", "99999999999999999999"])
def test_path_ids_must_be_plain_integers(api: Api, raw: str) -> None:
    with _client(api) as c:
        admin = api.headers["admin"]
        assert c.get(f"/tickets/{api.ticket_id}", headers=admin).status_code == 200
        for url in (f"/tickets/{raw}", f"/tickets/{raw}/history", f"/api/tickets/{raw}", f"/auth/teams/{raw}"):
            _assert_clear_4xx(c.get(url, headers=admin))
        _assert_clear_4xx(c.put(f"/auth/users/{raw}/role", json={"role": "user"}, headers=admin))
        _assert_clear_4xx(c.get("/tickets", params={"assigned_team": raw}, headers=admin))
        _assert_clear_4xx(c.get("/analytics/performance", params={"team_id": raw}, headers=admin))


def test_docs_are_served_under_api_too(api: Api) -> None:
    with _client(api) as c:
        root, prefixed = c.get("/openapi.json"), c.get("/api/openapi.json")
        assert root.status_code == 200 and prefixed.status_code == 200
        assert prefixed.json()["paths"] == root.json()["paths"]
        docs = c.get("/api/docs")
        assert docs.status_code == 200 and "/api/openapi.json" in docs.text
        assert c.get("/api/redoc").status_code == 200


async def test_websocket_with_an_oversized_query_string_is_refused(api: Api) -> None:
    token = api.headers["analyst"]["Authorization"].removeprefix("Bearer ")
    url = api.url.replace("http", "ws", 1) + f"/ws?token={token}&zone={'x' * 9000}"
    with pytest.raises(InvalidStatus) as err:
        async with asyncio.timeout(10):
            async with connect(url):
                pass
    assert err.value.response.status_code == 414


# --- 6: security --------------------------------------------------------------------------------------------


def test_analyst_may_not_recalculate(api: Api) -> None:
    with _client(api) as c:
        r = c.post("/analytics/calculate", headers=api.headers["analyst"])
        _assert_clear_4xx(r, 403)
        assert c.post("/analytics/calculate", headers=api.headers["field"]).status_code == 403
        assert c.post("/analytics/calculate", headers=api.headers["dispatcher"]).status_code == 200


def test_field_user_reads_only_their_own_teams_kpis(api: Api) -> None:
    field, other, own = api.headers["field"], api.other_team_id, api.team_id
    with _client(api) as c:
        _assert_clear_4xx(c.get("/analytics/performance", params={"team_id": other}, headers=field), 403)
        r = c.get("/analytics/performance", headers=field)
        assert r.status_code == 200 and r.json()["team_id"] == own and {t["team_id"] for t in r.json()["teams"]} <= {own}
        assert c.get("/analytics/performance", params={"team_id": own}, headers=field).status_code == 200
        _assert_clear_4xx(c.get("/analytics/reports", params={"team_ids": [other], "include_charts": "false"}, headers=field), 403)
        _assert_clear_4xx(c.post("/analytics/reports", json={"team_ids": [own, other], "include_charts": False}, headers=field), 403)
        r = c.post("/analytics/reports", json={"include_charts": False}, headers=field)
        assert r.status_code == 200 and r.json()["team_ids"] == [own]
        _assert_clear_4xx(c.post("/ai/analyze", json={"data": {"team_id": other}}, headers=field), 403)
        body = {"prediction_type": "team_performance", "data": {"team_id": other}}
        _assert_clear_4xx(c.post("/ai/predict", json=body, headers=field), 403)
        r = c.post("/ai/predict", json={"prediction_type": "customer_satisfaction"}, headers=field)
        assert r.status_code == 200 and r.json()["team_id"] == own
        # a dispatcher still sees every team
        r = c.get("/analytics/performance", params={"team_id": other}, headers=api.headers["dispatcher"])
        assert r.status_code == 200 and r.json()["team_id"] == other


async def test_tokens_never_reach_the_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    token = api.headers["analyst"]["Authorization"].removeprefix("Bearer ")
    caplog.set_level(logging.INFO)
    for name in ("uvicorn.error", "uvicorn.access", "aiff"):
        caplog.set_level(logging.INFO, logger=name)
    uvicorn_logger = logging.getLogger("uvicorn")  # uvicorn's config stops propagation to the root logger
    uvicorn_logger.addHandler(caplog.handler)
    try:
        await _use_tokens(api, token, caplog)
    finally:
        uvicorn_logger.removeHandler(caplog.handler)


async def _use_tokens(api: Api, token: str, caplog: pytest.LogCaptureFixture) -> None:
    base = api.url.replace("http", "ws", 1)
    async with connect(f"{base}/ws?token={token}&zone=Johor") as ws:
        await ws.recv()
    with pytest.raises(InvalidStatus):
        async with connect(f"{base}/ws?zone=Atlantis&token={token}"):
            pass
    logging.getLogger("aiff.test").info("a client sent Authorization: Bearer %s", token)

    def logged_ws() -> bool:
        return sum("/ws" in r.getMessage() for r in caplog.records) >= 2

    async with asyncio.timeout(10):
        while not logged_ws():
            await asyncio.sleep(0.05)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert token not in text and token.split(".")[1] not in text
    assert "token=[redacted]" in text
