"""The certificate PDF: name, module, version, dates, verification code and a QR code."""

from io import BytesIO

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from training.models import ModuleCompletion


def certificate_verify_url(completion: ModuleCompletion) -> str:
    path = reverse("training:certificate_verify", args=[completion.verification_code])
    return settings.SITE_URL.rstrip("/") + path


def certificate_pdf(*, completion: ModuleCompletion, council_name: str) -> bytes:
    """Render one certificate as a one-page landscape A4 PDF."""
    buffer = BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"Certificate: {completion.module.title}")
    pdf.setAuthor(council_name)
    pdf.setStrokeColorRGB(0.11, 0.31, 0.46)
    pdf.setLineWidth(4)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)

    pdf.setFont("Helvetica", 16)
    pdf.drawCentredString(width / 2, height - 40 * mm, council_name)
    pdf.setFont("Helvetica-Bold", 30)
    pdf.drawCentredString(width / 2, height - 62 * mm, "Certificate of completion")
    pdf.setFont("Helvetica", 14)
    pdf.drawCentredString(width / 2, height - 80 * mm, "This certifies that")
    pdf.setFont("Helvetica-Bold", 24)
    pdf.drawCentredString(width / 2, height - 95 * mm, completion.user.full_name)
    pdf.setFont("Helvetica", 14)
    pdf.drawCentredString(width / 2, height - 110 * mm, "completed the module")
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawCentredString(width / 2, height - 123 * mm, completion.module.title)

    completed = timezone.localtime(completion.completed_at).strftime("%-d %B %Y")
    expires = (
        timezone.localtime(completion.expires_at).strftime("%-d %B %Y")
        if completion.expires_at
        else "does not expire"
    )
    pdf.setFont("Helvetica", 12)
    lines = [
        f"Version {completion.module_version}, completed {completed}, score {completion.score}%",
        f"Valid until: {expires}",
        f"Verification code: {completion.verification_code}",
    ]
    for i, line in enumerate(lines):
        pdf.drawString(30 * mm, 45 * mm - i * 7 * mm, line)
    url = certificate_verify_url(completion)
    pdf.drawString(30 * mm, 24 * mm, f"Check it at {url}")

    qr = QrCodeWidget(url)
    x1, y1, x2, y2 = qr.getBounds()
    size = 40 * mm
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, pdf, width - 30 * mm - size, 20 * mm)

    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
