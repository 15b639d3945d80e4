"""The one error type of the weights layer."""


class WeightsError(ValueError):
    """A weights file is missing, truncated, corrupted or of the wrong kind."""
