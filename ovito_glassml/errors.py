"""The one exception type for mistakes in the user's input (shown without a traceback)."""


class InputError(ValueError):
    """Something about the user's input is wrong; the message says what and what to do."""
