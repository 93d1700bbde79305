"""The database's own guard on feedback: a row only for a completed order, by its buyer, about
its seller. A trigger, because a CHECK constraint cannot look at another table.

Installed by payments migration 0005 (which keeps its own copy of these statements, as they
were then) and again after every `migrate` (the post_migrate hook in ratings.apps), so a test
database made without migrations has it too. Idempotent. SQLite and PostgreSQL; the error is an
IntegrityError on both (SQLite RAISE(ABORT), PostgreSQL check_violation).

The trigger, its function and the table keep the names they had when feedback lived in payments:
renaming them would leave the old trigger behind in upgraded databases.
"""

from django.db import connections

TRIGGER = "payments_feedback_completed_order_only"
ERROR = "feedback_requires_completed_order_by_its_buyer"

_CONDITION = (
    "SELECT 1 FROM payments_order o WHERE o.id = NEW.order_id AND o.buyer_id = NEW.buyer_id "
    "AND o.seller_id = NEW.seller_id AND o.status = 'completed'"
)

SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS {TRIGGER}_insert BEFORE INSERT ON payments_feedback
    FOR EACH ROW WHEN NOT EXISTS ({_CONDITION})
    BEGIN SELECT RAISE(ABORT, '{ERROR}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TRIGGER}_update BEFORE UPDATE OF order_id, buyer_id, seller_id
    ON payments_feedback FOR EACH ROW WHEN NOT EXISTS ({_CONDITION})
    BEGIN SELECT RAISE(ABORT, '{ERROR}'); END""",
]

POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$
    BEGIN
      IF NOT EXISTS ({_CONDITION}) THEN
        RAISE EXCEPTION '{ERROR}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS {TRIGGER} ON payments_feedback",
    f"""CREATE TRIGGER {TRIGGER} BEFORE INSERT OR UPDATE OF order_id, buyer_id, seller_id
    ON payments_feedback FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()""",
]

DROP = {
    "sqlite": [f"DROP TRIGGER IF EXISTS {TRIGGER}_insert", f"DROP TRIGGER IF EXISTS {TRIGGER}_update"],
    "postgresql": [
        f"DROP TRIGGER IF EXISTS {TRIGGER} ON payments_feedback",
        f"DROP FUNCTION IF EXISTS {TRIGGER}()",
    ],
}


def feedback_trigger_install(connection) -> None:
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(connection.vendor)
    if not statements:
        return
    if "payments_feedback" not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def feedback_trigger_drop(connection) -> None:
    with connection.cursor() as cursor:
        for statement in DROP.get(connection.vendor, []):
            cursor.execute(statement)


def install_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate receiver (ratings.apps)."""
    feedback_trigger_install(connections[using])
