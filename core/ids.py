"""The range of a row id taken from input.

Our ids are 64-bit (BigAutoField): nothing above MAX_ID is a row. Django keeps an out-of-range
value out of a lookup on an id column itself, but not on a foreign key (`filter(listing_id=…)`,
a one-to-one primary key), where SQLite cannot even bind it (OverflowError: a 500). So a form,
serializer or admin page that takes an id from outside bounds it with MAX_ID (or id_in_range).
"""

MAX_ID = 2**63 - 1


def id_in_range(value) -> bool:
    """Is `value` (an int or its text) a whole number an id can be (1 to MAX_ID)?"""
    try:
        number = int(str(value).strip())
    except ValueError:
        return False
    return 1 <= number <= MAX_ID
