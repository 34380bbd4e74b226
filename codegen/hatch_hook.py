"""A hatchling build hook: `python -m build` and `pip install .` of a project
regenerate its stale [tool.codegen] targets before packaging, with no code of the
project's. Enable it in the project's pyproject.toml:

    [build-system]
    requires = ["hatchling", "codegen"]
    build-backend = "hatchling.build"

    [tool.hatch.build.hooks.codegen]

Hatch finds the hook by the entry point codegen registers (`hatch` group). The
written modules (and emitted tests) are added to the build as artifacts, so they
are packaged even where .gitignore leaves generated files out. An error in a loss
stops the build with the `path:line:col: error:` line, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.plugin import hookimpl


class CodegenBuildHook(BuildHookInterface):
    PLUGIN_NAME = "codegen"

    def initialize(self, version, build_data):
        from .errors import CodegenError
        from .project import build, load

        pyproject = Path(self.root) / "pyproject.toml"
        try:
            written = build(pyproject)
            targets = load(pyproject)
        except CodegenError as error:
            raise SystemExit(f"codegen: {error}") from None
        for item in written:
            self.app.display_info(f"codegen: wrote {item.path} ({item.reason})")
        for target in targets:
            build_data["artifacts"].extend([target.output] + ([target.test] if target.test else []))


@hookimpl
def hatch_register_build_hook():
    return CodegenBuildHook
