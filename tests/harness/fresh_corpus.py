"""liveshift lint and squawk scored against PostgreSQL on a fresh corpus (files no other test uses):
tests/data/lint_corpus_fresh (`fresh`), tests/data/lint_corpus_fresh2 (`fresh2`, written before reading
lint's rules), tests/data/lint_corpus_fresh3 (`fresh3`, written before reading lint's code or the other corpora;
its files name `public.orders`, so it runs in the schema `public`) or tests/data/lint_corpus_fresh4 (`fresh4`, a
clinic app written the same way, also in `public`), tests/data/lint_corpus_fresh5 (`fresh5`, a logistics
app written the same way, also in `public`), tests/data/lint_corpus_fresh6 (`fresh6`, 32 files of a fintech
ledger and payments app written the same way, also in `public`) or tests/data/lint_corpus_fresh7 (`fresh7`, 63 files
of a multi-tenant helpdesk app written the same way, also in `public`).

Each file runs, statement by statement, in a schema of its own holding the corpus's `_setup.sql` (with rows):
outside `BEGIN … COMMIT` a statement is measured in a rolled-back transaction (tests/harness/pg_truth.py) and
then run for real; inside, the statements run in one transaction, so a lock taken earlier is still held. A
file is dangerous when one of its statements rewrites a table the setup made, or scans one while the
transaction holds a lock that blocks traffic. Tables the file itself creates are nobody's traffic: the setup's
relations are known by oid, so one renamed is still the application's and one made anew under a setup name is not.
`CONCURRENTLY` statements cannot run in a transaction: they take SHARE UPDATE EXCLUSIVE (PostgreSQL's
documentation), block no traffic, and are left out of the lock comparison. psql meta-commands (`\\set`) are
skipped, as psql never sends them. `START TRANSACTION` opens a block as `BEGIN` does (TypeORM writes it).
Statements are told apart by line and by their order on it (Django writes `ALTER …; SET CONSTRAINTS …;` on one
line).

Scored per file: lint's verdict on the file alone, with `_setup.sql` as its --schema, and with --dsn (a
finding other than those about breaking clients and the blanket require-lock-timeout: pg_truth.NOT_MEASURED),
squawk's (its lock rules; style and client-breaking rules are
not counted), and per statement lint's lock (mode per relation) against pg_locks.

`python -m tests.harness.fresh_corpus DSN [fresh|fresh2|fresh3|fresh4|fresh5|fresh6|fresh7]` prints the scores
docs/lint.md carries, with lock modes counted by file too (a file is right when every compared statement's
lock is).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pglast import ast

from liveshift.sqlconvert.knowledge import Knowledge
from liveshift.sqlconvert.lint import StatementReport, learn_schema, lint_file
from liveshift.sqlconvert.live_catalog import load
from liveshift.sqlconvert.statements import read_sql
from tests.harness.pg_truth import (
    _LOCKS,
    _RELATIONS,
    _SCANS,
    MODES,
    ORDER,
    blocks_traffic,
    case_schema,
    lint_dangerous,
)
from tests.harness.squawk_agreement import NOT_COMPARED, squawk_findings

DATA = Path(__file__).resolve().parents[1] / "data"
# the corpora: the first (71 files), and a second written later by someone who had not read lint's rules
CORPORA = {
    "fresh": DATA / "lint_corpus_fresh",
    "fresh2": DATA / "lint_corpus_fresh2",
    "fresh3": DATA / "lint_corpus_fresh3",  # a third, written blind: before reading lint's code or the other two
    "fresh4": DATA / "lint_corpus_fresh4",  # a fourth, written blind (a clinic app), before reading lint or the others
    "fresh5": DATA / "lint_corpus_fresh5",  # a fifth, written blind the same way (a logistics app)
    "fresh6": DATA / "lint_corpus_fresh6",  # a sixth, 32 files written blind (a fintech ledger and payments app)
    "fresh7": DATA / "lint_corpus_fresh7",  # a seventh, 63 files written blind (a multi-tenant helpdesk app)
}
# the schema a corpus runs in when its files name one (default: a random schema of its own)
SCHEMAS = {"fresh3": "public", "fresh4": "public", "fresh5": "public", "fresh6": "public", "fresh7": "public"}
# squawk's rules about breaking clients or a blanket timeout: out of the comparison, as lint's NOT_MEASURED
SQUAWK_NOT_MEASURED = {
    "require-timeout-settings",
    "renaming-column",
    "renaming-table",
    "ban-drop-column",
    "ban-drop-table",
    "ban-drop-not-null",
    "ban-drop-database",
    "ban-truncate-cascade",
    "adding-required-field",
    "ban-drop-default",
    "ban-drop-constraint",
    "require-lock-timeout",
    "require-enum-value-ordering",  # where a new enum value sorts: not a lock
    "ban-drop-view",  # drops and renames break clients, as lint's ban-drop-table and renaming-* do
    "ban-drop-schema",
    "ban-drop-function",
    "renaming-object",
}


# the transaction statements that open a block (TypeORM writes START TRANSACTION) and that close one; a SAVEPOINT
# runs inside the block as any other statement
_OPENS = {"TRANS_STMT_BEGIN", "TRANS_STMT_START"}
_CLOSES = {"TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK"}

Key = tuple[int, int]  # a statement's first line, and its order among the statements starting on that line


def keyed(lines: list[int]) -> list[Key]:
    """Each statement's key, from the first lines of a file's statements in order."""
    seen: dict[int, int] = {}
    out = []
    for line in lines:
        seen[line] = seen.get(line, -1) + 1
        out.append((line, seen[line]))
    return out


@dataclass
class StatementTruth:
    key: Key
    locks: dict[str, str] | None  # pre-existing relation -> mode it took (None: not compared)
    dangerous: bool
    oids: dict[str, int] = field(default_factory=dict)  # the setup's relations by their name after it, and ...
    locked: set[int] = field(default_factory=set)  # ... those it locked, by oid (a rename keeps the oid)


@dataclass
class FileScore:
    file: str
    truth: bool
    liveshift: bool
    squawk: bool
    with_catalog: bool  # lint with the live catalog (--dsn)
    with_schema: bool  # lint with the corpus's _setup.sql as its schema file (--schema), no database
    lock_matches: int = 0
    lock_compared: int = 0
    informed_lock_matches: int = 0  # with --dsn
    schema_lock_matches: int = 0  # with --schema
    squawk_rules: set[str] = field(default_factory=set)
    mismatched: list[str] = field(default_factory=list)  # lines whose lock lint got wrong
    informed_mismatched: list[str] = field(default_factory=list)  # the same, with --dsn


def _outside_transaction(node: object) -> bool:
    """Whether the statement cannot run in a transaction block: CONCURRENTLY (REFRESH … CONCURRENTLY can, and
    is measured), including `DETACH PARTITION … CONCURRENTLY`, and VACUUM."""
    if isinstance(node, ast.RefreshMatViewStmt):
        return False
    if isinstance(node, ast.VacuumStmt) and node.is_vacuumcmd:
        return True
    detach = isinstance(node, ast.AlterTableStmt) and any(
        isinstance(getattr(cmd, "def_", None), ast.PartitionCmd) and cmd.def_.concurrent for cmd in node.cmds or ()
    )
    return (
        detach
        or bool(getattr(node, "concurrent", False))
        or (isinstance(node, ast.ReindexStmt) and any(e.defname == "concurrently" for e in node.params or ()))
    )


Relations = dict[int, tuple[str, str, int]]


Held = dict[int, tuple[str, str]]  # a setup relation's oid -> its name now, and the strongest mode held on it


def _state(conn: psycopg.Connection, setup: set[int], known: Relations | None = None) -> tuple[Relations, dict, Held]:
    """The schema's relations, scan counts, and the locks held on the setup's relations (`setup`: their oids) by
    their current name (`known` names a relation the statement dropped by its name before). By oid, not name: a
    setup table renamed is still the application's, and one made anew under a setup name is not."""
    relations = {oid: (name, kind, node) for oid, name, kind, node in conn.execute(_RELATIONS).fetchall()}
    scans = dict(conn.execute(_SCANS).fetchall())
    names = {**relations, **(known or {})}
    held: Held = {}
    for oid, mode in conn.execute(_LOCKS).fetchall():
        if oid in names and oid in setup and names[oid][1] in "rpvmSf":
            mode = MODES[mode]
            if oid not in held or ORDER.index(mode) > ORDER.index(held[oid][1]):
                held[oid] = (names[oid][0], mode)
    return relations, scans, held


