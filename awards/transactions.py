"""Read-only requests without a transaction on PostgreSQL, until they write.

A request's session opens a transaction, and psycopg sends BEGIN and, at the end, ROLLBACK as
round trips of their own: on a page of four statements that was a third of its time in the
database. A GET or HEAD request mostly only reads, so its connection starts in autocommit,
where each SELECT is its own statement, exactly as it is under PostgreSQL's READ COMMITTED
inside a transaction. The first statement that writes, or that locks (``SELECT ... FOR
UPDATE``) or takes a sequence value or an advisory lock, switches the connection back before
it is sent: from there on the request is one transaction again, committed or rolled back as
the view says, so whatever a GET writes is written whole or not at all. Every other request,
command and worker runs in a transaction from its first statement, as before.

SQLite is left alone: its transactions cost no round trip.
"""

from __future__ import annotations

import re
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Engine, event

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_SELECT = re.compile(r"\s*SELECT\b", re.IGNORECASE)
# A SELECT that a transaction must hold: it locks rows, takes a sequence value or an advisory
# lock (released at once outside a transaction).
_HOLDS_SOMETHING = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b"
    r"|\b(?:nextval|setval|pg_advisory_\w+)\s*\(",
    re.IGNORECASE,
)


def is_select(statement: str) -> bool:
    """A SELECT statement; anything else may write."""
    return _SELECT.match(statement) is not None


def needs_transaction(statement: str) -> bool:
    return not is_select(statement) or _HOLDS_SOMETHING.search(statement) is not None


def install(engine: Engine) -> None:
    """Read-only requests in autocommit on this engine, when it is PostgreSQL's."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        # Set at every checkout: the pool hands a connection to requests and commands alike.
        dbapi_connection.autocommit = has_request_context() and request.method in SAFE_METHODS

    @event.listens_for(engine, "before_cursor_execute")
    def _before(
        connection: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: Any
    ) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        # A streamed result (yield_per: the exports) reads through a server-side cursor,
        # which PostgreSQL declares only inside a transaction.
        streamed = context is not None and context.execution_options.get("stream_results")
        if dbapi_connection.autocommit and (streamed or needs_transaction(statement)):
            # Idle in autocommit, so the switch is allowed; psycopg sends BEGIN before this
            # statement, and the session's commit or rollback ends the transaction.
            dbapi_connection.autocommit = False
