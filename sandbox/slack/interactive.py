"""Interactive state Slack keeps for an app: response URLs, trigger ids and the modal views it opened.

Mixed into `sandbox.slack.models.Backend` (which supplies ids, content checks and
message storage). Durations run on the sandbox clock, so a high time scale makes a
trigger's 3 s or a response URL's 30 minutes pass quickly.

Not implemented: block_actions from inside a modal, `notify_on_close` /
view_closed payloads, `views.publish` (App Home), response URLs from view
submissions (`response_urls`), and Slack's UI-side "operation_timeout" banner
beyond what `/_sandbox/slack/command` reports. Slack does not document the
response URL's refusal shape; this emulator answers 404 with `used_url`,
`expired_url` or `invalid_url`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sandbox.core import SandboxServices
from sandbox.slack.blocks import validate_view
from sandbox.slack.errors import SlackError, arguments_error

TRIGGER_SECONDS = 3.0
RESPONSE_URL_SECONDS = 30 * 60
RESPONSE_URL_USES = 5
VIEW_STACK_LIMIT = 3

_VALUE_KEYS = {
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "rich_text_input": "rich_text_value",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
}
_ONE_OPTION = {"static_select", "external_select", "radio_buttons", "overflow"}
_MANY_OPTIONS = {"multi_static_select", "multi_external_select", "checkboxes"}


def element_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    """Every option an element offers, flattening option_groups."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def pick_option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The option whose value is `value`, or invalid_option."""
    for option in element_options(element):
        if option.get("value") == value:
            return copy.deepcopy(option)
    raise SlackError("invalid_option", value=value)


