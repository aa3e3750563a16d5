"""The Moodle-like and Canvas-like Dynamic Registration fakes on a loopback port."""

from __future__ import annotations

from dataclasses import dataclass

from lti_tool.lti import registry
from lti_tool.sandbox.dynreg import DynregFakes
from lti_tool.sandbox.dynreg_canvas import CanvasLikeRegistration
from lti_tool.sandbox.dynreg_moodle import MoodleLikeRegistration


@dataclass
class Lms:
    fakes: DynregFakes
    port: int

    @property
    def moodle(self) -> MoodleLikeRegistration:
        return self.fakes.moodle

    @property
    def canvas(self) -> CanvasLikeRegistration:
        return self.fakes.canvas

    @property
    def moodle_host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def canvas_host(self) -> str:
        # Another host name than Moodle's: the institution's domain, not the issuer's.
        return f"http://localhost:{self.port}"

    @property
    def moodle_issuer(self) -> str:
        return self.moodle.site(self.moodle_host)

    def moodle_start(self) -> str:
        return self.moodle.start_url("/lti/register", self.moodle_host)

    def canvas_start(self) -> str:
        return self.canvas.start_url("/lti/register", self.canvas_host)

    def moodle_platform(
        self, name: str, client_id: str, *, issuer: str | None = None, token_url: str | None = None
    ) -> registry.PlatformSpec:
        """A registration by hand of the Moodle fake's site (its issuer and endpoints unless
        told), as a tool admin would add it."""
        return registry.PlatformSpec(
            name=name,
            issuer=issuer or self.moodle_issuer,
            client_id=client_id,
            auth_login_url=self.moodle_issuer + "/mod/lti/auth.php",
            auth_token_url=token_url or self.moodle_issuer + "/mod/lti/token.php",
            key_set_url=self.moodle_issuer + "/mod/lti/certs.php",
        )
