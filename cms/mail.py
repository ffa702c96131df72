"""Send an email and see the moment the SMTP server is handed it, and the server's acceptance:
what a settled send (the reminder log, the outbox) records so that a crash never sends twice."""

from collections.abc import Callable
from smtplib import SMTPDataError, SMTPRecipientsRefused, SMTPSenderRefused

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend


def email_send_watched(
    email: EmailMessage,
    *,
    on_handover: Callable[[], None],
    on_accepted: Callable[[str], None],
    connection=None,
) -> None:
    """Send `email` through `connection` (an open one from get_connection(), kept open), or else
    a new connection of the configured backend. With SMTP, call `on_handover()` just before the
    message data goes to the server and `on_accepted(reply)` as soon as the server answers 250
    to it ("250 OK: queued as ..."); errors raise as usual. Other backends (console, in-memory)
    have no server: `on_accepted("")` once they return."""
    own = connection is None
    connection = connection or get_connection()
    email.connection = connection
    if not isinstance(connection, SmtpBackend):
        email.send()
        on_accepted("")
        return
    connection.open()  # no-op when already open
    try:
        smtp = connection.connection
        send_data = smtp.data

        def data(message):
            on_handover()
            code, text = send_data(message)  # smtplib's sendmail raises unless it is 250
            if code == 250:
                on_accepted(f"{code} {text.decode(errors='replace')}"[:250])
            return code, text

        smtp.data = data
        try:
            email.send()
        finally:
            if connection.connection is smtp:
                del smtp.data  # the class's own method again, for the next message
    finally:
        if own:
            connection.close()


def smtp_refused(exc: Exception) -> bool:
    """An answer from the server refusing the message: it provably did not take it (so a send
    that failed this way after the hand-over is not "uncertain")."""
    return isinstance(exc, SMTPDataError | SMTPRecipientsRefused | SMTPSenderRefused)