def element_state(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """How Slack reports an element's value in `state.values` (value, selected_option, ...)."""
    kind = element.get("type", "")
    state: dict[str, Any] = {"type": kind}
    if kind in _ONE_OPTION:
        state["selected_option"] = None if value is None else pick_option(element, value)
    elif kind in _MANY_OPTIONS:
        values = value if isinstance(value, list) else ([] if value is None else [value])
        state["selected_options"] = [pick_option(element, v) for v in values]
    else:
        state[_VALUE_KEYS.get(kind, "value")] = value
    return state


Message = dict[str, Any]


class InteractiveState:
    """Response URLs, triggers and views; expects the Backend's ids, clock and message store."""

    # What the Backend this is mixed into supplies, declared here (annotations only, no
    # values) so the mixin is typed without importing the Backend that imports it.
    ctx: SandboxServices
    team_id: str
    app_id: str
    bot_id: str
    ephemerals: list[Message]
    epoch: Callable[[], float]
    new_id: Callable[[str], str]
    random_token: Callable[[int], str]
    check_content: Callable[..., tuple[str, list[Message] | None, list[str]]]
    stamp_blocks: Callable[[list[Message]], list[Message]]
    post_message: Callable[..., Any]  # gives the Backend's Posted (channel, ts, message)
    add_ephemeral: Callable[..., str]
    find_message: Callable[[str, str], Message | None]
    find_ephemeral: Callable[[str, str], Message | None]
    _replace_content: Callable[..., None]
    _remove: Callable[[str, Message], None]
    _record_log: Callable[..., None]

    def reset_interactive(self) -> None:
        self.hooks: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.view_users: dict[str, str] = {}
        self.view_stacks: dict[str, list[str]] = {}
        self.view_errors: dict[str, dict[str, str]] = {}

    def snapshot_interactive(self) -> dict[str, Any]:
        now = self.ctx.clock.now()
        hooks = {
            token: {
                **{k: v for k, v in hook.items() if k != "created"},
                "age": now - hook["created"],
            }
            for token, hook in self.hooks.items()
        }
        return {
            "hooks": hooks,
            "views": self.views,
            "view_users": self.view_users,
            "view_stacks": self.view_stacks,
            "view_errors": self.view_errors,
        }

    def restore_interactive(self, data: dict[str, Any]) -> None:
        now = self.ctx.clock.now()
        self.hooks = {
            token: {**{k: v for k, v in hook.items() if k != "age"}, "created": now - hook["age"]}
            for token, hook in data.get("hooks", {}).items()
        }
        self.triggers = {}  # they live 3 seconds; none survives a restart
        self.views = data.get("views", {})
        self.view_users = data.get("view_users", {})
        self.view_stacks = data.get("view_stacks", {})
        self.view_errors = data.get("view_errors", {})

    # ------------------------------------------------------------ response URLs
    def issue_response_url(
        self, channel_id: str, user_id: str, source: dict[str, Any] | None = None
    ) -> str:
        """A response URL token for one interaction; `source` is the message it may replace."""
        token = f"{self.team_id}/{self.random_token(13, '0123456789')}/{self.random_token(24)}"
        self.hooks[token] = {
            "channel": channel_id,
            "user": user_id,
            "created": self.ctx.clock.now(),
            "uses": 0,
            "source": source,
        }
        return token

    def post_to_response_url(self, token: str, payload: dict[str, Any]) -> None:
        """What Slack does with a post to a response URL: at most 5 within 30 minutes."""
        hook = self.hooks.get(token)
        if hook is None:
            raise SlackError("invalid_url")
        if self.ctx.clock.now() - hook["created"] > self.ctx.clock.seconds(RESPONSE_URL_SECONDS):
            raise SlackError("expired_url")
        if hook["uses"] >= RESPONSE_URL_USES:
            raise SlackError("used_url")
        source = hook.get("source")
        if _truthy(payload.get("delete_original")):
            if source:
                self._delete_source(source)
            hook["source"] = None
        else:
            text, blocks, _ = self.check_content(
                payload.get("text"), payload.get("blocks"), attachments=payload.get("attachments")
            )
            if _truthy(payload.get("replace_original")) and source and self._source(source):
                self._replace_source(source, text, blocks)
            else:
                hook["source"] = self._post_for_hook(hook, payload, text, blocks, "response_url")
        hook["uses"] += 1

    def record_command_reply(self, token: str, reply: Any) -> str | None:
        """Show the app's immediate reply to a slash command; returns its ts, or None if it said nothing."""
        hook = self.hooks[token]
        payload = {"text": reply} if isinstance(reply, str) else reply
        if not isinstance(payload, dict) or not (
            str(payload.get("text") or "").strip() or payload.get("blocks")
        ):
            return None
        text, blocks, _ = self.check_content(payload.get("text"), payload.get("blocks"))
        hook["source"] = self._post_for_hook(hook, payload, text, blocks, "command_reply")
        return hook["source"]["ts"]

    def _post_for_hook(
        self,
        hook: dict[str, Any],
        payload: dict[str, Any],
        text: str,
        blocks: list[dict[str, Any]] | None,
        source: str,
    ) -> dict[str, Any]:
        thread_ts = payload.get("thread_ts")
        if payload.get("response_type") == "in_channel":
            # Slack delivers response URL posts even where the bot is no member.
            posted = self.post_message(
                hook["channel"], text, blocks, thread_ts=thread_ts, source=source, enforce=False
            )
            return {"channel": posted.channel, "ts": posted.ts, "ephemeral": False}
        ts = self.add_ephemeral(hook["channel"], hook["user"], text, blocks, source, thread_ts)
        return {"channel": hook["channel"], "ts": ts, "ephemeral": True}

    def _source(self, source: dict[str, Any]) -> dict[str, Any] | None:
        if source["ephemeral"]:
            return self.find_ephemeral(source["channel"], source["ts"])
        return self.find_message(source["channel"], source["ts"])

    def _replace_source(
        self, source: dict[str, Any], text: str, blocks: list[dict[str, Any]] | None
    ) -> None:
        message = self._source(source)
        if message is None:
            return
        if not source["ephemeral"]:
            self._replace_content(source["channel"], message, text, blocks, "response_url")
            return
        message["text"] = text
        if blocks:
            message["blocks"] = blocks
        else:
            message.pop("blocks", None)
        self._record_log(
            "edit",
            source["channel"],
            message,
            source="response_url",
            visible_to=message["visible_to"],
        )

    def _delete_source(self, source: dict[str, Any]) -> None:
        message = self._source(source)
        if message is None:
            return
        if source["ephemeral"]:
            self.ephemerals.remove(message)
        else:
            self._remove(source["channel"], message)

    # ------------------------------------------------------------ trigger ids
    def issue_trigger(self, user_id: str, view_id: str | None = None) -> str:
        """A trigger id for one interaction by `user_id`: valid once, for 3 seconds."""
        trigger_id = f"{self.epoch()}.{self.random_token(12, '0123456789')}.{self.random_token(32)}"
        self.triggers[trigger_id] = {
            "user": user_id,
            "issued": self.ctx.clock.now(),
            "used": False,
            "view_id": view_id,
        }
        return trigger_id

    def consume_trigger(self, trigger_id: str | None) -> dict[str, Any]:
        """Exchange a trigger id, as views.open/push do; Slack's three refusals."""
        trigger = self.triggers.get(trigger_id or "")
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger["used"]:
            raise SlackError("exchanged_trigger_id")
        if self.ctx.clock.now() - trigger["issued"] > self.ctx.clock.seconds(TRIGGER_SECONDS):
            raise SlackError("expired_trigger_id")
        trigger["used"] = True
        return trigger

    # ------------------------------------------------------------ views
    def open_view(self, trigger_id: str | None, view: Any) -> dict[str, Any]:
        """views.open: a new modal stack for the person whose interaction made the trigger."""
        _check_view(view)
        trigger = self.consume_trigger(trigger_id)
        self._check_external_id(view, None)
        view_id = self.new_id("V")
        self.views[view_id] = self._build_view(view, view_id, root=view_id, previous=None)
        self.view_users[view_id] = trigger["user"]
        self.view_stacks[trigger["user"]] = [view_id]
        return copy.deepcopy(self.views[view_id])

    def push_view(self, trigger_id: str | None, view: Any) -> dict[str, Any]:
        """views.push: a view on top of the person's open modal, at most 3 deep."""
        _check_view(view)
        trigger = self.consume_trigger(trigger_id)
        stack = self.view_stacks.get(trigger["user"])
        if not stack:
            raise SlackError("not_found")
        if len(stack) >= VIEW_STACK_LIMIT:
            raise SlackError("push_limit_reached")
        self._check_external_id(view, None)
        view_id = self.new_id("V")
        self.views[view_id] = self._build_view(view, view_id, root=stack[0], previous=stack[-1])
        self.view_users[view_id] = trigger["user"]
        stack.append(view_id)
        return copy.deepcopy(self.views[view_id])

    def update_view(
        self,
        view: Any,
        view_id: str | None = None,
        external_id: str | None = None,
        hash_: str | None = None,
    ) -> dict[str, Any]:
        """views.update: replace an open view; a stale `hash` gives hash_conflict."""
        current = self._open_view(view_id, external_id)
        if hash_ and hash_ != current["hash"]:
            raise SlackError("hash_conflict")
        _check_view(view)
        self._check_external_id(view, current["id"])
        rebuilt = self._build_view(
            view, current["id"], root=current["root_view_id"], previous=current["previous_view_id"]
        )
        self.views[current["id"]] = rebuilt
        self.view_errors.pop(current["id"], None)
        return copy.deepcopy(rebuilt)

    def is_open(self, view_id: str) -> bool:
        return any(view_id in stack for stack in self.view_stacks.values())

    def top_view(self, user_id: str) -> dict[str, Any] | None:
        """The modal the person sees now, or None."""
        stack = self.view_stacks.get(user_id)
        return copy.deepcopy(self.views[stack[-1]]) if stack else None

    def fill_view_state(self, view_id: str, values: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Type the person's answers into a view's inputs; Slack's client refuses missing required ones."""
        view = self.views.get(view_id)
        user = self.view_users.get(view_id)
        if view is None or user is None or self.view_stacks.get(user, [None])[-1] != view_id:
            raise SlackError("view_not_open")
        inputs = {b["block_id"]: b for b in view["blocks"] if b.get("type") == "input"}
        unknown = sorted(set(values) - set(inputs))
        if unknown:
            raise SlackError("unknown_block", block_ids=unknown)
        state: dict[str, dict[str, Any]] = {}
        missing = []
        for block_id, block in inputs.items():
            element = block["element"]
            given = (values.get(block_id) or {}).get(element["action_id"])
            if given in (None, "", []) and not block.get("optional"):
                missing.append(block_id)
            state[block_id] = {element["action_id"]: element_state(element, given or None)}
        if missing:
            raise SlackError("missing_required_input", block_ids=missing)
        view["state"] = {"values": state}
        return copy.deepcopy(view)

    def apply_view_response(self, view_id: str, status: int, body: Any) -> str:
        """What Slack does with the app's answer to a view_submission; returns what happened."""
        user = self.view_users[view_id]
        stack = self.view_stacks.get(user, [])
        if status != 200:
            return "error"
        action = body.get("response_action") if isinstance(body, dict) else None
        if action is None:
            self._close_top(user)
            return "closed"
        if action == "clear":
            self.view_stacks.pop(user, None)
            return "cleared"
        if action == "errors":
            self.view_errors[view_id] = dict(body.get("errors") or {})
            return "errors"
        view = body.get("view")
        if action not in {"update", "push"} or validate_view(view):
            return "invalid_response"
        if action == "update":
            current = self.views[view_id]
            self.views[view_id] = self._build_view(
                view, view_id, root=current["root_view_id"], previous=current["previous_view_id"]
            )
            return "updated"
        if len(stack) >= VIEW_STACK_LIMIT:
            return "push_limit_reached"
        new_id = self.new_id("V")
        self.views[new_id] = self._build_view(view, new_id, root=stack[0], previous=view_id)
        self.view_users[new_id] = user
        stack.append(new_id)
        return "pushed"

    def _close_top(self, user_id: str) -> None:
        stack = self.view_stacks.get(user_id, [])
        if stack:
            stack.pop()
        if not stack:
            self.view_stacks.pop(user_id, None)

    def _open_view(self, view_id: str | None, external_id: str | None) -> dict[str, Any]:
        if not view_id and not external_id:
            raise SlackError("invalid_arguments")
        for view in self.views.values():
            named = view["id"] == view_id if view_id else view.get("external_id") == external_id
            if named and self.is_open(view["id"]):
                return view
        raise SlackError("not_found")

    def _check_external_id(self, view: dict[str, Any], own_id: str | None) -> None:
        external_id = view.get("external_id")
        if not external_id:
            return
        for other in self.views.values():
            if other["id"] != own_id and other.get("external_id") == external_id:
                raise SlackError("duplicate_external_id")

    def _build_view(
        self, view: dict[str, Any], view_id: str, *, root: str, previous: str | None
    ) -> dict[str, Any]:
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": self.stamp_blocks(view.get("blocks") or []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{self.epoch()}.{self.random_token(8)}",
            "title": copy.deepcopy(view.get("title")),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": copy.deepcopy(view.get("close")),
            "submit": copy.deepcopy(view.get("submit")),
            "previous_view_id": previous,
            "root_view_id": root,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }


def _check_view(view: Any) -> None:
    errors = validate_view(view)
    if errors:
        raise arguments_error(errors)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"true", "1"}
