"""openid-client (npm) as a second, independent relying party: tests/interop/node/rp.mjs.

The package is pinned in node/package.json and node/package-lock.json; `install()`
copies the three files to a scratch directory and runs `npm ci` there, so no
node_modules ever lands in the checkout. Node.js and npm come with the machine image.
"""

import asyncio
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "node"
FILES = ("package.json", "package-lock.json", "rp.mjs")
INSTALL_SECONDS = 300
RUN_SECONDS = 60


@dataclass(frozen=True)
class NodeRelyingParty:
    directory: Path

    async def run(self, command: str, data: dict[str, Any]) -> dict[str, Any]:
        """`node rp.mjs COMMAND` with `data` as JSON on stdin; its JSON answer."""
        process = await asyncio.create_subprocess_exec(
            "node",
            "rp.mjs",
            command,
            cwd=self.directory,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(
            process.communicate(json.dumps(data).encode()), RUN_SECONDS
        )
        assert process.returncode == 0, f"rp.mjs {command} failed:\n{err.decode()}"
        answer: dict[str, Any] = json.loads(out)
        return answer


def install(directory: Path) -> NodeRelyingParty:
    """The pinned openid-client installed in `directory` (`npm ci`: exactly the lock)."""
    for tool in ("node", "npm"):
        assert shutil.which(tool), f"{tool} is missing (it ships with the machine image)"
    for name in FILES:
        shutil.copy(HERE / name, directory / name)
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=INSTALL_SECONDS,
        check=False,
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return NodeRelyingParty(directory)
