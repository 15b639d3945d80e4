"""Failures of the differentiable tools that are not bad arguments (those raise ``ValueError``)."""


class ToolFailed(RuntimeError):
    """A tool ran but its result does not meet its own check; the message says what to change."""


class OffsetNotConverged(ToolFailed):
    """The offset search did not reach its target within its iteration budget."""


class AttributionIncomplete(ToolFailed):
    """Integrated gradients do not add up to the change of the function (completeness)."""
