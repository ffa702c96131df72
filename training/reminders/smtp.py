"""Send one email and see the moment the SMTP server takes it, and the server's acceptance."""

from collections.abc import Callable

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend


def email_send_watched(
    email: EmailMessage,
    *,
    on_handover: Callable[[], None],
    on_accepted: Callable[[str], None],
) -> None:
    """Send `email` through the configured backend. With SMTP, call `on_handover()` just
    before the message data goes to the server and `on_accepted(reply)` as soon as the server
    answers 250 to it ("250 OK: queued as ..."); errors raise as usual. Other backends (console,
    in-memory) have no server: `on_accepted("")` once they return."""
    connection = get_connection()
    email.connection = connection
    if not isinstance(connection, SmtpBackend):
        email.send()
        on_accepted("")
        return
    connection.open()
    try:
        smtp = connection.connection
        send_data = smtp.data

        def data(message):
            on_handover()
            code, text = send_data(message)  # raises SMTPDataError unless 250
            on_accepted(f"{code} {text.decode(errors='replace')}"[:250])
            return code, text

        smtp.data = data
        email.send()
    finally:
        connection.close()
