"""Held-out assistant benchmark: ~150 questions written apart from the paraphrase file and bench/assistant.py's
templates, the way Malaysian dispatchers, supervisors and analysts type them (Malay, English and a mix; "brp", "yg",
"x siap", "kat", typos, zone nicknames, relative dates, follow-ups in one conversation, why/ETA/what-if/actions).

Every expected answer is computed here by its own SQL (not the assistant's tools) on the demo data at run time; a
reply is right when it holds the expected figures and ids. Never copy these questions into the training file.

    DATABASE_URL=postgresql://aiff:aiffpass@127.0.0.1:55432/aiff_test .venv/bin/python bench/assistant_heldout.py [--show-failures]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

KL = ZoneInfo("Asia/Kuala_Lumpur")
OPEN = ["open", "assigned", "in_progress", "reopened"]
STATUS = {"open": OPEN, "unassigned": ["open", "reopened"], "completed": ["completed", "closed"], "in_progress": ["in_progress"], "assigned": ["assigned"], "cancelled": ["cancelled"]}

# Each item: (intent label, lang, turns, expectation). Turns are asked in one conversation; the last is scored.
# Placeholders filled from the data: {late} an open ticket past its due date, {unas} an unassigned one, {asg} an
# assigned one, {any} any ticket, {late_n} the number part of {late} without padding, {team} a team with active
# tickets, {team_name} its full name, {wteam} a team for the what-if, {zone_team} ...
Q: list[tuple[str, str, list[str], tuple]] = [
    # ---- counts: Malay / mixed / slang
    ("count_tickets", "ms", ["brp tiket kritikal yg x siap lagi kat KL?"], ("count", {"zone": "Kuala Lumpur", "priority": "critical", "status": "open"})),
    ("count_tickets", "ms", ["ada berapa tkt belum siap di Kuala Lumpur sekarang"], ("count", {"zone": "Kuala Lumpur", "status": "open"})),
    ("count_tickets", "ms", ["tolong kira tiket terbuka kat Penang"], ("count", {"zone": "Pulau Pinang", "status": "open"})),
    ("count_tickets", "ms", ["jumlah tiket yang masih open di Pulau Pinang?"], ("count", {"zone": "Pulau Pinang", "status": "open"})),
    ("count_tickets", "ms", ["brp banyak tiket masuk semalam kat Selangor"], ("count", {"zone": "Selangor", "range": "yesterday"})),
    ("count_tickets", "ms", ["berapa tiket dibuka minggu lepas di Johor"], ("count", {"zone": "Johor", "range": "last_week"})),
    ("count_tickets", "ms", ["tiket baru bulan lepas kat Sabah ada brp?"], ("count", {"zone": "Sabah", "range": "last_month"})),
    ("count_tickets", "ms", ["berapa tiket dh siap semalam di Perak"], ("count", {"zone": "Perak", "status": "completed", "range": "yesterday"})),
    ("count_tickets", "ms", ["jumlah kerja yang diselesaikan minggu ni di Kedah"], ("count", {"zone": "Kedah", "status": "completed", "range": "this_week"})),
    ("count_tickets", "ms", ["brp tiket belum ada team kat Sarawak"], ("count", {"zone": "Sarawak", "status": "unassigned"})),
    ("count_tickets", "ms", ["berapa banyak tiket yg belum di-assign di Kelantan"], ("count", {"zone": "Kelantan", "status": "unassigned"})),
    ("count_tickets", "ms", ["tiket keutamaan tinggi yang masih terbuka di Pahang berapa ek"], ("count", {"zone": "Pahang", "priority": "high", "status": "open"})),
    ("count_tickets", "ms", ["brp tiket fiber yg tertunggak kat JB"], ("count", {"zone": "Johor", "category": "fiber", "status": "open"})),
    ("count_tickets", "ms", ["berapa aduan elektrik belum selesai di Melaka"], ("count", {"zone": "Melaka", "category": "power", "status": "open"})),
    ("count_tickets", "ms", ["kira tiket pemasangan yang sedang dalam proses di Selangor"], ("count", {"zone": "Selangor", "category": "installation", "status": "in_progress"})),
    ("count_tickets", "ms", ["brp tiket yg dh lewat SLA kat Terengganu"], ("count", {"zone": "Terengganu", "overdue": True})),
    ("count_tickets", "ms", ["ada brp tiket kritikal yang melebihi tarikh akhir di KL"], ("count", {"zone": "Kuala Lumpur", "priority": "critical", "overdue": True})),
    ("count_tickets", "ms", ["berapa tiket dicipta 7 hari lepas kat Negeri Sembilan"], ("count", {"zone": "Negeri Sembilan", "range": "last_7_days"})),
    ("count_tickets", "ms", ["jumlah tiket tembaga terbuka di N9"], ("count", {"zone": "Negeri Sembilan", "category": "copper", "status": "open"})),
    ("count_tickets", "ms", ["tiket wireless yang belum siap kat Labuan ada brp"], ("count", {"zone": "Labuan", "category": "wireless", "status": "open"})),
    ("count_tickets", "ms", ["brp tiket peralatan masuk hari ni"], ("count", {"category": "equipment", "range": "today"})),
    ("count_tickets", "ms", ["berapa tiket dibatalkan bulan ni"], ("count", {"status": "cancelled", "range": "this_month"})),
    ("count_tickets", "ms", ["semua tiket kritikal x siap berapa"], ("count", {"priority": "critical", "status": "open"})),
    ("count_tickets", "ms", ["brp tiket terbuka kat Selangr"], ("count", {"zone": "Selangor", "status": "open"})),
    ("count_tickets", "ms", ["berapa tiket tertunggak di Perlis dan Kedah"], ("count_multi", {"zones": ["Perlis", "Kedah"], "status": "open"})),
    ("count_tickets", "ms", ["brp tiket yg tgh dibaiki skrg di Johor"], ("count", {"zone": "Johor", "status": "in_progress"})),
    ("count_tickets", "ms", ["brapa tiket rendah yg masih terbuka kat Melaka"], ("count", {"zone": "Melaka", "priority": "low", "status": "open"})),
    ("count_tickets", "ms", ["tiket sederhana x siap lagi di Kelantan brp"], ("count", {"zone": "Kelantan", "priority": "medium", "status": "open"})),
    ("count_tickets", "ms", ["team {team} pegang brp tiket skrg"], ("count", {"team": "{team}", "status": "open"})),
    ("count_tickets", "ms", ["berapa tiket yang pasukan {team} dh siapkan bulan ni"], ("count", {"team": "{team}", "status": "completed", "range": "this_month"})),
    # ---- counts: English / typos
    ("count_tickets", "en", ["how many crit tickets still open in KL?"], ("count", {"zone": "Kuala Lumpur", "priority": "critical", "status": "open"})),
    ("count_tickets", "en", ["number of unresolved tickets in Sabah pls"], ("count", {"zone": "Sabah", "status": "open"})),
    ("count_tickets", "en", ["how many jobs did we close yesterday in Selangor"], ("count", {"zone": "Selangor", "status": "completed", "range": "yesterday"})),
    ("count_tickets", "en", ["count of tickets raised since Monday in Johor"], ("count", {"zone": "Johor", "range": "this_week"})),
    ("count_tickets", "en", ["how many fibre faults came in last month in Perak"], ("count", {"zone": "Perak", "category": "fiber", "range": "last_month"})),
    ("count_tickets", "en", ["total unassigned tickets in Penang right now"], ("count", {"zone": "Pulau Pinang", "status": "unassigned"})),
    ("count_tickets", "en", ["how many tickets are breaching SLA in Sarawak"], ("count", {"zone": "Sarawak", "overdue": True})),
    ("count_tickets", "en", ["how many high prio tickets are open in Kuala Lumpur"], ("count", {"zone": "Kuala Lumpur", "priority": "high", "status": "open"})),
    ("count_tickets", "en", ["tickets opened in the past 3 days in Pahang - how many?"], ("count", {"zone": "Pahang", "range": "last_3_days"})),
    ("count_tickets", "en", ["how many copper tickets were completed this month"], ("count", {"category": "copper", "status": "completed", "range": "this_month"})),
    ("count_tickets", "en", ["open power tickets in Kedah, how many"], ("count", {"zone": "Kedah", "category": "power", "status": "open"})),
    ("count_tickets", "en", ["how many tickets is team {team} currently holding"], ("count", {"team": "{team}", "status": "open"})),
    ("count_tickets", "en", ["how many tix in progress in Terengganu?"], ("count", {"zone": "Terengganu", "status": "in_progress"})),
    ("count_tickets", "en", ["how many tickets did we get today"], ("count", {"range": "today"})),
    ("count_tickets", "en", ["how many open tickets in Kelantn"], ("count", {"zone": "Kelantan", "status": "open"})),
    ("count_tickets", "en", ["low priority open tickets in Malacca count"], ("count", {"zone": "Melaka", "priority": "low", "status": "open"})),
    # ---- lists
    ("list_tickets", "ms", ["senaraikan tiket kritikal yg belum siap kat KL"], ("list", {"zone": "Kuala Lumpur", "priority": "critical", "status": "open"})),
    ("list_tickets", "ms", ["tunjuk tiket lewat di Selangor"], ("list", {"zone": "Selangor", "overdue": True})),
    ("list_tickets", "ms", ["bagi senarai tiket yg belum assign kat Sabah"], ("list", {"zone": "Sabah", "status": "unassigned"})),
    ("list_tickets", "ms", ["tolong list tiket fiber terbuka di Johor"], ("list", {"zone": "Johor", "category": "fiber", "status": "open"})),
    ("list_tickets", "ms", ["tiket mana yg paling lama menunggu di Perak"], ("oldest", {"zone": "Perak", "status": "open"})),
    ("list_tickets", "ms", ["senarai tiket team {team} skrg"], ("list", {"team": "{team}", "status": "open"})),
    ("list_tickets", "en", ["show me the critical open tickets in Penang"], ("list", {"zone": "Pulau Pinang", "priority": "critical", "status": "open"})),
    ("list_tickets", "en", ["list overdue jobs in Kuala Lumpur"], ("list", {"zone": "Kuala Lumpur", "overdue": True})),
    ("list_tickets", "en", ["give me the unassigned tickets in Sarawak"], ("list", {"zone": "Sarawak", "status": "unassigned"})),
    ("list_tickets", "en", ["which tickets has team {team} got right now"], ("list", {"team": "{team}", "status": "open"})),
    ("list_tickets", "en", ["show the oldest open tickets in Johor"], ("oldest", {"zone": "Johor", "status": "open"})),
    ("list_tickets", "en", ["pull up the high priority tickets still pending in Kedah"], ("list", {"zone": "Kedah", "priority": "high", "status": "open"})),
    # ---- zone rankings
    ("rank_zones", "ms", ["negeri mana paling byk tiket tertunggak"], ("rank_zones", {"metric": "backlog"})),
    ("rank_zones", "ms", ["zon mana yg paling banyak tiket x siap"], ("rank_zones", {"metric": "backlog"})),
    ("rank_zones", "ms", ["kawasan mana paling teruk backlog dia"], ("rank_zones", {"metric": "backlog"})),
    ("rank_zones", "ms", ["zon mana yg tiket lewat dia paling byk"], ("rank_zones", {"metric": "overdue"})),
    ("rank_zones", "ms", ["negeri mana paling banyak tiket belum ditugaskan"], ("rank_zones", {"metric": "unassigned"})),
    ("rank_zones", "ms", ["negeri mana paling banyak tiket kritikal terbuka"], ("rank_zones", {"metric": "backlog", "priority": "critical"})),
    ("rank_zones", "ms", ["zon mana paling sikit tiket tertunggak"], ("rank_zones", {"metric": "backlog", "asc": True})),
    ("rank_zones", "ms", ["negeri mana paling banyak siapkan tiket minggu lepas"], ("rank_zones", {"metric": "completed", "range": "last_week"})),
    ("rank_zones", "en", ["which state has the biggest backlog right now"], ("rank_zones", {"metric": "backlog"})),
    ("rank_zones", "en", ["top 3 zones by open tickets"], ("rank_zones", {"metric": "backlog"})),
    ("rank_zones", "en", ["where are the most overdue tickets"], ("rank_zones", {"metric": "overdue"})),
    ("rank_zones", "en", ["which region has the most unassigned jobs"], ("rank_zones", {"metric": "unassigned"})),
    ("rank_zones", "en", ["which zone got the most new tickets this week"], ("rank_zones", {"metric": "created", "range": "this_week"})),
    ("rank_zones", "en", ["rank the zones by backlog"], ("rank_zones", {"metric": "backlog"})),
    ("rank_zones", "en", ["which state has the fewest open tickets"], ("rank_zones", {"metric": "backlog", "asc": True})),
    # ---- team rankings
    ("rank_teams", "ms", ["pasukan mana paling bagus SLA bulan ni"], ("rank_teams", {"metric": "sla", "range": "this_month"})),
    ("rank_teams", "ms", ["team mana paling cekap capai SLA 30 hari lepas"], ("rank_teams", {"metric": "sla"})),
    ("rank_teams", "ms", ["pasukan mana respons paling laju"], ("rank_teams", {"metric": "response"})),
    ("rank_teams", "ms", ["team mana paling lambat respons"], ("rank_teams", {"metric": "response", "asc": True})),
    ("rank_teams", "ms", ["pasukan mana dpt rating paling tinggi bulan lepas"], ("rank_teams", {"metric": "rating", "range": "last_month"})),
    ("rank_teams", "ms", ["siapa paling banyak siapkan kerja minggu ni"], ("rank_teams", {"metric": "completed", "range": "this_week"})),
    ("rank_teams", "ms", ["pasukan mana paling sibuk skrg"], ("rank_teams", {"metric": "utilisation"})),
    ("rank_teams", "ms", ["pasukan mana SLA paling teruk bulan lepas"], ("rank_teams", {"metric": "sla", "range": "last_month", "asc": True})),
    ("rank_teams", "ms", ["team mana paling byk kerja siap kat Selangor bulan ni"], ("rank_teams", {"metric": "completed", "zone": "Selangor", "range": "this_month"})),
    ("rank_teams", "ms", ["pasukan terbaik ikut kepuasan pelanggan di Johor"], ("rank_teams", {"metric": "rating", "zone": "Johor"})),
    ("rank_teams", "en", ["best performing crew by SLA this month"], ("rank_teams", {"metric": "sla", "range": "this_month"})),
    ("rank_teams", "en", ["which team responds the quickest"], ("rank_teams", {"metric": "response"})),
    ("rank_teams", "en", ["who has the highest customer rating last month"], ("rank_teams", {"metric": "rating", "range": "last_month"})),
    ("rank_teams", "en", ["top 5 teams by jobs completed this week"], ("rank_teams", {"metric": "completed", "range": "this_week"})),
    ("rank_teams", "en", ["which crews are most utilised right now"], ("rank_teams", {"metric": "utilisation"})),
    ("rank_teams", "en", ["worst team for SLA compliance last week"], ("rank_teams", {"metric": "sla", "range": "last_week", "asc": True})),
    ("rank_teams", "en", ["lowest rated teams in the last 30 days"], ("rank_teams", {"metric": "rating", "asc": True})),
    ("rank_teams", "en", ["which team in Sabah closed the most tickets this month"], ("rank_teams", {"metric": "completed", "zone": "Sabah", "range": "this_month"})),
    ("rank_teams", "en", ["slowest teams to respond in KL"], ("rank_teams", {"metric": "response", "zone": "Kuala Lumpur", "asc": True})),
    ("rank_teams", "en", ["leaderboard of teams by SLA"], ("rank_teams", {"metric": "sla"})),
    # ---- a ticket by number / id
    ("ticket_detail", "ms", ["status {any} macam mana?"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "ms", ["tolong semak tiket {any_low}"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "ms", ["apa cerita tkt {any_short}"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "ms", ["{asg} dh siap ke belum"], ("detail", {"ticket": "{asg}"})),
    ("ticket_detail", "ms", ["maklumat tiket id {any_id}"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "en", ["what's the status of {any}"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "en", ["details for ticket #{any_id}"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "en", ["any update on {any_low}?"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "en", ["who is handling {asg}"], ("detail", {"ticket": "{asg}"})),
    ("ticket_detail", "en", ["look up {asg_nodash}"], ("detail", {"ticket": "{asg}"})),
    # ---- why
    ("explain_late", "ms", ["kenapa {late} lambat sangat"], ("late", {"ticket": "{late}"})),
    ("explain_late", "ms", ["knp tiket {late_low} lewat SLA"], ("late", {"ticket": "{late}"})),
    ("explain_late", "ms", ["apa sebab {late} terlepas tarikh akhir"], ("late", {"ticket": "{late}"})),
    ("explain_late", "en", ["why is {late} overdue?"], ("late", {"ticket": "{late}"})),
    ("explain_late", "en", ["how come {late} breached its SLA"], ("late", {"ticket": "{late}"})),
    ("explain_late", "en", ["reason {late_low} is running late"], ("late", {"ticket": "{late}"})),
    ("explain_unassigned", "ms", ["kenapa {unas} takde team lagi"], ("unassigned", {"ticket": "{unas}"})),
    ("explain_unassigned", "ms", ["knp {unas} belum di-assign"], ("unassigned", {"ticket": "{unas}"})),
    ("explain_unassigned", "en", ["why hasn't {unas} been assigned yet"], ("unassigned", {"ticket": "{unas}"})),
    ("explain_unassigned", "en", ["why is nobody on {unas}?"], ("unassigned", {"ticket": "{unas}"})),
    ("explain_assignment", "ms", ["kenapa {asg} bagi kat team tu"], ("assignment", {"ticket": "{asg}"})),
    ("explain_assignment", "en", ["why did {asg} go to that crew"], ("assignment", {"ticket": "{asg}"})),
    ("explain_assignment", "en", ["explain the assignment of {asg}"], ("assignment", {"ticket": "{asg}"})),
    # ---- ETAs / a team's day
    ("ticket_eta", "ms", ["bila team sampai {asg}?"], ("eta", {"ticket": "{asg}"})),
    ("ticket_eta", "ms", ["pukul brp juruteknik sampai utk {asg_low}"], ("eta", {"ticket": "{asg}"})),
    ("ticket_eta", "en", ["ETA for {asg}?"], ("eta", {"ticket": "{asg}"})),
    ("ticket_eta", "en", ["what time will someone get to {asg}"], ("eta", {"ticket": "{asg}"})),
    ("team_day", "ms", ["apa team {team} buat hari ni"], ("team_day", {"team": "{team}"})),
    ("team_day", "ms", ["jadual pasukan {team} harini macam mana"], ("team_day", {"team": "{team}"})),
    ("team_day", "en", ["what's on team {team}'s plate today"], ("team_day", {"team": "{team}"})),
    ("team_day", "en", ["what is {team_name} up to today"], ("team_day", {"team": "{team}"})),
    # ---- capacity / forecast / SLA summary / overview
    ("capacity", "ms", ["berapa slot kosong kat Selangor skrg"], ("capacity", {"zone": "Selangor"})),
    ("capacity", "ms", ["ada team free tak di Johor"], ("capacity", {"zone": "Johor"})),
    ("capacity", "en", ["how much spare capacity do we have in Sabah"], ("capacity", {"zone": "Sabah"})),
    ("capacity", "en", ["free crews in KL right now?"], ("capacity", {"zone": "Kuala Lumpur"})),
    ("forecast_load", "ms", ["ramalan tiket minggu depan kat Selangor"], ("forecast", {"zone": "Selangor"})),
    ("forecast_load", "ms", ["jangkaan beban kerja 14 hari akan datang di Perak"], ("forecast", {"zone": "Perak"})),
    ("forecast_load", "en", ["how many tickets should we expect next week in Johor"], ("forecast", {"zone": "Johor"})),
    ("forecast_load", "en", ["forecast the load for Sarawak next 7 days"], ("forecast", {"zone": "Sarawak"})),
    ("sla_summary", "ms", ["berapa peratus tiket capai SLA bulan lepas"], ("sla", {"range": "last_month"})),
    ("sla_summary", "ms", ["prestasi SLA kat Selangor minggu ni macam mana"], ("sla", {"zone": "Selangor", "range": "this_week"})),
    ("sla_summary", "en", ["what was our SLA hit rate last week"], ("sla", {"range": "last_week"})),
    ("sla_summary", "en", ["SLA compliance % for Johor this month"], ("sla", {"zone": "Johor", "range": "this_month"})),
    # ---- what-if
    ("what_if_offline", "ms", ["kalau pasukan {wteam} tak boleh kerja sekarang apa jadi"], ("whatif", {"team": "{wteam}"})),
    ("what_if_offline", "ms", ["simulasi team {wteam} offline"], ("whatif", {"team": "{wteam}"})),
    ("what_if_offline", "en", ["what happens if team {wteam} calls in sick now"], ("whatif", {"team": "{wteam}"})),
    ("what_if_offline", "en", ["suppose crew {wteam} drops out, who covers their jobs"], ("whatif", {"team": "{wteam}"})),
    # ---- actions / suggestions
    ("action_assign", "ms", ["tolong assign {unas} kat team {team}"], ("action", {"ticket": "{unas}", "team": "{team}"})),
    ("action_assign", "ms", ["bagi {unas} kepada pasukan {team}"], ("action", {"ticket": "{unas}", "team": "{team}"})),
    ("action_assign", "en", ["please put {unas} on team {team}"], ("action", {"ticket": "{unas}", "team": "{team}"})),
    ("action_assign", "en", ["reassign {asg} to team {team}"], ("action", {"ticket": "{asg}", "team": "{team}"})),
    ("action_status", "ms", ["tukar status {asg} jadi selesai"], ("action", {"ticket": "{asg}"})),
    ("action_status", "en", ["mark {asg} as in progress"], ("action", {"ticket": "{asg}"})),
    ("action_status", "en", ["cancel {unas} please"], ("action", {"ticket": "{unas}"})),
    ("action_pin", "ms", ["pin {asg} kat team dia sekarang"], ("action", {"ticket": "{asg}"})),
    ("action_pin", "en", ["lock {asg} to its current team"], ("action", {"ticket": "{asg}"})),
    ("suggest_assignment", "ms", ["siapa patut ambik {unas}"], ("suggest", {"ticket": "{unas}"})),
    ("suggest_assignment", "en", ["which team should I send to {unas}"], ("suggest", {"ticket": "{unas}"})),
    # ---- follow-ups in one conversation (the last turn is scored)
    ("count_tickets", "ms", ["brp tiket terbuka kat Selangor", "Johor pula?"], ("count", {"zone": "Johor", "status": "open"})),
    ("count_tickets", "ms", ["berapa tiket belum siap di KL", "yg kritikal je"], ("count", {"zone": "Kuala Lumpur", "status": "open", "priority": "critical"})),
    ("count_tickets", "en", ["how many open tickets in Sabah", "what about Sarawak"], ("count", {"zone": "Sarawak", "status": "open"})),
    ("count_tickets", "en", ["open tickets in Perak?", "just the high priority ones"], ("count", {"zone": "Perak", "status": "open", "priority": "high"})),
    ("ticket_detail", "ms", ["senaraikan tiket kritikal terbuka di Selangor", "yang kedua"], ("list_pick", {"zone": "Selangor", "priority": "critical", "status": "open", "k": 2})),
    ("ticket_detail", "en", ["list unassigned tickets in Johor", "the first one"], ("list_pick", {"zone": "Johor", "status": "unassigned", "k": 1})),
    ("explain_late", "en", ["status of {late}", "why is it late?"], ("late", {"ticket": "{late}"})),
    ("explain_late", "ms", ["{late} macam mana", "kenapa lewat?"], ("late", {"ticket": "{late}"})),
    ("rank_teams", "en", ["best teams by SLA this month", "and by rating?"], ("rank_teams", {"metric": "rating", "range": "this_month"})),
    ("count_tickets", "ms", ["zon mana paling banyak tiket tertunggak", "dan kat Kedah?"], ("count", {"zone": "Kedah", "status": "open"})),
    # ---- cannot answer: a helpful reply naming the closest things
    ("help", "ms", ["boleh tolong order pizza utk team?"], ("help", {})),
    ("help", "en", ["what's the weather in Ipoh tomorrow"], ("help", {})),
]

# A second held-out set, written after set A had been used to fix the assistant: its first score is the honest figure
# for questions the assistant was never tuned on.
QB: list[tuple[str, str, list[str], tuple]] = [
    ("count_tickets", "ms", ["tiket kritikal kat Wilayah yg masih pending ada brp"], ("count", {"zone": "Kuala Lumpur", "priority": "critical", "status": "open"})),
    ("count_tickets", "ms", ["boleh bagitau brp tiket x siap lagi di Kota Kinabalu"], ("count", {"zone": "Sabah", "status": "open"})),
    ("count_tickets", "ms", ["kes tembaga masuk smlm kat Ipoh brp"], ("count", {"zone": "Perak", "category": "copper", "range": "yesterday"})),
    ("count_tickets", "ms", ["brp tiket yg dah selesai dlm 3 hari lepas kat Kuching"], ("count", {"zone": "Sarawak", "status": "completed", "range": "last_3_days"})),
    ("count_tickets", "ms", ["ada berapa kes P1 belum siap kat Shah Alam"], ("count", {"zone": "Selangor", "priority": "critical", "status": "open"})),
    ("count_tickets", "ms", ["berapa jumlah tiket belum ada orang ambil di Melaka"], ("count", {"zone": "Melaka", "status": "unassigned"})),
    ("count_tickets", "ms", ["tiket dibuka bulan ni kat Terengganu brp"], ("count", {"zone": "Terengganu", "range": "this_month"})),
    ("count_tickets", "ms", ["brp tiket modem x siap lg kat Johor Bahru"], ("count", {"zone": "Johor", "category": "equipment", "status": "open"})),
    ("count_tickets", "ms", ["tiket lewat due kat Pulau Pinang brapa"], ("count", {"zone": "Pulau Pinang", "overdue": True})),
    ("count_tickets", "ms", ["pasukan {team} ada brp kerja aktif"], ("count", {"team": "{team}", "status": "open"})),
    ("count_tickets", "en", ["how many P2 tickets are open in Seremban"], ("count", {"zone": "Negeri Sembilan", "status": "open", "priority": "high"})),
    ("count_tickets", "en", ["no. of open fibre jobs in Sabah?"], ("count", {"zone": "Sabah", "category": "fiber", "status": "open"})),
    ("count_tickets", "en", ["how many tickets were logged over the last 7 days in Kedah"], ("count", {"zone": "Kedah", "range": "last_7_days"})),
    ("count_tickets", "en", ["tickets we finished last week in KL - count"], ("count", {"zone": "Kuala Lumpur", "status": "completed", "range": "last_week"})),
    ("count_tickets", "en", ["how many tickets are sitting unassigned in Pahang"], ("count", {"zone": "Pahang", "status": "unassigned"})),
    ("count_tickets", "en", ["how many overdue critical jobs do we have"], ("count", {"priority": "critical", "overdue": True})),
    ("list_tickets", "ms", ["tunjuk kes kritikal x siap kat Sabah"], ("list", {"zone": "Sabah", "priority": "critical", "status": "open"})),
    ("list_tickets", "ms", ["senaraikan tiket yg lewat kat Perak"], ("list", {"zone": "Perak", "overdue": True})),
    ("list_tickets", "en", ["list the jobs waiting for a team in Kedah"], ("list", {"zone": "Kedah", "status": "unassigned"})),
    ("list_tickets", "en", ["show me open power tickets in Selangor"], ("list", {"zone": "Selangor", "category": "power", "status": "open"})),
    ("rank_zones", "ms", ["negeri mana paling byk kes lewat skrg"], ("rank_zones", {"metric": "overdue"})),
    ("rank_zones", "ms", ["zon mana paling kurang tiket belum siap"], ("rank_zones", {"metric": "backlog", "asc": True})),
    ("rank_zones", "en", ["which state is drowning in backlog"], ("rank_zones", {"metric": "backlog"})),
    ("rank_zones", "en", ["which zone has the most critical tickets open"], ("rank_zones", {"metric": "backlog", "priority": "critical"})),
    ("rank_zones", "en", ["what zone had the most new tickets yesterday"], ("rank_zones", {"metric": "created", "range": "yesterday"})),
    ("rank_teams", "ms", ["pasukan mana paling ramai pelanggan puas hati"], ("rank_teams", {"metric": "rating"})),
    ("rank_teams", "ms", ["team mana paling pantas respons bulan lepas"], ("rank_teams", {"metric": "response", "range": "last_month"})),
    ("rank_teams", "ms", ["pasukan mana paling banyak tutup tiket minggu lepas"], ("rank_teams", {"metric": "completed", "range": "last_week"})),
    ("rank_teams", "en", ["which team has the best SLA in Sarawak this month"], ("rank_teams", {"metric": "sla", "zone": "Sarawak", "range": "this_month"})),
    ("rank_teams", "en", ["most overloaded teams now"], ("rank_teams", {"metric": "utilisation"})),
    ("rank_teams", "en", ["team with the worst customer rating this month"], ("rank_teams", {"metric": "rating", "range": "this_month", "asc": True})),
    ("ticket_detail", "ms", ["{any_low} camne"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "en", ["tell me about ticket {any_id}"], ("detail", {"ticket": "{any}"})),
    ("explain_late", "ms", ["{late} ni kenapa lewat"], ("late", {"ticket": "{late}"})),
    ("explain_late", "en", ["what delayed {late}?"], ("late", {"ticket": "{late}"})),
    ("explain_unassigned", "ms", ["{unas} kenapa takde siapa ambil"], ("unassigned", {"ticket": "{unas}"})),
    ("explain_unassigned", "en", ["why is {unas} still unassigned"], ("unassigned", {"ticket": "{unas}"})),
    ("ticket_eta", "en", ["when will the crew arrive at {asg}"], ("eta", {"ticket": "{asg}"})),
    ("team_day", "ms", ["pasukan {team} ada kerja apa hari ni"], ("team_day", {"team": "{team}"})),
    ("capacity", "ms", ["masih ada kapasiti tak kat Perak"], ("capacity", {"zone": "Perak"})),
    ("capacity", "en", ["any spare slots in Penang?"], ("capacity", {"zone": "Pulau Pinang"})),
    ("forecast_load", "en", ["what's the forecast for KL over the next 14 days"], ("forecast", {"zone": "Kuala Lumpur"})),
    ("sla_summary", "en", ["what % of jobs met SLA in Sabah last month"], ("sla", {"zone": "Sabah", "range": "last_month"})),
    ("what_if_offline", "ms", ["andai team {wteam} cuti sakit hari ni, apa kesan"], ("whatif", {"team": "{wteam}"})),
    ("what_if_offline", "en", ["if we take team {wteam} offline what breaks"], ("whatif", {"team": "{wteam}"})),
    ("action_assign", "ms", ["assign {unas} ke pasukan {team}"], ("action", {"ticket": "{unas}", "team": "{team}"})),
    ("action_status", "ms", ["tolong tutup {asg}, dah siap"], ("action", {"ticket": "{asg}"})),
    ("count_tickets", "ms", ["brp tiket terbuka di Perak", "Kedah?"], ("count", {"zone": "Kedah", "status": "open"})),
    ("count_tickets", "en", ["open tickets in Johor", "how about only fibre"], ("count", {"zone": "Johor", "status": "open", "category": "fiber"})),
    ("help", "en", ["sing me a song"], ("help", {})),
]

# Set C: written after set B's fixes, measured before any further change (word order, typos, more follow-ups).
QC: list[tuple[str, str, list[str], tuple]] = [
    ("count_tickets", "ms", ["kat Selangor, brp tiket high priority x siap?"], ("count", {"zone": "Selangor", "priority": "high", "status": "open"})),
    ("count_tickets", "ms", ["Sabah - tiket belum selesai brp?"], ("count", {"zone": "Sabah", "status": "open"})),
    ("count_tickets", "ms", ["brp byk tiket kritkal yg blm siap di Johor"], ("count", {"zone": "Johor", "priority": "critical", "status": "open"})),
    ("count_tickets", "ms", ["jumlah tiket baru minggu lalu di Kelantan"], ("count", {"zone": "Kelantan", "range": "last_week"})),
    ("count_tickets", "ms", ["tiket yg siap bulan lalu kat Pahang brp"], ("count", {"zone": "Pahang", "status": "completed", "range": "last_month"})),
    ("count_tickets", "ms", ["brp tiket pemasangan yg masuk hari ini di KL"], ("count", {"zone": "Kuala Lumpur", "category": "installation", "range": "today"})),
    ("count_tickets", "ms", ["tiket tanpa wayar yang tertangguh di Sarawak brp"], ("count", {"zone": "Sarawak", "category": "wireless", "status": "open"})),
    ("count_tickets", "ms", ["brp tiket dibatalkan minggu ni"], ("count", {"status": "cancelled", "range": "this_week"})),
    ("count_tickets", "ms", ["brp tiket kat Negri Sembilan yg dah lepas tarikh akhir"], ("count", {"zone": "Negeri Sembilan", "overdue": True})),
    ("count_tickets", "en", ["Penang: how many open tickets?"], ("count", {"zone": "Pulau Pinang", "status": "open"})),
    ("count_tickets", "en", ["how many tickets r still open in Selangor"], ("count", {"zone": "Selangor", "status": "open"})),
    ("count_tickets", "en", ["how many medium priority jobs pending in Perak"], ("count", {"zone": "Perak", "priority": "medium", "status": "open"})),
    ("count_tickets", "en", ["how many tickets came in over the past 5 days in Johor"], ("count", {"zone": "Johor", "range": "last_5_days"})),
    ("count_tickets", "en", ["how many copper faults are currently being worked on"], ("count", {"category": "copper", "status": "in_progress"})),
    ("count_tickets", "en", ["whats the number of unassigned critical tickets"], ("count", {"priority": "critical", "status": "unassigned"})),
    ("count_tickets", "en", ["how many tickets has team {team} completed this month"], ("count", {"team": "{team}", "status": "completed", "range": "this_month"})),
    ("list_tickets", "ms", ["senarai tiket kritikal belum assign"], ("list", {"priority": "critical", "status": "unassigned"})),
    ("list_tickets", "en", ["list open critical tickets in Kuala Lumpur please"], ("list", {"zone": "Kuala Lumpur", "priority": "critical", "status": "open"})),
    ("list_tickets", "en", ["show overdue fibre tickets"], ("list", {"category": "fiber", "overdue": True})),
    ("rank_zones", "ms", ["zon mana tiket lewat paling banyak"], ("rank_zones", {"metric": "overdue"})),
    ("rank_zones", "ms", ["negeri mana dpt tiket baru paling banyak bulan ni"], ("rank_zones", {"metric": "created", "range": "this_month"})),
    ("rank_zones", "en", ["which zones have the most jobs waiting for a team"], ("rank_zones", {"metric": "unassigned"})),
    ("rank_zones", "en", ["top zones by overdue"], ("rank_zones", {"metric": "overdue"})),
    ("rank_teams", "ms", ["pasukan mana capai SLA paling tinggi minggu lepas"], ("rank_teams", {"metric": "sla", "range": "last_week"})),
    ("rank_teams", "ms", ["team mana paling byk kerja siap bulan lepas"], ("rank_teams", {"metric": "completed", "range": "last_month"})),
    ("rank_teams", "ms", ["pasukan paling tinggi rating kat Selangor"], ("rank_teams", {"metric": "rating", "zone": "Selangor"})),
    ("rank_teams", "en", ["which team is the most efficient on SLA in Johor"], ("rank_teams", {"metric": "sla", "zone": "Johor"})),
    ("rank_teams", "en", ["fastest responding crews last week"], ("rank_teams", {"metric": "response", "range": "last_week"})),
    ("rank_teams", "en", ["who has the lowest utilisation right now"], ("rank_teams", {"metric": "utilisation", "asc": True})),
    ("ticket_detail", "ms", ["check tiket {any_nodash}"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "en", ["where are we with {any}?"], ("detail", {"ticket": "{any}"})),
    ("explain_late", "en", ["{late_low} - why late?"], ("late", {"ticket": "{late}"})),
    ("explain_late", "ms", ["mengapa tiket {late} melepasi SLA"], ("late", {"ticket": "{late}"})),
    ("explain_unassigned", "en", ["{unas} has no team, why?"], ("unassigned", {"ticket": "{unas}"})),
    ("explain_assignment", "en", ["why was {asg} assigned to that team"], ("assignment", {"ticket": "{asg}"})),
    ("ticket_eta", "ms", ["bila {asg} akan dibaiki"], ("eta", {"ticket": "{asg}"})),
    ("team_day", "en", ["team {team} schedule today"], ("team_day", {"team": "{team}"})),
    ("capacity", "en", ["how many teams are free in Selangor right now"], ("capacity", {"zone": "Selangor"})),
    ("forecast_load", "ms", ["ramalan beban kerja Sabah 7 hari akan datang"], ("forecast", {"zone": "Sabah"})),
    ("sla_summary", "ms", ["kadar SLA team {team} bulan ni"], ("sla_team", {"team": "{team}", "range": "this_month"})),
    ("what_if_offline", "en", ["simulate losing team {wteam} for the rest of the day"], ("whatif", {"team": "{wteam}"})),
    ("action_assign", "en", ["send team {team} to {unas}"], ("action", {"ticket": "{unas}", "team": "{team}"})),
    ("action_status", "ms", ["set {asg} kepada dalam proses"], ("action", {"ticket": "{asg}"})),
    ("suggest_assignment", "en", ["who's the best crew for {unas}?"], ("suggest", {"ticket": "{unas}"})),
    ("count_tickets", "ms", ["brp tiket kritikal terbuka kat Johor", "Melaka pulak?"], ("count", {"zone": "Melaka", "priority": "critical", "status": "open"})),
    ("count_tickets", "en", ["how many open tickets in Sabah", "and Labuan?"], ("count", {"zone": "Labuan", "status": "open"})),
    ("list_tickets", "en", ["how many overdue tickets in Selangor", "list them"], ("list", {"zone": "Selangor", "overdue": True})),
    ("rank_teams", "ms", ["pasukan terbaik ikut SLA bulan ni", "ikut rating pulak"], ("rank_teams", {"metric": "rating", "range": "this_month"})),
    ("team_day", "en", ["top teams by jobs completed this week", "what is the first one doing today?"], ("rank_pick_day", {"metric": "completed", "range": "this_week"})),
    ("help", "ms", ["apa khabar cuaca esok"], ("help", {})),
]

# ---- set d: written blind after set c (first contact recorded in README), half Malay/mixed, typos, slang, chains
QD: list[tuple[str, str, list[str], tuple]] = [
    ("count_tickets", "ms", ["boleh tolong check berapa tiket yang masih open kat Johor sekarang ni?"], ("count", {"zone": "Johor", "status": "open"})),
    ("count_tickets", "en", ["Johor — how many open?"], ("count", {"zone": "Johor", "status": "open"})),
    ("count_tickets", "ms", ["SELANGOR berapa tiket HIGH priority yg belum assign"], ("count", {"zone": "Selangor", "priority": "high", "status": "unassigned"})),
    ("count_tickets", "en", ["could you kindly tell me how many critical fibre tickets are still open in Kuala Lumpur"], ("count", {"zone": "Kuala Lumpur", "priority": "critical", "category": "fiber", "status": "open"})),
    ("count_tickets", "ms", ["tiket kuasa elektrik yang dah siap bulan lepas ada berapa"], ("count", {"category": "power", "status": "completed", "range": "last_month"})),
    ("count_tickets", "ms", ["brp tiket masuk tiga hari lepas"], ("count", {"range": "last_3_days"})),
    ("count_tickets", "en", ["how many tickets were created in the last two weeks in perak"], ("count", {"zone": "Perak", "range": "last_14_days"})),
    ("count_tickets", "ms", ["kelmarin ada brp tiket baru kat Sabah"], ("count", {"zone": "Sabah", "range": "day_before_yesterday"})),
    ("count_tickets", "en", ["number of overdue tickets in Pulau Pinang pls"], ("count", {"zone": "Pulau Pinang", "overdue": True})),
    ("count_tickets", "ms", ["brape tiket lewat due kat sarawak"], ("count", {"zone": "Sarawak", "overdue": True})),
    ("count_tickets", "en", ["how many tickets did we complete this week?"], ("count", {"status": "completed", "range": "this_week"})),
    ("count_tickets", "ms", ["tiket yg tengah dibaiki skrg kat Kedah ada brp ek"], ("count", {"zone": "Kedah", "status": "in_progress"})),
    ("count_tickets", "en", ["hey, quick one: cancelled tickets last week?"], ("count", {"status": "cancelled", "range": "last_week"})),
    ("count_tickets", "ms", ["jumlah tiket pemasangan yang belum ditugaskan di Melaka"], ("count", {"zone": "Melaka", "category": "installation", "status": "unassigned"})),
    ("count_tickets", "en", ["open wireless tix in negeri sembilan, how many"], ("count", {"zone": "Negeri Sembilan", "category": "wireless", "status": "open"})),
    ("count_tickets", "ms", ["tahun ni berapa tiket dah siap"], ("count", {"status": "completed", "range": "this_year"})),
    ("count_tickets", "en", ["How many tickets came in since this morning?"], ("count", {"range": "today"})),
    ("count_tickets", "ms", ["Pahang: tiket kritikal belum siap?"], ("count", {"zone": "Pahang", "priority": "critical", "status": "open"})),
    ("count_tickets", "ms", ["berapa tiket team {team} tengah pegang sekarang"], ("count", {"team": "{team}", "status": "open"})),
    ("count_tickets", "en", ["total open tickets assigned to team {team}?"], ("count", {"team": "{team}", "status": "open"})),
    ("count_tickets", "ms", ["brp tiket modem/router yang open kat KL"], ("count", {"zone": "Kuala Lumpur", "category": "equipment", "status": "open"})),
    ("count_tickets", "en", ["how many tickets in Kelantan", "and in Terengganu?"], ("count", {"zone": "Terengganu", "status": "open"})),
    ("count_tickets", "ms", ["berapa tiket open kat Johor", "yang critical je"], ("count", {"zone": "Johor", "priority": "critical", "status": "open"})),
    ("count_tickets", "en", ["how many open tickets in Selangor?", "what about copper ones"], ("count", {"zone": "Selangor", "category": "copper", "status": "open"})),
    ("count_tickets", "ms", ["tiket gentian optik yang lewat kat Perak?", "kalau Kedah pula?"], ("count", {"zone": "Kedah", "category": "fiber", "overdue": True})),
    ("count_tickets", "en", ["open tickets in Johor vs Selangor"], ("count_multi", {"zones": ["Johor", "Selangor"], "status": "open"})),
    ("list_tickets", "ms", ["senaraikan tiket kritikal yang belum assign kat Selangor"], ("list", {"zone": "Selangor", "priority": "critical", "status": "unassigned"})),
    ("list_tickets", "en", ["show me the overdue tickets in Johor"], ("list", {"zone": "Johor", "overdue": True})),
    ("list_tickets", "ms", ["tunjuk tiket lewat kat KL", "yang kedua tu"], ("list_pick", {"zone": "Kuala Lumpur", "overdue": True, "k": 2})),
    ("list_tickets", "en", ["list open power tickets in Sabah"], ("list", {"zone": "Sabah", "category": "power", "status": "open"})),
    ("list_tickets", "ms", ["bagi senarai tiket paling lama belum siap kat Pahang"], ("oldest", {"zone": "Pahang", "status": "open"})),
    ("rank_zones", "en", ["which zone has the biggest backlog right now?"], ("rank_zones", {"metric": "backlog"})),
    ("rank_zones", "ms", ["zon mana paling banyak tiket lewat"], ("rank_zones", {"metric": "overdue"})),
    ("rank_zones", "en", ["Which state has the fewest unassigned tickets?"], ("rank_zones", {"metric": "unassigned", "asc": True})),
    ("rank_zones", "ms", ["negeri mana paling banyak tiket kritikal terbuka"], ("rank_zones", {"metric": "backlog", "priority": "critical"})),
    ("rank_zones", "en", ["where did we close the most tickets last week"], ("rank_zones", {"metric": "completed", "range": "last_week"})),
    ("rank_teams", "ms", ["pasukan mana paling bagus SLA bulan ni"], ("rank_teams", {"metric": "sla", "range": "this_month"})),
    ("rank_teams", "en", ["Which team responds fastest in Selangor?"], ("rank_teams", {"metric": "response", "zone": "Selangor"})),
    ("rank_teams", "ms", ["team mana paling tinggi rating customer kat Johor"], ("rank_teams", {"metric": "rating", "zone": "Johor"})),
    ("rank_teams", "en", ["who's the most overloaded team at the moment"], ("rank_teams", {"metric": "utilisation"})),
    ("rank_teams", "ms", ["team paling banyak siapkan kerja minggu lepas"], ("rank_teams", {"metric": "completed", "range": "last_week"})),
    ("rank_teams", "en", ["worst SLA team in Kuala Lumpur this month"], ("rank_teams", {"metric": "sla", "zone": "Kuala Lumpur", "range": "this_month", "asc": True})),
    ("ticket_detail", "en", ["what's the status of {any}"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "ms", ["tolong semak tiket {any_low}"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "ms", ["{any_nodash} status apa skrg"], ("detail", {"ticket": "{any}"})),
    ("explain_late", "en", ["why is {late} running late?"], ("late", {"ticket": "{late}"})),
    ("explain_late", "ms", ["kenapa {late} lambat sangat"], ("late", {"ticket": "{late}"})),
    ("explain_unassigned", "ms", ["apasal {unas} takde team lagi"], ("unassigned", {"ticket": "{unas}"})),
    ("explain_assignment", "en", ["why did {asg} go to that team?"], ("assignment", {"ticket": "{asg}"})),
    ("ticket_eta", "ms", ["bila team sampai untuk {asg}?"], ("eta", {"ticket": "{asg}"})),
    ("team_day", "en", ["what's on {team_name}'s plate today?"], ("team_day", {"team": "{team}"})),
    ("capacity", "ms", ["Johor ada cukup team tak untuk handle kerja sekarang"], ("capacity", {"zone": "Johor"})),
    ("capacity", "en", ["how much spare capacity does Perak have"], ("capacity", {"zone": "Perak"})),
    ("forecast_load", "ms", ["ramalan tiket minggu depan kat Selangor"], ("forecast", {"zone": "Selangor"})),
    ("forecast_load", "en", ["how busy will Penang be tomorrow?"], ("forecast", {"zone": "Pulau Pinang"})),
    ("sla_summary", "en", ["SLA compliance last month in Johor?"], ("sla", {"range": "last_month", "zone": "Johor"})),
    ("sla_summary", "ms", ["berapa peratus siap ikut SLA minggu ni"], ("sla", {"range": "this_week"})),
    ("what_if_offline", "en", ["what happens if team {wteam} goes offline right now"], ("whatif", {"team": "{wteam}"})),
    ("action_assign", "ms", ["tolong assign {unas} kat team {team}"], ("action", {"ticket": "{unas}", "team": "{team}"})),
    ("action_status", "en", ["mark {asg} as in progress"], ("action", {"ticket": "{asg}"})),
    ("help", "en", ["can you book me a flight to Kuching"], ("help", {})),
]
# ---- set e: written blind with set d, scored on first contact before any fix
QE: list[tuple[str, str, list[str], tuple]] = [
    ("count_tickets", "ms", ["Kak, boleh tolong tengokkan tak berapa banyak tiket yang belum settle kat Negeri Sembilan?"], ("count", {"zone": "Negeri Sembilan", "status": "open"})),
    ("count_tickets", "en", ["KL - critical & unassigned, how many?"], ("count", {"zone": "Kuala Lumpur", "priority": "critical", "status": "unassigned"})),
    ("count_tickets", "ms", ["brp byk tiket prioriti tinggi yg lewat kat Selangor"], ("count", {"zone": "Selangor", "priority": "high", "overdue": True})),
    ("count_tickets", "en", ["how many tix got closed out yesterday in Johor"], ("count", {"zone": "Johor", "status": "completed", "range": "yesterday"})),
    ("count_tickets", "ms", ["dua minggu lepas berapa tiket masuk kat Perak"], ("count", {"zone": "Perak", "range": "last_14_days"})),
    ("count_tickets", "en", ["tickets opened in the past five days?"], ("count", {"range": "last_5_days"})),
    ("count_tickets", "ms", ["semalam berapa tiket menara/wireless masuk"], ("count", {"category": "wireless", "range": "yesterday"})),
    ("count_tickets", "en", ["Low priority tickets still open in Labuan?"], ("count", {"zone": "Labuan", "priority": "low", "status": "open"})),
    ("count_tickets", "ms", ["tiket peralatan yang dah assign tapi belum mula kat Pulau Pinang"], ("count", {"zone": "Pulau Pinang", "category": "equipment", "status": "assigned"})),
    ("count_tickets", "en", ["how many medium priority tickets are in progress"], ("count", {"priority": "medium", "status": "in_progress"})),
    ("count_tickets", "ms", ["tiket tembaga yang open kat Kelantan ada berapa ye"], ("count", {"zone": "Kelantan", "category": "copper", "status": "open"})),
    ("count_tickets", "en", ["I need the count of tickets created this month in Sarawak please"], ("count", {"zone": "Sarawak", "range": "this_month"})),
    ("count_tickets", "ms", ["MeLaKa ada brp tiket overdue"], ("count", {"zone": "Melaka", "overdue": True})),
    ("count_tickets", "en", ["how many tickets did we finish in the last 7 days"], ("count", {"status": "completed", "range": "last_7_days"})),
    ("count_tickets", "ms", ["berapa tiket dibatalkan bulan ni"], ("count", {"status": "cancelled", "range": "this_month"})),
    ("count_tickets", "ms", ["Terengganu tiket baru hari ni brp"], ("count", {"zone": "Terengganu", "range": "today"})),
    ("count_tickets", "en", ["unassigned ones in Perlis?"], ("count", {"zone": "Perlis", "status": "unassigned"})),
    ("count_tickets", "ms", ["team {team} ada brp tiket lewat"], ("count", {"team": "{team}", "overdue": True})),
    ("count_tickets", "en", ["how many open tickets does {team_name} have"], ("count", {"team": "{team}", "status": "open"})),
    ("count_tickets", "ms", ["berapa tiket installation yg tak siap lg kat Johor"], ("count", {"zone": "Johor", "category": "installation", "status": "open"})),
    ("count_tickets", "en", ["open tickets in Sabah?", "only the high ones"], ("count", {"zone": "Sabah", "priority": "high", "status": "open"})),
    ("count_tickets", "ms", ["tiket kritikal yang belum siap kat Selangor", "kat Johor pulak?"], ("count", {"zone": "Johor", "priority": "critical", "status": "open"})),
    ("count_tickets", "en", ["how many overdue in Kedah", "and Perlis?"], ("count", {"zone": "Perlis", "overdue": True})),
    ("count_tickets", "ms", ["berapa tiket masuk minggu ni kat KL", "yang fiber sahaja"], ("count", {"zone": "Kuala Lumpur", "category": "fiber", "range": "this_week"})),
    ("count_tickets", "ms", ["bandingkan tiket terbuka Perak dengan Kedah"], ("count_multi", {"zones": ["Perak", "Kedah"], "status": "open"})),
    ("count_tickets", "en", ["how many critical tickets are open across Malaysia"], ("count", {"priority": "critical", "status": "open"})),
    ("list_tickets", "en", ["give me the list of unassigned critical tickets in Johor"], ("list", {"zone": "Johor", "priority": "critical", "status": "unassigned"})),
    ("list_tickets", "ms", ["tunjukkan tiket yang lewat kat Selangor", "yang pertama"], ("list_pick", {"zone": "Selangor", "overdue": True, "k": 1})),
    ("list_tickets", "en", ["show open installation tickets in Penang"], ("list", {"zone": "Pulau Pinang", "category": "installation", "status": "open"})),
    ("list_tickets", "ms", ["senarai tiket yang tengah dibaiki kat Melaka"], ("list", {"zone": "Melaka", "status": "in_progress"})),
    ("list_tickets", "en", ["what's the oldest open ticket in Kedah"], ("oldest", {"zone": "Kedah", "status": "open"})),
    ("rank_zones", "ms", ["zon mana paling sikit tiket tertunggak"], ("rank_zones", {"metric": "backlog", "asc": True})),
    ("rank_zones", "en", ["which zone got the most new tickets this week"], ("rank_zones", {"metric": "created", "range": "this_week"})),
    ("rank_zones", "ms", ["negeri mana paling banyak tiket belum ditugaskan"], ("rank_zones", {"metric": "unassigned"})),
    ("rank_zones", "en", ["top zone for overdue high priority tickets"], ("rank_zones", {"metric": "overdue", "priority": "high"})),
    ("rank_zones", "ms", ["zon mana siapkan paling banyak tiket bulan lepas"], ("rank_zones", {"metric": "completed", "range": "last_month"})),
    ("rank_teams", "en", ["which team has the best customer rating this month"], ("rank_teams", {"metric": "rating", "range": "this_month"})),
    ("rank_teams", "ms", ["pasukan mana respon paling lambat kat KL"], ("rank_teams", {"metric": "response", "zone": "Kuala Lumpur", "asc": True})),
    ("rank_teams", "en", ["best performing team on SLA in Penang?"], ("rank_teams", {"metric": "sla", "zone": "Pulau Pinang"})),
    ("rank_teams", "ms", ["team mana paling sibuk kat Selangor skrg"], ("rank_teams", {"metric": "utilisation", "zone": "Selangor"})),
    ("rank_teams", "en", ["which crew completed the most jobs last month"], ("rank_teams", {"metric": "completed", "range": "last_month"})),
    ("rank_teams", "ms", ["team paling rendah rating minggu lepas"], ("rank_teams", {"metric": "rating", "range": "last_week", "asc": True})),
    ("ticket_detail", "en", ["pull up ticket {any_short}"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "ms", ["info tiket id {any_id}"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "en", ["any update on {asg_low}?"], ("detail", {"ticket": "{asg}"})),
    ("explain_late", "ms", ["{late} ni knp lewat?"], ("late", {"ticket": "{late}"})),
    ("explain_late", "en", ["how come {late_low} missed its deadline"], ("late", {"ticket": "{late}"})),
    ("explain_unassigned", "en", ["why hasn't {unas} been assigned yet?"], ("unassigned", {"ticket": "{unas}"})),
    ("explain_assignment", "ms", ["kenapa {asg} dapat kat team tu"], ("assignment", {"ticket": "{asg}"})),
    ("ticket_eta", "en", ["when will the technician arrive for {asg}?"], ("eta", {"ticket": "{asg}"})),
    ("team_day", "ms", ["apa jadual {team_name} hari ni"], ("team_day", {"team": "{team}"})),
    ("capacity", "en", ["do we have enough crews in Selangor right now?"], ("capacity", {"zone": "Selangor"})),
    ("forecast_load", "ms", ["jangkaan beban kerja Johor esok"], ("forecast", {"zone": "Johor"})),
    ("sla_summary", "ms", ["prestasi SLA bulan lepas kat KL macam mana"], ("sla", {"range": "last_month", "zone": "Kuala Lumpur"})),
    ("sla_summary", "en", ["what was our on-time rate last week?"], ("sla", {"range": "last_week"})),
    ("what_if_offline", "ms", ["kalau team {wteam} offline sekarang apa jadi"], ("whatif", {"team": "{wteam}"})),
    ("action_assign", "en", ["please reassign {asg} to team {team}"], ("action", {"ticket": "{asg}", "team": "{team}"})),
    ("action_pin", "ms", ["pin {unas} kat team {team}"], ("action", {"ticket": "{unas}", "team": "{team}"})),
    ("suggest_assignment", "en", ["who should take {unas}?"], ("suggest", {"ticket": "{unas}"})),
    ("help", "ms", ["boleh tak tolong order nasi lemak untuk team"], ("help", {})),
]


# ---- set f: a 30-question probe written after D and E were fixed; first contact 27/29 (one expectation was the
# bench's own mistake, fixed here), misses: "blm ada team", "how come nobody has picked up TKT-…"
QF: list[tuple[str, str, list[str], tuple]] = [
    ("count_tickets", "en", ["tickets created over the last ten days in Johor?"], ("count", {"zone": "Johor", "range": "last_10_days"})),
    ("count_tickets", "ms", ["brp tiket selesai dalam tempoh tujuh hari lepas"], ("count", {"status": "completed", "range": "last_7_days"})),
    ("count_tickets", "ms", ["tolong semak ye, tiket high yg blm ada team kat Perak berapa"], ("count", {"zone": "Perak", "priority": "high", "status": "unassigned"})),
    ("count_tickets", "en", ["Kedah: overdue critical?"], ("count", {"zone": "Kedah", "priority": "critical", "overdue": True})),
    ("count_tickets", "ms", ["tiket yang dah siap semalam kat Selangor ada berapa ek"], ("count", {"zone": "Selangor", "status": "completed", "range": "yesterday"})),
    ("count_tickets", "en", ["count of open kuasa tickets in Sabah"], ("count", {"zone": "Sabah", "category": "power", "status": "open"})),
    ("count_tickets", "ms", ["Berapa banyak tiket Pemasangan masuk minggu lepas?"], ("count", {"category": "installation", "range": "last_week"})),
    ("count_tickets", "en", ["how many jobs are waiting for a crew in Melaka right now"], ("count", {"zone": "Melaka", "status": "unassigned"})),
    ("count_tickets", "ms", ["tiket open kat Johor", "tu yang kritikal sahaja"], ("count", {"zone": "Johor", "priority": "critical", "status": "open"})),
    ("count_tickets", "en", ["open tickets in Penang", "how about Kedah"], ("count", {"zone": "Kedah", "status": "open"})),
    ("count_tickets", "ms", ["jumlah tiket baharu bulan ni kat sarawak"], ("count", {"zone": "Sarawak", "range": "this_month"})),
    ("count_tickets", "en", ["no. of tickets done in the past 2 weeks"], ("count", {"status": "completed", "range": "last_14_days"})),
    ("list_tickets", "en", ["list the unassigned high priority ones in KL"], ("list", {"zone": "Kuala Lumpur", "priority": "high", "status": "unassigned"})),
    ("list_tickets", "ms", ["tunjuk tiket fiber yang lewat kat Selangor"], ("list", {"zone": "Selangor", "category": "fiber", "overdue": True})),
    ("rank_zones", "en", ["state with the most critical backlog?"], ("rank_zones", {"metric": "backlog", "priority": "critical"})),
    ("rank_zones", "ms", ["zon mana paling banyak tiket baru semalam"], ("rank_zones", {"metric": "created", "range": "yesterday"})),
    ("rank_teams", "en", ["which team had the best on-time rate last month in Johor"], ("rank_teams", {"metric": "sla", "zone": "Johor", "range": "last_month"})),
    ("rank_teams", "ms", ["pasukan mana paling laju respon bulan lepas"], ("rank_teams", {"metric": "response", "range": "last_month"})),
    ("rank_teams", "en", ["lowest rated team this month?"], ("rank_teams", {"metric": "rating", "range": "this_month", "asc": True})),
    ("ticket_detail", "en", ["details for ticket #{any_id}"], ("detail", {"ticket": "{any}"})),
    ("ticket_detail", "ms", ["status {any_short} macam mana"], ("detail", {"ticket": "{any}"})),
    ("explain_late", "ms", ["apa punca {late} lewat"], ("late", {"ticket": "{late}"})),
    ("explain_unassigned", "en", ["how come nobody has picked up {unas}"], ("unassigned", {"ticket": "{unas}"})),
    ("ticket_eta", "en", ["ETA for {asg}?"], ("eta", {"ticket": "{asg}"})),
    ("capacity", "ms", ["berapa kapasiti kosong kat Kedah"], ("capacity", {"zone": "Kedah"})),
    ("forecast_load", "en", ["expected ticket volume in Johor next week"], ("forecast", {"zone": "Johor"})),
    ("sla_summary", "ms", ["SLA kita bulan ni berapa peratus"], ("sla", {"range": "this_month"})),
    ("what_if_offline", "en", ["suppose {team_name} is unavailable today, what then?"], ("whatif", {"team": "{team}"})),
    ("action_status", "ms", ["tukar status {asg} kepada selesai"], ("action", {"ticket": "{asg}"})),
    ("help", "en", ["what's the weather in Ipoh"], ("help", {})),
]


def _day(d) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=KL).astimezone(UTC)


def date_range(label: str) -> tuple[datetime, datetime]:
    """Malaysian calendar ranges, written independently of aiff.assistant.dates."""
    today = datetime.now(KL).date()
    tomorrow = _day(today + timedelta(days=1))
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    if label == "today":
        return _day(today), tomorrow
    if label == "yesterday":
        return _day(today - timedelta(days=1)), _day(today)
    if label == "day_before_yesterday":
        return _day(today - timedelta(days=2)), _day(today - timedelta(days=1))
    if label == "this_week":
        return _day(monday), tomorrow
    if label == "last_week":
        return _day(monday - timedelta(days=7)), _day(monday)
    if label == "this_month":
        return _day(first), tomorrow
    if label == "this_year":
        return _day(today.replace(month=1, day=1)), tomorrow
    if label == "last_month":
        return _day((first - timedelta(days=1)).replace(day=1)), _day(first)
    n = int(label.split("_")[1])
    return _day(today - timedelta(days=n - 1)), tomorrow


def where(f: dict) -> tuple[str, list]:
    conds, args = [], []

    def add(sql, v):
        args.append(v)
        conds.append(sql.replace("?", f"${len(args)}"))

    status = f.get("status")
    if f.get("overdue"):
        status = status or "open"
        conds.append("due_date < now()")
    if status is None and not f.get("range"):
        status = "open"
    if f.get("zone"):
        add("zone = ?", f["zone"])
    if f.get("priority"):
        add("priority = ?", f["priority"])
    if status:
        add("status = ANY(?::text[])", STATUS[status])
    if f.get("category"):
        add("category = ?", f["category"])
    if f.get("team") is not None:
        add("assigned_team = ?", int(f["team"]))
    if f.get("range"):
        s, e = date_range(f["range"])
        col = "completed_at" if status == "completed" else "created_at"
        add(f"{col} >= ?", s)
        add(f"{col} < ?", e)
    return " AND ".join(conds) or "TRUE", args


PRI = "CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"


async def expected(conn, kind: str, p: dict) -> list:
    """Tokens the reply must hold; a tuple token = any one of its alternatives."""
    if kind == "count":
        w, a = where(p)
        return [str(await conn.fetchval(f"SELECT count(*) FROM tickets WHERE {w}", *a))]
    if kind == "count_multi":
        out = []
        for z in p["zones"]:
            w, a = where({**p, "zone": z})
            out += [z, str(await conn.fetchval(f"SELECT count(*) FROM tickets WHERE {w}", *a))]
        return out
    if kind in ("list", "oldest", "list_pick"):
        w, a = where(p)
        n = await conn.fetchval(f"SELECT count(*) FROM tickets WHERE {w}", *a)
        order = "created_at, id" if kind == "oldest" else f"{PRI}, due_date NULLS LAST, id"
        first = await conn.fetch(f"SELECT ticket_number FROM tickets WHERE {w} ORDER BY {order} LIMIT {p.get('k', 1)}", *a)
        if kind == "list_pick":
            return [first[-1][0]] if len(first) >= p["k"] else ["!skip"]
        return [str(n)] + ([first[0][0]] if first else [])
    if kind == "rank_zones":
        m = p["metric"]
        f = {"priority": p.get("priority"), "range": p.get("range")}
        f["status"] = {"backlog": "open", "overdue": "open", "unassigned": "unassigned", "completed": "completed", "created": None}[m]
        f["overdue"] = m == "overdue"
        w, a = where(f)
        rows = {r[0]: r[1] for r in await conn.fetch(f"SELECT zone, count(*) FROM tickets WHERE {w} GROUP BY zone", *a)}
        zones = [r[0] for r in await conn.fetch("SELECT name FROM zones")]
        vals = {z: rows.get(z, 0) for z in zones}
        best = (min if p.get("asc") else max)(vals.values())
        return [tuple(z for z, v in vals.items() if v == best), str(best)]
    if kind == "rank_teams":
        s, e = date_range(p.get("range") or "last_30_days")
        rows = await conn.fetch(
            """SELECT t.id, count(k.id) FILTER (WHERE k.status IN ('completed','closed') AND k.completed_at >= $1 AND k.completed_at < $2) AS done,
                      count(k.id) FILTER (WHERE k.status IN ('completed','closed') AND k.completed_at >= $1 AND k.completed_at < $2 AND (k.due_date IS NULL OR k.completed_at <= k.due_date)) AS met,
                      avg(extract(epoch FROM k.started_at - k.assigned_at) / 60) FILTER (WHERE k.status IN ('completed','closed') AND k.completed_at >= $1 AND k.completed_at < $2) AS resp,
                      avg(k.customer_rating) FILTER (WHERE k.status IN ('completed','closed') AND k.completed_at >= $1 AND k.completed_at < $2) AS rating,
                      count(k.id) FILTER (WHERE k.status IN ('assigned','in_progress')) AS active, t.capacity
               FROM teams t LEFT JOIN tickets k ON k.assigned_team = t.id
               WHERE t.is_active AND ($3::text IS NULL OR t.zone = $3) GROUP BY t.id, t.capacity""", s, e, p.get("zone"))  # fmt: skip
        m, asc = p["metric"], p.get("asc", False)
        vals = {}
        for r in rows:
            if m == "utilisation":
                vals[r["id"]] = round(100 * r["active"] / r["capacity"], 1) if r["capacity"] else None
            elif m == "completed":
                vals[r["id"]] = r["done"]
            elif r["done"]:
                vals[r["id"]] = {"sla": round(100 * r["met"] / r["done"], 1), "response": None if r["resp"] is None else round(float(r["resp"]), 1),
                                 "rating": None if r["rating"] is None else round(float(r["rating"]), 2)}[m]  # fmt: skip
        vals = {k: v for k, v in vals.items() if v is not None}
        if not vals:
            return ["!noteams"]
        low_first = asc != (m == "response")
        best = (min if low_first else max)(vals.values())
        ids = [k for k, v in vals.items() if v == best]
        return [tuple(x for i in ids for x in (f"(team {i})", f"(pasukan {i})"))]
    if kind == "detail":
        r = await conn.fetchrow("SELECT ticket_number, status, zone FROM tickets WHERE ticket_number = $1", p["ticket"])
        return [r["ticket_number"], r["zone"]]
    if kind == "late":
        mins = await conn.fetchval("SELECT round(extract(epoch FROM now() - due_date) / 60)::int FROM tickets WHERE ticket_number = $1", p["ticket"])
        return [p["ticket"], f"~{mins}"]
    if kind == "unassigned":
        return [p["ticket"], ("unassigned", "belum ditugaskan", "is assigned", "sudah ditugaskan")]
    if kind == "assignment":
        team = await conn.fetchval("SELECT assigned_team FROM tickets WHERE ticket_number = $1", p["ticket"])
        return [p["ticket"], str(team)]
    if kind == "eta":
        return [p["ticket"], ("no planned visit", "belum ada lawatan", "should reach", "dijangka sampai")]
    if kind == "team_day":
        r = await conn.fetchrow("SELECT name, (SELECT count(*) FROM tickets WHERE assigned_team = $1 AND status IN ('assigned','in_progress')) AS n FROM teams WHERE id = $1", int(p["team"]))
        return [r["name"], str(r["n"])]
    if kind == "capacity":
        r = await conn.fetchrow(
            """SELECT count(*) FILTER (WHERE status IN ('available','busy')) AS working, count(*) AS teams,
                      sum(greatest(0, capacity - (SELECT count(*) FROM tickets k WHERE k.assigned_team = t.id AND k.status IN ('assigned','in_progress'))))
                        FILTER (WHERE status IN ('available','busy')) AS free
               FROM teams t WHERE is_active AND zone = $1""", p["zone"])  # fmt: skip
        return [str(r["working"]), str(r["teams"]), str(r["free"] or 0)]
    if kind == "forecast":
        return [("forecast", "ramalan"), p["zone"]]
    if kind == "sla":
        s, e = date_range(p["range"])
        r = await conn.fetchrow(
            """SELECT count(*) AS n, count(*) FILTER (WHERE due_date IS NULL OR completed_at <= due_date) AS met FROM tickets
               WHERE status IN ('completed','closed') AND completed_at >= $1 AND completed_at < $2 AND ($3::text IS NULL OR zone = $3)""", s, e, p.get("zone"))  # fmt: skip
        if not r["n"]:
            return ["!nocompleted"]
        return [str(r["met"]), str(r["n"]), f"{round(100 * r['met'] / r['n'], 1)}"]
    if kind == "sla_team":
        s, e = date_range(p["range"])
        r = await conn.fetchrow(
            """SELECT count(*) AS n, count(*) FILTER (WHERE due_date IS NULL OR completed_at <= due_date) AS met FROM tickets
               WHERE status IN ('completed','closed') AND completed_at >= $1 AND completed_at < $2 AND assigned_team = $3""", s, e, int(p["team"]))  # fmt: skip
        if not r["n"]:
            return [("no tickets were completed", "tiada tiket diselesaikan", "no team data", "tiada data pasukan")]
        return [str(r["met"]), str(r["n"])]
    if kind == "rank_pick_day":
        top = (await expected(conn, "rank_teams", p))[0]
        ids = sorted({int(re.search(r"\d+", x).group()) for x in top})
        names = [await conn.fetchval("SELECT name FROM teams WHERE id = $1", i) for i in ids]
        return [tuple(names)]
    if kind == "whatif":
        name = await conn.fetchval("SELECT name FROM teams WHERE id = $1", int(p["team"]))
        return [("dry run", "simulasi"), name]
    if kind == "action":
        return [p["ticket"]] + ([str(p["team"])] if p.get("team") else []) + ["!action"]
    if kind == "suggest":
        free = await conn.fetchval(
            """SELECT count(*) FROM teams t, tickets k WHERE k.ticket_number = $1 AND t.is_active AND t.status = 'available'
                 AND (k.category IS NULL OR k.category = ANY(t.skills)) AND t.id IS DISTINCT FROM k.assigned_team
                 AND t.capacity > (SELECT count(*) FROM tickets x WHERE x.assigned_team = t.id AND x.status IN ('assigned','in_progress'))""", p["ticket"])  # fmt: skip
        return [p["ticket"], "!action"] if free else [("no available team", "tiada pasukan yang sesuai")]
    if kind == "help":
        return [("closest things", "paling hampir", "i can count", "saya boleh")]
    raise ValueError(kind)


async def fills(conn) -> dict:
    """The data a question names: real tickets and teams of the demo data."""
    late = await conn.fetchval("SELECT ticket_number FROM tickets WHERE status IN ('open','assigned','in_progress','reopened') AND due_date < now() - interval '3 hours' ORDER BY id LIMIT 1")
    unas = await conn.fetchval("SELECT ticket_number FROM tickets WHERE status IN ('open','reopened') ORDER BY id DESC LIMIT 1")
    asg = await conn.fetchval("SELECT ticket_number FROM tickets WHERE status = 'assigned' ORDER BY id LIMIT 1")
    anyt = await conn.fetchrow("SELECT id, ticket_number FROM tickets ORDER BY id OFFSET 37 LIMIT 1")
    team = await conn.fetchrow(
        """SELECT t.id, t.name FROM teams t JOIN tickets k ON k.assigned_team = t.id AND k.status IN ('assigned','in_progress')
           WHERE t.is_active AND t.status IN ('available','busy') GROUP BY t.id, t.name ORDER BY count(*) DESC, t.id LIMIT 1""")  # fmt: skip
    wteam = await conn.fetchval(
        """SELECT t.id FROM teams t JOIN tickets k ON k.assigned_team = t.id AND k.status IN ('assigned','in_progress')
           WHERE t.is_active AND t.status IN ('available','busy') GROUP BY t.id ORDER BY count(*), t.id LIMIT 1""")  # fmt: skip
    yr, no = anyt["ticket_number"].split("-")[1:]
    return {"late": late, "late_low": late.lower(), "unas": unas, "asg": asg, "asg_low": asg.lower(), "asg_nodash": asg.replace("-", ""),
            "any": anyt["ticket_number"], "any_low": anyt["ticket_number"].lower(), "any_short": f"{yr}-{int(no)}", "any_nodash": anyt["ticket_number"].replace("-", ""), "any_id": str(anyt["id"]),
            "team": str(team["id"]), "team_name": team["name"], "wteam": str(wteam)}  # fmt: skip


SETS = {"a": Q, "b": QB, "c": QC, "d": QD, "e": QE, "f": QF, "all": Q + QB + QC + QD + QE + QF}


def questions(f: dict, which: str = "a") -> list[dict]:
    out = []
    for intent, lang, turns, (kind, params) in SETS[which]:
        fill = lambda s: s.format(**f) if isinstance(s, str) else s  # noqa: E731
        p = {k: fill(v) for k, v in params.items()}
        out.append({"intent": intent, "lang": lang, "turns": [fill(t) for t in turns], "kind": kind, "params": p, "text": fill(turns[-1])})
    return out


def check(reply: str, out: dict, tokens: list) -> bool:
    low = reply.lower()
    if tokens == ["!skip"]:
        return True
    if tokens == ["!nocompleted"]:
        return "no tickets were completed" in low or "tiada tiket diselesaikan" in low
    if tokens == ["!noteams"]:
        return "no team data" in low or "tiada data pasukan" in low
    for t in tokens:
        if t == "!action":
            if out.get("proposed_action") is None:
                return False
            continue
        alts = t if isinstance(t, tuple) else (t,)
        if not any(_has(low, a) for a in alts):
            return False
    return True


def _has(low: str, token: str) -> bool:
    if token.startswith("~"):
        want = int(token[1:])
        return any(abs(int(x) - want) <= 1 for x in re.findall(r"(?<![\d.])\d+(?![\d.])", low))
    if re.fullmatch(r"-?\d+(\.\d+)?", token):
        return re.search(rf"(?<![\d.]){re.escape(token)}(?![\d])", low) is not None
    return token.lower() in low


async def score(pool, qs: list[dict], show_failures: bool = False) -> dict:
    from aiff.ai.chat import chat
    from aiff.assistant.state import ConversationStore
    from aiff.settings import Settings

    settings, store = Settings(openai_api_key=""), ConversationStore()
    results = []
    async with pool.acquire() as conn:
        for q in qs:
            cid = uuid.uuid4().hex
            for t in q["turns"]:
                out = await chat(pool, settings, t, {"conversation_id": cid}, store=store, user="bench", role="dispatcher")
            tokens = await expected(conn, q["kind"], q["params"])
            ok = check(out["response"], out, tokens)
            results.append({**q, "ok": ok, "expected": tokens, "reply": out["response"], "got_intent": out.get("intent")})
            if show_failures and not ok:
                print(f"FAIL [{q['intent']}->{out.get('intent')}] {' / '.join(q['turns'])!r}\n     expected {tokens}\n     reply    {out['response'][:300]}", file=sys.stderr)
    by_intent, by_lang = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for r in results:
        for table, key in ((by_intent, r["intent"]), (by_lang, r["lang"]), (by_lang, "all")):
            table[key][0] += r["ok"]
            table[key][1] += 1
    return {"results": results, "by_intent": dict(by_intent), "by_lang": dict(by_lang), "accuracy": by_lang["all"][0] / max(1, by_lang["all"][1])}


async def main() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_assistant", os.path.join(os.path.dirname(__file__), "assistant.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    demo_schema = mod.demo_schema

    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--tickets", type=int, default=3000)
    ap.add_argument("--teams", type=int, default=60)
    ap.add_argument("--set", default="all", choices=sorted(SETS), help="a: the first 163 questions; b: 50 written after a was used for fixes; c: 50 written after b was; d, e: 60 each written blind after c; f: 30 written after d and e were fixed")
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args()
    dsn = os.environ.get("DATABASE_URL", "postgresql://aiff:aiffpass@127.0.0.1:55432/aiff_test")
    name = await demo_schema(dsn, args.seed, args.tickets, args.teams)
    pool = await asyncpg.create_pool(dsn, server_settings={"search_path": name}, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            qs = questions(await fills(conn), args.set)
        print(f"{len(qs)} held-out questions, {sum(q['lang'] == 'ms' for q in qs)} Malay or mixed, {sum(len(q['turns']) > 1 for q in qs)} follow-ups")
        t0 = time.perf_counter()
        s = await score(pool, qs, args.show_failures)
        dt = time.perf_counter() - t0
    finally:
        await pool.close()
        conn = await asyncpg.connect(dsn)
        await conn.execute(f"DROP SCHEMA {name} CASCADE")
        await conn.close()
    print("\n| intent | right / asked |\n|---|---|")
    for k, (ok, n) in sorted(s["by_intent"].items()):
        print(f"| {k} | {ok} / {n} |")
    print("\n| language | right / asked | accuracy |\n|---|---|---|")
    for k, (ok, n) in sorted(s["by_lang"].items()):
        print(f"| {k} | {ok} / {n} | {100 * ok / n:.1f}% |")
    print(f"\nheld-out accuracy {100 * s['accuracy']:.1f}%; {dt / len(s['results']) * 1000:.0f} ms per question")


if __name__ == "__main__":
    asyncio.run(main())