def _rewritten(before: Relations, after: Relations, setup: set[int]) -> bool:
    """Whether a table or materialized view the setup made got a new relfilenode (a rewrite)."""
    return any(
        kind in "rm" and oid in setup and after.get(oid, (0, 0, node))[2] != node
        for oid, (name, kind, node) in before.items()
    )


def _step(
    conn: psycopg.Connection, text: str, setup: set[int], held_before: Held
) -> tuple[Held, Held, bool, dict[str, int]]:
    """Run `text` in the open transaction: its own locks (relations not locked before) by oid, every lock the
    transaction holds, whether the statement is dangerous given them, and the setup's relations by their names
    after it."""
    before, scans_before, _ = _state(conn, setup)
    conn.execute(text)
    after, scans_after, held = _state(conn, setup, before)
    rewritten = _rewritten(before, after, setup)
    scanned = any(oid in setup and n > scans_before.get(oid, 0) for oid, n in scans_after.items() if oid in before)
    kinds = {oid: kind for oid, (_, kind, _) in {**before, **after}.items()}
    blocking = any(blocks_traffic(kinds.get(oid, "r"), m) for oid, (_, m) in held.items())
    own = {oid: held[oid] for oid in held if oid not in held_before}
    names = {name: oid for oid, (name, _, _) in after.items() if oid in setup}
    return own, {**held_before, **held}, rewritten or (scanned and blocking), names


