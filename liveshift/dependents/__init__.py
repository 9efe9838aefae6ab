"""The objects outside a table that read its columns: found through pg_depend, kept in the catalog snapshot.

A view, a materialized view, a function with an SQL-standard body (`BEGIN ATOMIC … END`), a policy, a
trigger or rule, a statistics object, a publication's column list or row filter, a generated column, a
foreign key of another table: PostgreSQL records each as depending on the columns (or the table) it reads,
and refuses to drop a column one of them reads (statistics objects it drops silently). Contract drops and
replaces columns, so the plan must know them before expand: what to carry through and what to refuse
(carry.py). They are read with every catalog snapshot (catalog.read_catalog, through dependents_read.py),
so the plan every phase recomputes from the stored snapshot sees the same dependents, with the definitions
they had before expand. This module holds the value types only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal[
    "view",
    "materialized_view",
    "function",
    "policy",
    "trigger",
    "rule",
    "statistics",
    "publication",
    "generated_column",
    "column_default",
    "foreign_key",
    "constraint",
    "other",
]

# the search_path definitions are printed and run again with (see the module doc)
QUALIFIED_PATH = "pg_catalog, pg_temp"


class Reads(BaseModel):
    """A relation (a table, a view) or one of its columns that a dependent reads."""

    schema_name: str
    relation: str
    column: str | None = None  # None: the relation as a whole
    row_type: bool = False  # through the relation's row type (a function's argument or result, a column's type)


class Grant(BaseModel):
    """One privilege on a dependent (aclexplode), on one of a view's columns where `column` is set."""

    grantee: str  # a role name; "PUBLIC" for everyone
    grantor: str
    privilege: str
    grantable: bool = False
    column: str | None = None


class Dependent(BaseModel):
    """One object that reads a column or table of the schema, with what it takes to build it again."""

    kind: Kind
    key: str  # as PostgreSQL describes it (pg_describe_object): "view public.scores", "function public.f(integer)"
    identity: str  # pg_identify_object's: the object's name as DROP takes it ("public.f(integer)")
    schema_name: str
    name: str
    on: str | None = None  # the relation a policy, trigger, rule, statistics object or constraint belongs to
    reads: list[Reads] = Field(default_factory=list)
    uses: list[str] = Field(default_factory=list)  # keys of the functions among the dependents it calls
    owner: str = ""
    definition: str = ""  # pg_get_viewdef / functiondef / triggerdef / ruledef / statisticsobjdef
    options: list[str] = Field(default_factory=list)  # a view's reloptions (security_barrier, check_option, …)
    grants: list[Grant] = Field(default_factory=list)
    comment: str | None = None
    column_comments: dict[str, str] = Field(default_factory=dict)  # a view's
    column_defaults: dict[str, str] = Field(default_factory=dict)  # a view's
    enabled: str = "O"  # a trigger's tgenabled, a rule's ev_enabled
    stattarget: int | None = None  # a statistics object's, when set
    # a function: the header a placeholder body keeps (pg_get_function_arguments / _result), and its kind
    arguments: str = ""
    result: str | None = None
    procedure: bool = False
    # a policy: its expressions (USING, WITH CHECK)
    using: str | None = None
    check: str | None = None

    @property
    def relation(self) -> tuple[str, str] | None:
        """(schema, name) of the relation this object is, for a view or materialized view."""
        return (self.schema_name, self.name) if self.kind in ("view", "materialized_view") else None

    def reads_relation(self, schema: str, name: str) -> bool:
        return any(r.schema_name == schema and r.relation == name for r in self.reads)
