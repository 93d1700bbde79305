"""Contact details in a message: email addresses and phone numbers, also in the forms people
type to get past a filter ("name at gmail dot com", "five five five one two three four").

Marketplaces flag these before a sale because a buyer and seller who swap them can settle off
the platform, without the buyer's protection. `contact_details_find` says what kinds it found;
it only flags (messaging.services), the message is still delivered. Dates, years, prices and
order numbers are not phone numbers: a phone number here has 10 to 15 digits, or 7 written as
three and four.
"""

import re

_NUMBER_WORDS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)

# "@", or "at" written out: " at ", "(at)", "[at]", "{at}", "-at-".
_AT = r"(?:\s*@\s*|\s*[(\[{<]\s*at\s*[)\]}>]\s*|\s+at\s+|-at-)"
# ".", or "dot" written out the same ways.
_DOT = r"(?:\s*\.\s*|\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+|-dot-)"
_PLAIN_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# Written out, the address needs a domain people use for mail, or it would match "meet at the
# venue dot ...": a common provider, or a top-level domain after the last dot.
_PROVIDERS = (
    r"(?:gmail|googlemail|yahoo|hotmail|outlook|live|icloud|me|aol|proton|protonmail|gmx|mail|yandex)"
)
_TLDS = r"(?:com|net|org|co|uk|us|de|fr|ca|au|io|me|info|edu|nl|it|es)"
_WRITTEN_EMAIL = re.compile(
    rf"\b[\w.+-]+{_AT}(?:{_PROVIDERS}\b(?:{_DOT}[a-z]{{2,6}}\b)*|[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLDS}\b)",
    re.IGNORECASE,
)
# Digits with the separators phone numbers are written with.
_DIGIT_RUN = re.compile(r"\+?\(?\d[\d\s().\-/]{5,}\d")
_SEVEN_DIGITS = re.compile(r"(?<![\d-])\d{3}[\s.\-]\d{4}(?![\d-])")
_DATE = re.compile(r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b")


def _digits_spelled_out(text: str) -> str:
    return _NUMBER_WORD.sub(lambda match: _NUMBER_WORDS[match.group(1).lower()], text)


def _has_phone_number(text: str) -> bool:
    text = _DATE.sub(" ", text)
    for match in _DIGIT_RUN.finditer(text):
        if 10 <= sum(char.isdigit() for char in match.group()) <= 15:
            return True
    return _SEVEN_DIGITS.search(text) is not None


def contact_details_find(text: str) -> list[str]:
    """The kinds of contact details in `text`: "email", "phone" (empty when none)."""
    found = []
    if _PLAIN_EMAIL.search(text) or _WRITTEN_EMAIL.search(text):
        found.append("email")
    # Spelled digits are joined to the digits next to them ("five 5 five" is 555).
    spelled = re.sub(r"(?<=\d)[\s,]+(?=\d)", " ", _digits_spelled_out(text))
    if _has_phone_number(spelled):
        found.append("phone")
    return found
