"""NRO-Bots in Chromium: the dashboard and the field portal show an answer with its data (table, id links),
follow-ups keep the conversation, and a field user's assistant counts only its team's tickets."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright, expect

from tests.e2e.conftest import Harness
from tests.e2e.test_browser import ARGS, CHROMIUM, SHOTS, _built, _login  # noqa: F401
from tests.e2e.test_ws_harness import live_harness  # noqa: F401
from tests.helpers import unique_name

pytestmark = pytest.mark.e2e
OPEN = "('open','assigned','in_progress','reopened')"


async def _ask(page, text: str, turn: int):
    await page.get_by_test_id("chat-input").fill(text)
    await page.get_by_test_id("chat-input").press("Enter")
    answer = page.locator(f'[data-testid="chat-answer"][data-turn="{turn}"]')
    await expect(answer).to_be_visible(timeout=10_000)
    return answer


async def test_assistant_answers_with_data_in_dashboard_and_field_portal(live_harness: Harness) -> None:  # noqa: F811
    h = live_harness
    dispatcher, field_user = unique_name("disp"), unique_name("field")
    await h.make_user("dispatcher", username=dispatcher)
    await h.make_user("field", team_id=h.team_id, username=field_user)
    made = [await h.create_ticket(title=f"Fibre cut {i}", zone="Selangor", latitude=3.08, longitude=101.55) for i in range(3)]
    made.append(await h.create_ticket(title="Tiang roboh", zone="Johor", latitude=1.5, longitude=103.7))
    async with h.resources.pool.acquire() as conn:
        selangor = await conn.fetchval(f"SELECT count(*) FROM tickets WHERE zone = 'Selangor' AND status IN {OPEN}")
        johor = await conn.fetchval(f"SELECT count(*) FROM tickets WHERE zone = 'Johor' AND status IN {OPEN}")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            await _login(page, h.url + "/", dispatcher)
            await page.get_by_test_id("nav-assistant").click()
            first = await _ask(page, "berapa tiket terbuka di Selangor?", 1)
            await expect(first).to_contain_text(f"Ada {selangor} tiket terbuka di Selangor")
            await expect(first.get_by_test_id("chat-table")).to_be_visible()
            await expect(first.get_by_test_id(f"chat-ticket-{made[0]['id']}")).to_be_visible()
            second = await _ask(page, "and in Johor?", 2)
            await expect(second).to_contain_text(f"{johor} open ticket{'' if johor == 1 else 's'} in Johor")
            third = await _ask(page, "which zone has the largest backlog?", 3)
            await expect(third).to_contain_text(f"Selangor has the most open tickets: {selangor}")
            await expect(third.get_by_test_id("chat-table")).to_contain_text("Selangor")
            # An action is proposed with Confirm / Cancel and carried out only on Confirm (the API's assign command).
            target = made[3]["id"]
            offer = await _ask(page, f"assign ticket {target} to team {h.team_id}", 4)
            await expect(offer.get_by_test_id("chat-confirm-yes")).to_be_visible()
            async with h.resources.pool.acquire() as conn:
                assert await conn.fetchval("SELECT assigned_team FROM tickets WHERE id = $1", target) is None
            await offer.get_by_test_id("chat-confirm-yes").click()
            done = page.locator('[data-testid="chat-answer"][data-turn="5"]')
            await expect(done).to_contain_text("Done", timeout=10_000)
            async with h.resources.pool.acquire() as conn:
                assert await conn.fetchval("SELECT assigned_team FROM tickets WHERE id = $1", target) == h.team_id
            await page.screenshot(path=str(SHOTS / "dashboard-assistant.png"), full_page=True)
            await first.get_by_test_id(f"chat-ticket-{made[0]['id']}").click()  # the id links to the ticket's detail
            await expect(page.get_by_test_id("view-tickets")).to_be_visible()

            phone = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            await _login(phone, h.url + "/field", field_user)
            await phone.get_by_test_id("nav-assistant").click()
            mine = await _ask(phone, "how many open tickets in Selangor?", 1)
            await expect(mine).to_contain_text("There are 0 open tickets in Selangor")  # none is this team's
            await phone.screenshot(path=str(SHOTS / "field-assistant-390.png"), full_page=True)
        finally:
            await browser.close()
