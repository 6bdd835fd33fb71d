"""``make bench`` (Clients page, issue 22): the first page of ``GET /clients`` at 10 and 10,000 files.

    python -m bench.clients [--sizes 10,10000] [--calls 20] [--write]

One worker's caseload is seeded in moto (the items ``ClientRepository.add`` writes, loaded with
BatchWriteItem: half the files without consent, the others waiting for an answer), then the first page (5 files, full at both sizes) is asked for, as the worker and as a supervisor: the whole list, a
search by part of a name, by a number typed the national way and by its last digits, and two
filters. For each: the DynamoDB calls of one request (``DynamoTap``) and the median in-process
handler time (Chalice's test client under moto), each as a ratio to the 10-file run of the same
process. The calls must be the same at both sizes: every page is a keyed read of its partitions.

moto answers a Query by reading every item of the table in Python (DynamoDB reads only the
partition asked for), so at 10,000 files its time would be the emulator's: ``keyed_partitions``
gives moto, for this process only, what DynamoDB has, the items of a partition found by its key.

``--write`` replaces the table between the clients-bench markers in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from bench.run import RESULTS, Row, ms, ops_text, ratio, table, write_results

START, END = "<!-- clients-bench:start -->", "<!-- clients-bench:end -->"
FIRST = ("Fatima", "Joseph", "Nadia", "Amina", "Yusuf", "Olena", "Tomás", "Marie", "Samir", "Layla",
         "Daria", "Omar", "Hoda", "Lucas", "Ilka", "Rania", "Milan", "Zoé", "Ahmad", "Grace")
LAST = ("Al-Hassan", "Kabila", "Rahimi", "Diallo", "Demir", "Shevchenko", "Rivera", "Uwase", "Nasser", "Haddad",
        "Koval", "Benali", "Karimi", "Moreau", "Novak", "Odeh", "Horvat", "Martin", "Sultani", "Mbeki")
PROBE = 7  # the file whose number is looked up (it exists at every size)
# A page every list fills at 10 files too (half the files have no consent, the other half wait), so
# both sizes show the same number of files and only the caseload's size differs.
PAGE = 5
SEEDED_AT = datetime(2026, 11, 2, 15, tzinfo=UTC)


def _queries() -> list[tuple[str, str, str]]:
    from bench import world as w

    national = w.phone(PROBE)[2:]
    national = f"{national[:3]} {national[3:6]} {national[6:]}"
    return [
        ("worker", f"limit={PAGE}", "the whole caseload"),
        ("worker", f"limit={PAGE}&q=hassan", "q: part of a name"),
        ("worker", f"limit={PAGE}&q={quote(national)}", f"q: a number typed the national way ({national})"),
        ("worker", f"limit={PAGE}&q={w.phone(PROBE)[-4:]}", "q: a number's last four digits"),
        ("worker", f"limit={PAGE}&filter=no_consent", "filter: no consent yet"),
        ("worker", f"limit={PAGE}&filter=waiting", "filter: waiting for an answer"),
        ("supervisor", f"limit={PAGE}", "the agency, as a supervisor"),
    ]


def keyed_partitions() -> Callable[[], None]:
    """Patch moto's Query to read only the partition asked for; returns the function that undoes it.

    A table's partition is its own dict in moto already; an index's partitions are grouped once and
    kept until the next write to any table. What a Query answers is unchanged (the same code runs,
    over the partition's items instead of the whole table's).
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    generation = [0]
    groups: dict[tuple[int, str], tuple[int, dict[tuple[str, str], list[Any]]]] = {}
    writes = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
    originals = {name: getattr(DynamoDBBackend, name) for name in writes}
    query = Table.query

    def counted(write: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            generation[0] += 1
            return write(*args, **kwargs)
        return run

    def partition(table: Any, hash_key: Any, index_name: str | None, conditions: Any) -> list[Any] | None:
        if not index_name:
            found = table.items.get(hash_key, {})
            return list(found.values()) if table.range_key_attr else [found] if found else []
        if not conditions or len(conditions) != 1:
            return None
        attr, value = conditions[0]
        cached = groups.get((id(table), attr))
        if cached is None or cached[0] != generation[0]:
            by_value: dict[tuple[str, str], list[Any]] = defaultdict(list)
            for item in Table.all_items(table):
                if (key := item.attrs.get(attr)) is not None:
                    by_value[(key.type, str(key.value))].append(item)
            cached = groups[(id(table), attr)] = (generation[0], by_value)
        return cached[1].get((value.type, str(value.value)), [])

    def keyed_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
        items = partition(self, args[0] if args else kwargs.get("hash_key"), index_name, kwargs.get("hash_key_conditions"))
        if items is None:
            return query(self, *args, **kwargs)
        self.all_items = lambda: items  # this call only: the instance attribute shadows the method
        try:
            return query(self, *args, **kwargs)
        finally:
            del self.all_items

    for name, write in originals.items():
        setattr(DynamoDBBackend, name, counted(write))
    Table.query = keyed_query  # type: ignore[method-assign]

    def undo() -> None:
        for name, write in originals.items():
            setattr(DynamoDBBackend, name, write)
        Table.query = query  # type: ignore[method-assign]

    return undo


class _Collect:
    """A write queue that keeps the items a repository would write (``adapters.writes.WriteQueue``)."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def save(self, item: Any, condition: Any = None, *, on_conflict: Any = None) -> None:
        self.items.append(item)

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a new file is only saved")

    def delete(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a new file is only saved")


def seed(start: int, count: int) -> None:
    """Files ``start`` .. ``start + count - 1`` of the worker amal, as ``ClientRepository.add`` writes them."""
    from dataclasses import replace

    from bench import world as w
    from chalicelib.adapters import models as m
    from chalicelib.adapters.clients_repository import ClientRepository, state_keys
    from chalicelib.adapters.keys import agency_status, staff_status
    from chalicelib.domain.model import Channel, Client, ClientStatus, Consent, ConsentState

    collect = _Collect()
    inquiries = []
    for i in range(start, start + count):
        at = SEEDED_AT + timedelta(minutes=i)
        consented = i % 2 == 1
        consent = Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.SMS}), recorded_at=at) if consented \
            else Consent()
        client = Client(f"cl_bench{i:06d}", w.AGENCY, "amal", w.phone(i), Channel.SMS, "en",
                        f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}", ClientStatus.ACTIVE, at,
                        consent=consent, last_activity_at=at)
        first = len(collect.items)
        ClientRepository(collect).add(client, created_by="amal")
        if consented:  # waiting for an answer: the file and its open inquiry
            item, inquiry_id, due = collect.items[first], f"inq_bench{i:06d}", at + timedelta(hours=24)
            item.open_inquiry_id, item.open_inquiry_due_at, item.open_inquiry_opened_at = inquiry_id, due, at
            item.state_staff, item.state_agency = state_keys(replace(client, open_inquiry_id=inquiry_id))
            inquiries.append(m.InquiryModel(
                inquiry_id=inquiry_id, agency_id=w.AGENCY, client_id=client.client_id, staff_id="amal", status="open",
                staff_status=staff_status(w.AGENCY, "amal", "open"), agency_status=agency_status(w.AGENCY, "open"),
                opened_at=at, due_at=due))
    for model in (m.ClientModel, m.ContactModel, m.SearchModel, m.InquiryModel):
        with model.batch_write() as batch:
            for item in (*collect.items, *inquiries):
                if isinstance(item, model):
                    batch.save(item)


def measure(world: Any, calls: int) -> dict[str, tuple[Counter[str], float, float]]:
    """Per list: the calls of one request, the median handler time, and the median of what is left
    of it once the time inside the DynamoDB calls (the emulator's) is taken out: CMDM's own work."""
    from bench import world as w
    from chalicelib import bootstrap
    from tests.fault_helpers import DynamoTap

    who = {"worker": world.worker, "supervisor": w.bearer("sup-maria", "supervisor")}
    bootstrap.container().absences.directory(w.AGENCY)  # warm, as a running container is
    found: dict[str, tuple[Counter[str], float, float]] = {}
    for role, query, label in _queries():
        path = f"/clients?{query}" if query else "/clients"
        page = world.call("GET", path, who[role])  # warm: the policy, the token's staff record
        assert page["clients"], (path, "found nothing")
        bootstrap.container().absences.directory(w.AGENCY)  # still warm (cached for a minute)
        with DynamoTap() as tap:
            world.call("GET", path, who[role])
        times, own = [], []
        for _ in range(calls):
            with DynamoTap() as timed:
                t0 = time.perf_counter()
                world.call("GET", path, who[role])
                elapsed = time.perf_counter() - t0
            times.append(elapsed)
            own.append(elapsed - sum(c.seconds for c in timed.calls))
        found[label] = (tap.by_operation(), statistics.median(times), statistics.median(own))
    return found


def bench(sizes: list[int], calls: int) -> list[Row]:
    from bench import world as w

    world = w.start(0)
    keyed_partitions()
    results: dict[int, dict[str, tuple[Counter[str], float, float]]] = {}
    try:
        seeded = 0
        for size in sizes:
            seed(seeded, size - seeded)
            seeded = size
            results[size] = measure(world, calls)
    finally:
        world.close()
    small, rows = sizes[0], []
    for size in sizes:
        for label, (ops, median, own) in results[size].items():
            base_ops, base_time, base_own = results[small][label]
            trips, base_trips = sum(ops.values()), sum(base_ops.values())
            rows.append(Row("clients", f"GET /clients, {label}, {size:,} files: DynamoDB calls",
                            f"{trips} ({ops_text(ops, 1)})", f"{base_trips} ({small} files)", ratio(trips, base_trips)))
            rows.append(Row("clients", f"GET /clients, {label}, {size:,} files: median handler time of {calls}",
                            ms(median), f"{ms(base_time)} ({small} files)", ratio(median, base_time)))
            rows.append(Row("clients", f"GET /clients, {label}, {size:,} files: median time outside DynamoDB calls",
                            ms(own), f"{ms(base_own)} ({small} files)", ratio(own, base_own)))
    if any(sum(results[size][label][0].values()) != sum(results[small][label][0].values())
           for size in sizes for label in results[size]):
        raise SystemExit("the DynamoDB calls of a page grew with the caseload:\n" + table(rows))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.clients")
    parser.add_argument("--sizes", default="10,10000")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    rows = bench([int(s) for s in args.sizes.split(",")], args.calls)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    text = (f"Measured {stamp} (load average {load:.1f} on {os.cpu_count()} CPUs); moto in-process, its Query "
            "reading only the partition asked for, as DynamoDB does (`keyed_partitions`), though it still sorts "
            "the whole partition on every Query; one worker's caseload, the first page of each list (5 files, so that it is full at 10 files too). "
            "The calls are equal at every size. \"Outside DynamoDB calls\" is the handler time less the time spent "
            "inside the emulator: CMDM's own work.\n\n" + table(rows))
    print(text)
    if args.write:
        if START not in RESULTS.read_text(encoding="utf-8"):
            with RESULTS.open("a", encoding="utf-8") as fh:
                fh.write(f"\n## The Clients page (python -m bench.clients --write)\n\n{START}\n{END}\n")
        write_results(text, START, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
