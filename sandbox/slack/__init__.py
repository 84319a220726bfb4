"""Emulated Slack: the Web API, response URLs, and Slack's signed requests toward the app."""
