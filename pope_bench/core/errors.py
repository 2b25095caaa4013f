"""The one exception type that means "the user gave us something we cannot use".

The CLI turns a :class:`BadInput` into a single line on stderr and exit code 2, with no
traceback: the message itself must say what was wrong and what to do instead.
"""


class BadInput(ValueError):
    """Invalid user input (a config field, a lengths spec, a registry entry, a path...)."""


def closest(name: str, choices) -> str:
    """A " (did you mean ...?)" hint for an unknown name, or "" when nothing is close."""
    import difflib

    match = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(match)}?)" if match else ""
