"""A miniature ORM, standing in for a framework layer (Django ORM, SQLAlchemy).

``GET /orders`` spends most of its time here: building queries through chained generic
calls, then mapping every row through per-field converters into model objects and back to
dicts. The SQL itself is cheap; the cost is many small Python calls in a generic layer, so a
Rust rewrite of the view alone would save nothing and the layer cannot be lifted out whole.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar


class Field:
    """A column: converts database values to Python and back."""

    def __init__(self, column: str) -> None:
        self.column = column

    def to_python(self, value: Any) -> Any:
        return value

    def to_json(self, value: Any) -> Any:
        return value


class IntField(Field):
    def to_python(self, value: Any) -> Any:
        return None if value is None else int(value)


class FloatField(Field):
    def to_python(self, value: Any) -> Any:
        return None if value is None else float(value)

    def to_json(self, value: Any) -> Any:
        return None if value is None else round(value, 2)


class TextField(Field):
    def to_python(self, value: Any) -> Any:
        return None if value is None else str(value)


class Model:
    """Base model: subclasses declare ``table`` and ``fields``."""

    table: ClassVar[str] = ""
    fields: ClassVar[dict[str, Field]] = {}

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Model:
        values = {}
        for name, field in cls.fields.items():
            values[name] = field.to_python(row[field.column])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {name: field.to_json(getattr(self, name)) for name, field in self.fields.items()}


@dataclass(frozen=True)
class Condition:
    column: str
    op: str
    value: Any

    def sql(self) -> str:
        return f"{self.column} {self.op} ?"


class QuerySet:
    """Lazy, chainable query (each call returns a new query set, like Django's)."""

    _OPS: ClassVar[dict[str, str]] = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

    def __init__(
        self,
        model: type[Model],
        conn: sqlite3.Connection,
        where: tuple[Condition, ...] = (),
        order: tuple[str, ...] = (),
        limit: int | None = None,
    ) -> None:
        self.model = model
        self.conn = conn
        self.where = where
        self.order = order
        self.limit_n = limit

    def _clone(self, **changes: Any) -> QuerySet:
        args: dict[str, Any] = {
            "where": self.where,
            "order": self.order,
            "limit": self.limit_n,
        }
        args.update(changes)
        return QuerySet(self.model, self.conn, **args)

    def filter(self, **lookups: Any) -> QuerySet:
        conds = list(self.where)
        for key, value in lookups.items():
            name, _, op = key.partition("__")
            column = self.model.fields[name].column
            conds.append(Condition(column, self._OPS[op or "eq"], value))
        return self._clone(where=tuple(conds))

    def order_by(self, *names: str) -> QuerySet:
        cols = []
        for name in names:
            desc = name.startswith("-")
            col = self.model.fields[name.lstrip("-")].column
            cols.append(f"{col} DESC" if desc else col)
        return self._clone(order=self.order + tuple(cols))

    def limit(self, n: int) -> QuerySet:
        return self._clone(limit=n)

    def compile(self) -> tuple[str, list[Any]]:
        cols = ", ".join(f.column for f in self.model.fields.values())
        sql = f"SELECT {cols} FROM {self.model.table}"
        params: list[Any] = []
        if self.where:
            sql += " WHERE " + " AND ".join(c.sql() for c in self.where)
            params = [c.value for c in self.where]
        if self.order:
            sql += " ORDER BY " + ", ".join(self.order)
        if self.limit_n is not None:
            sql += f" LIMIT {int(self.limit_n)}"
        return sql, params

    def __iter__(self) -> Iterator[Model]:
        sql, params = self.compile()
        cursor = self.conn.execute(sql, params)
        for row in cursor:
            yield self.model.from_row(row)


class Manager:
    """``Model.objects``-style entry point bound to a connection."""

    def __init__(self, model: type[Model], conn: sqlite3.Connection) -> None:
        self.model = model
        self.conn = conn

    def all(self) -> QuerySet:
        return QuerySet(self.model, self.conn)


class Order(Model):
    table = "orders"
    fields: ClassVar[dict[str, Field]] = {
        "id": IntField("id"),
        "customer_id": IntField("customer_id"),
        "product": TextField("product"),
        "quantity": IntField("quantity"),
        "price": FloatField("price"),
        "status": TextField("status"),
        "created": IntField("created"),
    }
