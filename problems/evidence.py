"""A problem report as dispute evidence (disputes.evidence_sources, registered in
ProblemsConfig.ready): one PDF of the report, the order's messages and the buyer's photos, which
staff attach on the dispute's page as "Messages with the buyer".

Drawn with Pillow (pages of text, then one page per photo, scaled down), so nothing new is
installed; the dispute's own checks then apply (PDF, at most 5 MB, 4.5 MB for all files).
"""

import io
import textwrap

from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from PIL import Image, ImageDraw, ImageFont

from core.storage import evidence_storage, storage_errors
from disputes.evidence_sources import EvidenceSource
from disputes.models import EvidenceFileKind
from marketplace.models import PhotoState
from messaging.selectors import conversation_messages
from messaging.services import STAFF_NAME
from problems.models import ProblemReport

PAGE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 90
FONT_SIZE = 22
LINE_HEIGHT = 32
WRAP = 88
PHOTO_SIDE = 1100


def _report_for(dispute) -> ProblemReport | None:
    return ProblemReport.objects.filter(order_id=dispute.order_id).select_related("buyer", "seller").first()


def _photos(report: ProblemReport):
    return [photo for photo in report.photos.all() if photo.state == PhotoState.READY and photo.image]


def evidence_offer(dispute) -> str:
    report = _report_for(dispute)
    if report is None:
        return ""
    messages = report.conversation.messages.count() if report.conversation_id else 0
    photos = len(_photos(report))
    return (
        f"problem report #{report.pk} ({report.get_kind_display().lower()}): its description, "
        f"{messages} message(s) and {photos} photo(s), as one PDF"
    )


def evidence_link(dispute):
    report = _report_for(dispute)
    if report is None:
        return None
    return f"Problem report #{report.pk}", reverse("admin:problems_problemreport_change", args=[report.pk])


def _when(value) -> str:
    return date_format(timezone.localtime(value), "j M Y, H:i")


def report_lines(report: ProblemReport) -> list[str]:
    order = report.order
    lines = [
        f"Problem report #{report.pk} on order #{order.pk}: {report.get_kind_display()}",
        f"Stub: {order.listing.stub.event_name}",
        f"Reported by the buyer ({report.buyer.display_name}) on {_when(report.created_at)}",
        "",
        "The buyer's description:",
        *report.description.splitlines(),
        "",
        "Messages between the buyer and the seller on this order:",
    ]
    if report.conversation_id:
        for message in conversation_messages(conversation=report.conversation):
            who = (
                STAFF_NAME
                if message.as_staff
                else ("Buyer" if message.sender_id == report.buyer_id else "Seller")
            )
            lines += ["", f"{who}, {_when(message.created_at)}:", *message.body.splitlines()]
    return lines


def _text_pages(lines: list[str]) -> list[Image.Image]:
    font = ImageFont.load_default(size=FONT_SIZE)
    wrapped = [part for line in lines for part in (textwrap.wrap(line, WRAP) or [""])]
    per_page = (PAGE[1] - 2 * MARGIN) // LINE_HEIGHT
    pages = []
    for start in range(0, max(len(wrapped), 1), per_page):
        page = Image.new("RGB", PAGE, "white")
        draw = ImageDraw.Draw(page)
        for row, line in enumerate(wrapped[start : start + per_page]):
            draw.text((MARGIN, MARGIN + row * LINE_HEIGHT), line, fill="black", font=font)
        pages.append(page)
    return pages


def _photo_pages(report: ProblemReport) -> list[Image.Image]:
    pages = []
    for number, photo in enumerate(_photos(report), start=1):
        with storage_errors("reading a problem photo"), evidence_storage().open(photo.image.name) as kept:
            image = Image.open(kept)
            image.load()
        image = image.convert("RGB")
        image.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
        page = Image.new("RGB", PAGE, "white")
        ImageDraw.Draw(page).text(
            (MARGIN, MARGIN),
            f"The buyer's photo {number}",
            fill="black",
            font=ImageFont.load_default(size=FONT_SIZE),
        )
        page.paste(image, (MARGIN, MARGIN + 2 * LINE_HEIGHT))
        pages.append(page)
    return pages


def evidence_build(dispute) -> tuple[str, bytes]:
    report = _report_for(dispute)
    pages = _text_pages(report_lines(report)) + _photo_pages(report)
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=150, quality=70)
    return f"problem-report-{report.pk}.pdf", out.getvalue()


PROBLEM_REPORT_EVIDENCE = EvidenceSource(
    key="problem_report",
    kind=EvidenceFileKind.CUSTOMER_COMMUNICATION,
    offer=evidence_offer,
    build=evidence_build,
    link=evidence_link,
)
