"""A recording Slack Web API server for handler and scenario tests (see `recorder`)."""

from sandbox.slack.recorder import SlackRecorder

__all__ = ["SlackRecorder"]
