"""Operator commands: the `coalition` CLI, doctor, setup, demo and purge, above flows, the bot and the sandbox."""