def measure_file(
    conn: psycopg.Connection, path: Path, schema: str | None = None
) -> tuple[list[StatementTruth], list[StatementReport]]:
    """What PostgreSQL does for each statement, and lint's reports with the setup's catalog (as --dsn reads it)."""
    out: list[StatementTruth] = []
    with case_schema(conn, (path.parent / "_setup.sql").read_text(), schema):
        informed = lint_file(str(path), load(conn.info.dsn))
        setup = {oid for oid, _, _, _ in conn.execute(_RELATIONS).fetchall()}
        block: list[tuple[Key, str]] | None = None
        statements = read_sql(str(path))
        for stmt, key in zip(statements, keyed([s.line for s in statements]), strict=True):
            node = stmt.node
            if isinstance(node, ast.TransactionStmt) and node.kind.name in _OPENS:
                block = []
            elif isinstance(node, ast.TransactionStmt) and node.kind.name in _CLOSES:
                out += _run_block(conn, block or [], setup)
                block = None
            elif block is not None:
                block.append((key, stmt.text))
            elif _outside_transaction(node):
                out.append(_run_outside(conn, key, stmt.text, setup))
            else:
                out += _run_block(conn, [(key, stmt.text)], setup)
    return out, informed


def _run_outside(conn: psycopg.Connection, key: Key, text: str, setup: set[int]) -> StatementTruth:
    """A statement that cannot run in a transaction block: its locks cannot be read while it runs (not
    compared); dangerous when it rewrites a table (VACUUM FULL: under ACCESS EXCLUSIVE). CONCURRENTLY and plain
    VACUUM block no traffic (SHARE UPDATE EXCLUSIVE)."""
    before = _state(conn, setup)[0]
    conn.execute(text)
    after = _state(conn, setup)[0]
    rewritten = _rewritten(before, after, setup)
    return StatementTruth(key, None, rewritten)


