"""A fleet on the real PostgreSQL server and the sandbox process: a throwaway database per
test (procrastinate's tables live in it), plans of several accounts, and the sandbox seeded
with those accounts, and the judge of a finished fleet. Shared by tests/e2e/test_fleet_cli.py
and bench/ (both have tests/e2e, where `support` lives, on the path)."""

from __future__ import annotations

from pathlib import Path

from pgstate import fleet_database as fleet_database  # the tests and bench/ import it here
from planfiles import IMPORT_DEFAULTS
from support import ChaosPlan, SandboxProcess, Verdict, check_cutover, read_report

SITE, SIP_PEER = "743", "303716"


def account_ids(count: int) -> list[str]:
    """`count` account ids the sandbox does not have by default."""
    return [f"99{i + 101:05d}" for i in range(count)]


def sandbox_accounts(accounts: list[str]) -> dict[str, object]:
    """The sandbox seed adding these accounts, each with the default site and SIP peer."""
    site = {"id": SITE, "sip_peers": [{"id": SIP_PEER, "sms_enabled": True, "default": True}]}
    return {"accounts": [{"id": a, "sites": [site]} for a in accounts]}


def numbers_of(index: int, count: int) -> list[str]:
    """Plan `index`'s numbers: a block of its own (no two plans share a number)."""
    return [f"+1919{index + 200:03d}{i:04d}" for i in range(count)]


def write_fleet_plan(folder: Path, index: int, account: str, count: int, rate_per_s: float) -> Path:
    """A plan importing `count` numbers into `account` in orders of 5."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"n{index}.txt").write_text("\n".join(numbers_of(index, count)) + "\n")
    plan = folder / f"fleet-{index}.toml"
    plan.write_text(
        f'name = "fleet-{index}"\naccount_id = "{account}"\nbatch_size = 5\n'
        f"[rate]\nrequests_per_s = {rate_per_s}\nmax_orders_in_flight = 3\n"
        "poll_interval_s = 0.1\n"
        f"{IMPORT_DEFAULTS}"
        f'[[steps]]\nkind = "import"\nname = "imp"\nsite_id = "{SITE}"\n'
        f'sip_peer_id = "{SIP_PEER}"\nfiles = ["n{index}.txt"]\n'
    )
    return plan


def judge_fleet(
    sandbox: SandboxProcess, database: str, plans: list[Path], accounts: list[str], count: int
) -> dict[str, Verdict]:
    """Each plan (`fleet-i`, importing `numbers_of(i, count)` into `accounts[i]`) judged as
    bench/chaos.py judges a run: its report, read from its schema, against the ledger's orders
    of its account and the inventory (check_cutover). The key "fleet" holds what no one plan
    sees: an order to an account outside the fleet, a number nobody planned, a number imported
    into another plan's account."""
    ledger, inventory = sandbox.ledger(), sandbox.inventory()
    verdicts: dict[str, Verdict] = {}
    for i, (account, path) in enumerate(zip(accounts, plans, strict=True)):
        plan = ChaosPlan(path=path, steps={"imp": numbers_of(i, count)}, invalid={},
                         duplicates={}, chained={}, kinds={"imp": "import"}, sms={}, fail={},
                         campaigns={}, seed={})  # fmt: skip
        rows = read_report(f"{database}#fleet-{i}")
        own = {"orders": [o for o in ledger["orders"] if o["account_id"] == account]}
        verdicts[f"fleet-{i}"] = check_cutover(plan, rows, own, inventory)
    fleet = verdicts["fleet"] = Verdict(ledger_orders=len(ledger["orders"]))
    planned = {n: a for i, a in enumerate(accounts) for n in numbers_of(i, count)}
    fleet.unexpected += sorted({o["account_id"] for o in ledger["orders"]} - set(accounts))
    fleet.unexpected += sorted({n for o in ledger["orders"] for n in o["numbers"]} - set(planned))
    fleet.mismatched += [
        f"{n} in account {inventory[n]['account_id']}, planned {a}"
        for n, a in planned.items()
        if n in inventory and inventory[n]["account_id"] != a
    ]
    return verdicts
