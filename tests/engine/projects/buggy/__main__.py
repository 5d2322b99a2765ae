"""A provider with a bug (a RuntimeError, not a MistralError), built on ConnectorProvider like a user's subclass.

Its class lives in this program, so it is pickled by value; unpickling it imports pulumi_mistral.provider in the
provider process, as any Connector does. A bug must still reach the user with its traceback.
"""

from typing import Any

import pulumi
import pulumi.dynamic

from pulumi_mistral.provider import ConnectorProvider


class BuggyProvider(ConnectorProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return pulumi.dynamic.CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        raise RuntimeError("a bug in a provider method")


class Buggy(pulumi.dynamic.Resource):
    def __init__(self, name: str) -> None:
        super().__init__(BuggyProvider(), name, {})


Buggy("buggy")
