"""QR codes drawn on the server as SVG (no script, no image request)."""

import qrcode
import qrcode.image.svg


def qr_svg(text: str) -> str:
    """`text` (a URL) as an inline SVG QR code: black squares on the page's white, scalable."""
    image = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    # The page labels it (the picture of the link is no text to read out).
    return image.to_string(encoding="unicode").replace(
        "<svg ", '<svg aria-hidden="true" focusable="false" ', 1
    )
