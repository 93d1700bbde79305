from django.apps import AppConfig


class ProblemsConfig(AppConfig):
    """Buyers' problem reports and buyer protection: "not received" and "not as described", the
    seller's answer, Support's decision (docs/architecture.md, "Problem reports")."""

    name = "problems"

    def ready(self):
        # Imported here, not at the top: they load models, which exist only once the app
        # registry is ready (this method); the tasks module registers the tasks' names.
        from disputes.evidence_sources import evidence_source_register
        from payments.order_problems import OrderProblems, order_problems_answer
        from payments.order_words import order_event_words_register
        from payments.selectors.staff import staff_todo_section_register
        from payments.signals import order_status_changed
        from problems import selectors, tasks  # noqa: F401
        from problems.evidence import PROBLEM_REPORT_EVIDENCE
        from problems.order_words import problem_event_words
        from problems.services import problem_follow_order_status
        from problems.staff_todo import staff_todo_problems

        # An open report holds the order: no feedback request, nothing completes it by itself.
        order_problems_answer(OrderProblems(holds=selectors.order_held, held=selectors.orders_held))
        # The order's timeline tells each step in the buyer's or the seller's words.
        order_event_words_register("problem.", problem_event_words)
        # A card dispute on the same order is noted on the report; its page offers the report.
        order_status_changed.connect(problem_follow_order_status, dispatch_uid="problems_follow_order")
        evidence_source_register(PROBLEM_REPORT_EVIDENCE)
        # Support's queue on the admin index's to-do list.
        staff_todo_section_register(permission="problems.view_problemreport", build=staff_todo_problems)
