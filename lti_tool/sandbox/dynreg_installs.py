"""The sandbox LMS's side of a tool registered by URL (``dynreg_page.py`` shows it): what the
Moodle-like and Canvas-like fakes (``dynreg_moodle.py``, ``dynreg_canvas.py``) accepted, and
what an LMS admin does with it afterwards, as each LMS does:

- Moodle answers with its one deployment and lists the new tool as *pending* until a Moodle
  administrator activates it (``mod/lti`` "Manage tools"); a pending tool cannot be launched.
- Canvas shows the new developer key for review ("Enable & Close" switches it on); the
  deployment exists only once an admin installs the app in an account or course, and the
  registration answer names none (so the tool first sees it in the first launch).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import jwt

from lti_tool.sandbox.dynreg import DynregFakes
from lti_tool.sandbox.dynreg_canvas import CANVAS_ISSUER
from lti_tool.sandbox.dynreg_common import Registered, tool_configuration
from lti_tool.sandbox.platform import SandboxPlatform

MOODLE = "moodle"
CANVAS = "canvas"
# Moodle: pending -> active. Canvas: review (key off) -> on (key on) -> installed.
PENDING, ACTIVE = "pending", "active"
REVIEW, KEY_ON, INSTALLED = "review", "on", "installed"
LAUNCHABLE = {ACTIVE, INSTALLED}


class InstallRefused(Exception):
    """An admin action that does not fit the tool's state (e.g. installing a key still off)."""


@dataclass
class InstalledTool:
    """One tool registered with the sandbox by URL, and where it is in its LMS's steps."""

    style: str
    client_id: str
    issuer: str
    name: str
    registered: Registered
    state: str
    # The token's id (Canvas ``uuid``; Moodle ``sub``, which is also the client_id): the
    # dialog that started the registration finds it with this.
    token_id: str
    deployment_id: str | None = None

    @property
    def launchable(self) -> bool:
        return self.state in LAUNCHABLE and bool(self.deployment_id)

    @property
    def body(self) -> dict[str, Any]:
        return self.registered.body

    @property
    def tool_configuration(self) -> dict[str, Any]:
        return tool_configuration(self.body)

    @property
    def redirect_uris(self) -> list[str]:
        uris = self.body.get("redirect_uris")
        return [u for u in uris if isinstance(u, str)] if isinstance(uris, list) else []

    @property
    def login_url(self) -> str:
        return str(self.body.get("initiate_login_uri", ""))

    @property
    def target_link_uri(self) -> str:
        return str(self.tool_configuration.get("target_link_uri") or "")

    @property
    def scopes(self) -> list[str]:
        return str(self.registered.response.get("scope") or "").split()


@dataclass
class SandboxInstalls:
    """The tools registered with the sandbox by URL, keyed by client_id."""

    fakes: DynregFakes
    # The sandbox LMS: registrations start from its address (read when needed: tests set it
    # once the server has a port), so the Moodle-like site (the issuer) is that + its prefix.
    platform: SandboxPlatform
    tools: dict[str, InstalledTool] = field(default_factory=dict)
    # Signs the admin forms' tokens (the sandbox has no sessions): a form works only for
    # the action and tool it was rendered for.
    form_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    lock: threading.RLock = field(default_factory=threading.RLock)
    next_canvas_deployment: int = 1

    def all(self) -> list[InstalledTool]:
        """Every tool the fakes accepted, newest first."""
        with self.lock:
            self._sync()
            return list(reversed(self.tools.values()))

    def get(self, client_id: str) -> InstalledTool | None:
        with self.lock:
            self._sync()
            return self.tools.get(client_id)

    def by_token(self, style: str, token_id: str) -> InstalledTool | None:
        """The tool the registration started with this token made, if it finished."""
        with self.lock:
            self._sync()
            found = [t for t in self.tools.values() if t.style == style and t.token_id == token_id]
            return found[0] if found else None

    def activate(self, client_id: str) -> InstalledTool:
        """Moodle's "Activate" on a pending tool."""
        return self._move(client_id, MOODLE, PENDING, ACTIVE)

    def enable(self, client_id: str) -> InstalledTool:
        """Canvas's "Enable & Close": the developer key is switched on."""
        return self._move(client_id, CANVAS, REVIEW, KEY_ON)

    def install(self, client_id: str) -> InstalledTool:
        """Canvas's "install the app": only now is there a deployment (Canvas's id shape)."""
        with self.lock:
            tool = self._move(client_id, CANVAS, KEY_ON, INSTALLED)
            number = self.next_canvas_deployment
            self.next_canvas_deployment += 1
            tool.deployment_id = f"{number}:{secrets.token_hex(20)}"
            return tool

    def form_token(self, action: str, client_id: str) -> str:
        message = f"{action}:{client_id}".encode()
        return hmac.new(self.form_secret, message, hashlib.sha256).hexdigest()

    def check_form_token(self, action: str, client_id: str, token: str) -> bool:
        return hmac.compare_digest(self.form_token(action, client_id).encode(), token.encode())

    def _move(self, client_id: str, style: str, before: str, after: str) -> InstalledTool:
        with self.lock:
            self._sync()
            tool = self.tools.get(client_id)
            if tool is None or tool.style != style:
                raise InstallRefused("There is no such tool in this LMS.")
            if tool.state != before:
                raise InstallRefused("That step is already done or not possible yet.")
            tool.state = after
            return tool

    def _sync(self) -> None:
        for registered in self.fakes.moodle.registered:
            client_id = str(registered.response["client_id"])
            if client_id not in self.tools:
                answer_tool = tool_configuration(registered.response)
                self.tools[client_id] = InstalledTool(
                    style=MOODLE,
                    client_id=client_id,
                    issuer=self.fakes.moodle.site(self.platform.issuer),
                    name=str(registered.body.get("client_name", "")),
                    registered=registered,
                    state=PENDING,
                    token_id=client_id,
                    deployment_id=str(answer_tool.get("deployment_id") or "") or None,
                )
        for registered in self.fakes.canvas.registered:
            client_id = str(registered.response["client_id"])
            if client_id not in self.tools:
                claims = self.fakes.canvas.check_token(registered.authorization) or {}
                self.tools[client_id] = InstalledTool(
                    style=CANVAS,
                    client_id=client_id,
                    issuer=CANVAS_ISSUER,
                    name=str(registered.body.get("client_name", "")),
                    registered=registered,
                    state=REVIEW,
                    token_id=str(claims.get("uuid", "")),
                    deployment_id=str(registered.response.get("deployment_id") or "") or None,
                )

    @staticmethod
    def token_id(style: str, token: str) -> str:
        """The id of a registration token this LMS issued (unverified: only a lookup key)."""
        claims = jwt.decode(token, options={"verify_signature": False})
        return str(claims.get("uuid" if style == CANVAS else "sub", ""))
