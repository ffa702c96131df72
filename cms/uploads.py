"""HR's CSV uploads, shared by the people and completions imports: reading the file, the form."""

from django import forms
from django.core.exceptions import ValidationError


class CsvFileError(Exception):
    """The file as a whole cannot be read (encoding, header, no rows); no row was checked."""


def csv_text_decode(*, data: bytes) -> str:
    """The file's text; Excel's "CSV UTF-8" byte-order mark is dropped. Raises CsvFileError for a
    file that is not UTF-8 text or holds binary data."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFileError(
            "The file is not UTF-8 text. In Excel, save it as "
            "\u201cCSV UTF-8 (comma delimited)\u201d."
        ) from error
    if "\x00" in text:
        raise CsvFileError("The file is not a CSV file (it holds binary data).")
    return text


class CsvUploadForm(forms.Form):
    """One CSV file, at most MAX_BYTES, read as text (`self.text`) and checked by `csv_check`
    (which raises CsvFileError), or a clear error on the field."""

    MAX_BYTES = 20 * 1024 * 1024
    too_large = "The file is larger than 20 MB. Split it into smaller files."

    def csv_check(self, text: str) -> None:
        raise NotImplementedError

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError(self.too_large)
        try:
            self.text = csv_text_decode(data=upload.read())
            self.csv_check(self.text)
        except CsvFileError as error:
            raise ValidationError(str(error)) from error
        return upload
