"""The upstream providers gatepass offers: the configuration file's, then the database's.

Providers in the file are read-only here (edit the file); `gatepass provider add|remove`
manages the others, whose client secrets are sealed at rest under a master-key subkey,
bound to the provider's name.
"""

import builtins
import logging
from collections.abc import Sequence
from typing import Protocol

from gatepass.clock import Clock, SystemClock
from gatepass.errors import GatepassError
from gatepass.federation.model import (
    DuplicateProvider,
    ReadOnlyProvider,
    UpstreamError,
    UpstreamProvider,
)
from gatepass.federation.presets import validate_provider
from gatepass.federation.store import ProviderStore, StoredProvider

log = logging.getLogger("gatepass")


class Sealer(Protocol):
    """crypto/secret_box.py's SecretSealer."""

    def seal(self, secret: str, *, bound_to: str) -> str: ...

    def open(self, sealed: str, *, bound_to: str) -> str: ...


def _bound_to(name: str) -> str:
    return f"upstream provider {name}"


class ProviderRegistry:
    def __init__(
        self,
        configured: Sequence[UpstreamProvider],
        store: ProviderStore,
        sealer: Sealer,
        clock: Clock | None = None,
    ) -> None:
        self._configured = {p.name: p for p in sorted(configured, key=lambda p: p.name)}
        self._store = store
        self._sealer = sealer
        self._clock = clock or SystemClock()

    async def list(self) -> builtins.list[UpstreamProvider]:
        """The file's providers first, then the database's, each by name. A stored one
        whose secret cannot be opened (another master key) is left out, with a warning."""
        found = list(self._configured.values())
        for record in await self._store.list_all():
            if record.name in self._configured:
                continue  # the file wins; `add` refuses such a name anyway
            try:
                found.append(self._provider(record))
            except UpstreamError as exc:
                log.warning("upstream provider %s left out: %s", record.name, exc.debug)
        return found

    async def get(self, name: str) -> UpstreamProvider | None:
        """The provider called `name`, or None; UpstreamError("misconfigured") when its
        stored secret cannot be opened."""
        if name in self._configured:
            return self._configured[name]
        record = await self._store.get(name)
        return self._provider(record) if record is not None else None

    async def add(self, provider: UpstreamProvider) -> None:
        """Store a new provider; DuplicateProvider when the name is taken (file or database)."""
        validate_provider(provider)
        if provider.source != "cli":
            raise ValueError("only providers of source 'cli' are stored")
        if provider.name in self._configured:
            raise DuplicateProvider(f"provider {provider.name!r} is in the configuration file")
        await self._store.add(
            StoredProvider(
                name=provider.name,
                kind=provider.kind,
                issuer=provider.issuer,
                client_id=provider.client_id,
                sealed_secret=self._sealer.seal(
                    provider.client_secret, bound_to=_bound_to(provider.name)
                ),
                scopes=provider.scopes,
                display_name=provider.display_name,
                created_at=self._clock.now(),
            )
        )

    async def remove(self, name: str) -> bool:
        """Delete a stored provider; ReadOnlyProvider for one from the configuration file.
        Identities linked through it stay, so re-adding it restores their logins."""
        if name in self._configured:
            raise ReadOnlyProvider(
                f"provider {name!r} is defined in the configuration file; remove it there"
            )
        return await self._store.delete(name)

    def _provider(self, record: StoredProvider) -> UpstreamProvider:
        try:
            secret = self._sealer.open(record.sealed_secret, bound_to=_bound_to(record.name))
        except GatepassError as exc:
            raise UpstreamError("misconfigured", str(exc)) from None
        return UpstreamProvider(
            name=record.name,
            kind=record.kind,
            issuer=record.issuer,
            client_id=record.client_id,
            client_secret=secret,
            scopes=record.scopes,
            display_name=record.display_name,
            source="cli",
        )
