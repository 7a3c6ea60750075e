"""The one base class of every user-facing error: the CLI prints these as one line, without a traceback."""


class CvreengError(Exception):
    """A mistake in the input or the request, explained in the message."""