def _run_block(conn: psycopg.Connection, block: list[tuple[Key, str]], setup: set[int]) -> list[StatementTruth]:
    out: list[StatementTruth] = []
    held: Held = {}
    with conn.transaction():
        for key, text in block:
            own, held, dangerous, names = _step(conn, text, setup, held)
            locks = {name: mode for name, mode in own.values()}
            out.append(StatementTruth(key, locks, dangerous, oids=names, locked=set(own)))
    return out


def score_file(
    conn: psycopg.Connection,
    path: Path,
    squawk: list[dict],
    schema: str | None = None,
    setup: Knowledge | None = None,
) -> FileScore:
    """One file's scores; `setup`: the corpus's _setup.sql as lint learns it (--schema), read once per corpus."""
    setup = setup or learn_schema(str(path.parent / "_setup.sql"))
    try:
        measured, informed_reports = measure_file(conn, path, schema)
        truths = {t.key: t for t in measured}
    except psycopg.Error as exc:
        raise RuntimeError(f"{path.name} does not run on the setup: {exc}") from None
    reports = _measured(lint_file(str(path)), truths)
    learned = _measured(lint_file(str(path), setup), truths)
    informed = _measured(informed_reports, truths)
    rules = {f["rule_name"] for f in squawk} - NOT_COMPARED - SQUAWK_NOT_MEASURED
    score = FileScore(
        path.name,
        truth=any(t.dangerous for t in truths.values()),
        liveshift=any(lint_dangerous(r) for _, r in reports),
        squawk=bool(rules),
        with_catalog=any(lint_dangerous(r) for _, r in informed),
        with_schema=any(lint_dangerous(r) for _, r in learned),
        squawk_rules=rules,
    )
    score.lock_compared = sum(truths[k].locks is not None for k, _ in reports)
    score.mismatched = _lock_misses(reports, truths, schema)
    score.lock_matches = score.lock_compared - len(score.mismatched)
    score.informed_mismatched = _lock_misses(informed, truths, schema)
    score.informed_lock_matches = score.lock_compared - len(score.informed_mismatched)
    score.schema_lock_matches = score.lock_compared - len(_lock_misses(learned, truths, schema))
    return score


def _measured(reports: list[StatementReport], truths: dict[Key, StatementTruth]) -> list[tuple[Key, StatementReport]]:
    """lint's reports by statement key, those PostgreSQL measured (not BEGIN/COMMIT)."""
    return [(k, r) for k, r in zip(keyed([r.line for r in reports]), reports, strict=True) if k in truths]


def _lock_misses(
    reports: list[tuple[Key, StatementReport]], truths: dict[Key, StatementTruth], schema: str | None
) -> list[str]:
    """The compared statements whose lock lint got wrong: line, lint's locks and PostgreSQL's."""
    wrong = [(k, r, _locks(r, k, truths, schema)) for k, r in reports if truths[k].locks is not None]
    return [f"{r.line}: lint {mine} postgres {truths[k].locks}" for k, r, mine in wrong if mine != truths[k].locks]


def _locks(report: StatementReport, key: Key, truths: dict[Key, StatementTruth], schema: str | None) -> dict[str, str]:
    """lint's lock per relation; inside a transaction, a relation an earlier statement locked only where this
    statement is the one PostgreSQL shows taking it."""
    mine = {_measured_name(lock.relation, schema): lock.mode for lock in report.locks if not lock.index}
    mine.pop(None, None)
    own = truths[key].locks or {}
    return {n: m for n, m in mine.items() if n in own or not _locked_earlier(truths, key, n)}


def _measured_name(relation: str, schema: str | None) -> str | None:
    """lint's name for a relation as the measure knows it: unqualified in the corpus's schema (`public.orders`
    is `orders`); None for another schema's, which the measure does not see (PostgreSQL shows none there)."""
    qualifier, _, name = relation.rpartition(".")
    return name if not qualifier or qualifier == schema else None


