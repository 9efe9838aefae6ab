"""pgroll's migration files as pydantic models: every operation and field pgroll's docs describe (docs/operations/
in xataio/pgroll), so a field pgroll does not have is refused by name rather than ignored."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Check(_Model):
    name: str
    constraint: str
    no_inherit: bool = False


class ColumnReferences(_Model):
    name: str | None = None
    table: str
    column: str
    on_delete: str | None = None
    on_update: str | None = None
    match_type: str | None = None


class Identity(_Model):
    user_specified_values: str | None = None  # ALWAYS (pgroll's default) or BY DEFAULT
    sequence_options: str | None = None


class Generated(_Model):
    expression: str | None = None
    identity: Identity | None = None


class Column(_Model):
    name: str
    type: str
    comment: str | None = None
    nullable: bool = False  # pgroll's columns are NOT NULL unless said otherwise
    unique: bool = False
    pk: bool = False
    default: str | None = None
    check: Check | None = None
    generated: Generated | None = None
    references: ColumnReferences | None = None


class References(_Model):
    name: str | None = None
    table: str
    columns: list[str]
    on_delete: str | None = None
    on_delete_set_columns: list[str] | None = None
    on_update: str | None = None
    match_type: str | None = None


class IndexParameters(_Model):
    tablespace: str | None = None
    storage_parameters: str | None = None
    include_columns: list[str] | None = None


class Exclude(_Model):
    index_method: str | None = None
    elements: str | None = None
    predicate: str | None = None


class TableConstraint(_Model):
    name: str
    type: str = Field(pattern="^(unique|check|primary_key|foreign_key|exclude)$")
    columns: list[str] | None = None
    check: str | None = None
    nulls_not_distinct: bool = False
    deferrable: bool = False
    initially_deferred: bool = False
    no_inherit: bool = False
    references: References | None = None
    index_parameters: IndexParameters | None = None
    exclude: Exclude | None = None


class CreateTable(_Model):
    name: str
    columns: list[Column] = Field(min_length=1)
    constraints: list[TableConstraint] | None = None
    comment: str | None = None


class AddColumn(_Model):
    table: str
    column: Column
    up: str | None = None


class AlterColumn(_Model):
    table: str
    column: str
    name: str | None = None
    type: str | None = None
    nullable: bool | None = None
    default: str | None = None
    comment: str | None = None
    unique: UniqueName | None = None
    check: Check | None = None
    references: ColumnReferences | None = None
    up: str | None = None
    down: str | None = None


class UniqueName(_Model):
    name: str | None = None


class RenameTable(_Model):
    from_: str = Field(alias="from")
    to: str


class RenameColumn(_Model):
    table: str
    from_: str = Field(alias="from")
    to: str


class DropColumn(_Model):
    table: str
    column: str
    down: str | None = None


class DropTable(_Model):
    name: str


class OpClass(_Model):
    name: str
    params: list[str] | None = None


class IndexColumn(_Model):
    column: str
    collate: str | None = None
    sort: str | None = Field(None, pattern="(?i)^(asc|desc)$")
    nulls: str | None = Field(None, pattern="(?i)^(first|last)$")
    opclass: OpClass | None = None


class CreateIndex(_Model):
    name: str
    table: str
    # a list of {column, ...}, or (pgroll's newer form) a map of column name -> its settings
    columns: list[IndexColumn] | dict[str, IndexColumn | None]
    predicate: str | None = None
    storage_parameters: str | None = None
    unique: bool = False
    method: str | None = Field(None, pattern="(?i)^(btree|hash|gist|spgist|gin|brin)$")

    @model_validator(mode="before")
    @classmethod
    def _named_columns(cls, data: Any) -> Any:
        # in the map form a column's settings do not repeat its name
        if isinstance(data, dict) and isinstance(data.get("columns"), dict):
            columns = {k: {"column": k, **(v or {})} for k, v in data["columns"].items()}
            return {**data, "columns": columns}
        return data

    def index_columns(self) -> list[IndexColumn]:
        if isinstance(self.columns, dict):
            return [c or IndexColumn(column=k) for k, c in self.columns.items()]
        return self.columns


class DropIndex(_Model):
    name: str


class CreateConstraint(_Model):
    table: str
    name: str
    type: str = Field(pattern="^(unique|check|primary_key|foreign_key)$")
    columns: list[str] | None = None
    check: str | None = None
    no_inherit: bool = False
    references: References | None = None
    up: dict[str, str] | None = None
    down: dict[str, str] | None = None


class DropConstraint(_Model):
    table: str
    name: str
    column: str | None = None  # older pgroll files name the column
    up: str | None = None
    down: str | None = None


class DropMulticolumnConstraint(_Model):
    table: str
    name: str
    up: dict[str, str] | None = None
    down: dict[str, str] | None = None


class RenameConstraint(_Model):
    table: str
    from_: str = Field(alias="from")
    to: str


class ReplicaIdentity(_Model):
    type: str = Field(pattern="(?i)^(default|full|nothing|index)$")
    index: str | None = None


class SetReplicaIdentity(_Model):
    table: str
    identity: ReplicaIdentity


class Sql(_Model):
    up: str
    down: str | None = None
    onComplete: bool = False


PGROLL_OPERATIONS: dict[str, type[_Model]] = {
    "create_table": CreateTable,
    "add_column": AddColumn,
    "alter_column": AlterColumn,
    "rename_table": RenameTable,
    "rename_column": RenameColumn,
    "drop_column": DropColumn,
    "drop_table": DropTable,
    "create_index": CreateIndex,
    "drop_index": DropIndex,
    "create_constraint": CreateConstraint,
    "drop_constraint": DropConstraint,
    "drop_multicolumn_constraint": DropMulticolumnConstraint,
    "rename_constraint": RenameConstraint,
    "set_replica_identity": SetReplicaIdentity,
    "sql": Sql,
}


class Operation(BaseModel):
    """One entry of `operations`: a single-key map, pgroll's operation name -> its fields."""

    model_config = ConfigDict(extra="forbid")
    create_table: CreateTable | None = None
    add_column: AddColumn | None = None
    alter_column: AlterColumn | None = None
    rename_table: RenameTable | None = None
    rename_column: RenameColumn | None = None
    drop_column: DropColumn | None = None
    drop_table: DropTable | None = None
    create_index: CreateIndex | None = None
    drop_index: DropIndex | None = None
    create_constraint: CreateConstraint | None = None
    drop_constraint: DropConstraint | None = None
    drop_multicolumn_constraint: DropMulticolumnConstraint | None = None
    rename_constraint: RenameConstraint | None = None
    set_replica_identity: SetReplicaIdentity | None = None
    sql: Sql | None = None

    @model_validator(mode="after")
    def _one(self) -> Operation:
        if len(self.model_fields_set) != 1:
            raise ValueError(f"an operation is a map with one key, one of: {', '.join(PGROLL_OPERATIONS)}")
        return self

    def only(self) -> tuple[str, Any]:
        kind = next(iter(self.model_fields_set))
        return kind, getattr(self, kind)


class PgrollMigration(_Model):
    name: str | None = None
    version_schema: str | None = None
    operations: list[Operation] = Field(min_length=1)


AlterColumn.model_rebuild()