def _locked_earlier(truths: dict[Key, StatementTruth], key: Key, relation: str) -> bool:
    """Whether an earlier statement of the transaction locked the relation, by oid: under another name before a
    rename too."""
    oid = truths[key].oids.get(relation)
    if oid is None:
        return any(t.locks and relation in t.locks for k, t in truths.items() if k < key)
    return any(oid in t.locked for k, t in truths.items() if k < key)


def score_corpus(dsn: str, corpus: str = "fresh") -> list[FileScore]:
    files = sorted(CORPORA[corpus].glob("[0-9]*.sql"))
    by_file: dict[str, list[dict]] = {}
    for finding in squawk_findings(files):
        by_file.setdefault(Path(finding["file"]).name, []).append(finding)
    setup = learn_schema(str(CORPORA[corpus] / "_setup.sql"))  # lint copies it for each file
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return [score_file(conn, path, by_file.get(path.name, []), SCHEMAS.get(corpus), setup) for path in files]


def summary(scores: list[FileScore]) -> str:
    n = len(scores)
    ours = sum(s.liveshift == s.truth for s in scores)
    theirs = sum(s.squawk == s.truth for s in scores)
    matched, compared = sum(s.lock_matches for s in scores), sum(s.lock_compared for s in scores)
    informed_locks = sum(s.informed_lock_matches for s in scores)
    dangerous = sum(s.truth for s in scores)
    informed = sum(s.with_catalog == s.truth for s in scores)
    schema = sum(s.with_schema == s.truth for s in scores)
    schema_locks = sum(s.schema_lock_matches for s in scores)
    return (
        f"{n} files ({dangerous} dangerous on PostgreSQL): liveshift lint's verdict right on {ours}/{n} "
        f"({pct(ours, n)}; with --schema {schema}/{n}, {pct(schema, n)}; with --dsn {informed}/{n}, "
        f"{pct(informed, n)}), squawk's on {theirs}/{n} ({pct(theirs, n)}); lint's lock modes right on "
        f"{matched}/{compared} statements ({pct(matched, compared)}; with --schema {schema_locks}/{compared}, "
        f"{pct(schema_locks, compared)}; with --dsn {informed_locks}/{compared}, {pct(informed_locks, compared)})"
    )


def lock_files(scores: list[FileScore]) -> str:
    """Files whose every compared statement's lock lint got right (the issue's bar counts files, not statements)."""
    n = len(scores)
    right = {
        label: sum(getattr(s, attr) == s.lock_compared for s in scores)
        for label, attr in (
            ("", "lock_matches"),
            ("with --schema ", "schema_lock_matches"),
            ("with --dsn ", "informed_lock_matches"),
        )
    }
    counts = "; ".join(f"{label}{k}/{n}" for label, k in right.items() if label)
    return f"lint's lock modes right on every statement of {right['']}/{n} files ({counts})"


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%"


def table(scores: list[FileScore]) -> str:
    lines = ["| file | PostgreSQL | liveshift | with --schema | with --dsn | squawk |", "|---|---|---|---|---|---|"]
    for s in scores:
        verdicts_of = (s.truth, s.liveshift, s.with_schema, s.with_catalog, s.squawk)
        if len(set(verdicts_of)) > 1:
            word = {True: "dangerous", False: "safe"}
            rules = f" ({', '.join(sorted(s.squawk_rules))})" if s.squawk_rules else ""
            verdicts = " | ".join(word[v] for v in verdicts_of)
            lines.append(f"| `{s.file}` | {verdicts}{rules} |")
    return "\n".join(lines)


if __name__ == "__main__":
    results = score_corpus(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "fresh")
    print(summary(results))
    print(lock_files(results))
    print(table(results))
    for s in results:
        for m in s.mismatched:
            print(f"lock {s.file}:{m}", file=sys.stderr)
        for m in s.informed_mismatched:
            print(f"lock with --dsn {s.file}:{m}", file=sys.stderr)
