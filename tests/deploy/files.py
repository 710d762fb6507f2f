"""Readers for the deployment files, as Docker and docker compose read them: the Dockerfile's
stages and instructions, .dockerignore's patterns, and compose's `${VAR…}` interpolation."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from tests.support.paths import CATAPULT, REPO

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
COMPOSE_ENVOY_CONFIG = REPO / "envoy" / "compose.yaml"


# --- Dockerfile ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, …
    args: str  # the rest of the (joined) line

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form ENTRYPOINT/CMD (a shell form is a test failure)."""
        value = json.loads(self.args)
        assert isinstance(value, list) and all(isinstance(v, str) for v in value), self
        return value


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"stage {self.name} has no {keyword}"
        return found[-1]

    def env(self) -> dict[str, str]:
        """ENV of this stage (only this stage's own instructions)."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for item in shlex.split(instruction.args):
                key, sep, value = item.partition("=")
                assert sep, f"ENV in the legacy `ENV key value` form: {instruction.args}"
                values[key] = value
        return values

    def healthcheck(self) -> tuple[dict[str, str], list[str]]:
        """The HEALTHCHECK's options (--interval=… → {"interval": …}) and its exec-form command."""
        options_text, sep, command = self.last("HEALTHCHECK").args.partition("CMD ")
        assert sep, "HEALTHCHECK without CMD"
        options = dict(re.findall(r"--([a-z-]+)=(\S+)", options_text))
        value = json.loads(command)
        assert isinstance(value, list), "HEALTHCHECK CMD in shell form: use the exec form"
        return options, [str(v) for v in value]

    def copies(self) -> list[tuple[list[str], PurePosixPath]]:
        """(sources, absolute destination) of each COPY from the build context (not --from)."""
        workdir = PurePosixPath("/")
        found: list[tuple[list[str], PurePosixPath]] = []
        for instruction in self.instructions:
            if instruction.keyword == "WORKDIR":
                workdir = workdir / instruction.args.strip()
            elif instruction.keyword == "COPY":
                words = shlex.split(instruction.args)
                if any(w.startswith("--from") for w in words):
                    continue
                paths = [w for w in words if not w.startswith("--")]
                dest = paths[-1]
                absolute = workdir / dest
                if dest.endswith("/"):
                    absolute = PurePosixPath(str(absolute) + "/")
                found.append((paths[:-1], absolute))
        return found

    def image_path(self, repo_path: str) -> PurePosixPath | None:
        """Where the repository file `repo_path` lands in this stage's image, if it is copied."""
        for sources, dest in self.copies():
            for source in sources:
                source = source.rstrip("/")
                is_dir = (REPO / source).is_dir()
                if repo_path == source and not is_dir:
                    if str(dest).endswith("/") or len(sources) > 1:
                        return PurePosixPath(str(dest)) / PurePosixPath(source).name
                    return dest
                if is_dir and repo_path.startswith(source + "/"):
                    # A directory's contents are copied into the destination.
                    return PurePosixPath(str(dest)) / repo_path[len(source) + 1 :]
        return None

    def workdir(self) -> PurePosixPath:
        return PurePosixPath(self.last("WORKDIR").args.strip())


@dataclass
class Dockerfile:
    args: dict[str, str]  # global ARGs before the first FROM, with their defaults
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise AssertionError(f"no stage {name!r} in the Dockerfile")

    def resolve(self, text: str) -> str:
        """`${NAME}` of the global ARGs substituted (as in a FROM line)."""
        return re.sub(r"\$\{(\w+)\}", lambda m: self.args[m.group(1)], text)


def _logical_lines(text: str) -> list[str]:
    """Instructions with their `\\` continuations joined; comment lines dropped."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return lines


def parse_dockerfile(path: Path = DOCKERFILE) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in _logical_lines(path.read_text()):
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        args = args.strip()
        if keyword == "FROM":
            words = args.split()
            assert len(words) == 3 and words[1].upper() == "AS", f"unnamed stage: FROM {args}"
            stages.append(Stage(name=words[2], base=words[0]))
        elif not stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            name, _, default = args.partition("=")
            global_args[name] = default
        else:
            stages[-1].instructions.append(Instruction(keyword, args))
    return Dockerfile(global_args, stages)


# --- .dockerignore --------------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def dockerignore_excludes(path: str, patterns_file: Path = DOCKERIGNORE) -> bool:
    """Whether docker leaves `path` (relative to the context) out of the build context: the last
    pattern matching the path or one of its parent directories decides; `!` re-includes."""
    patterns = [
        line.strip()
        for line in patterns_file.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _pattern_regex(pattern.lstrip("!").strip("/"))
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


# --- docker compose -------------------------------------------------------------------------------


class MissingVariable(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """docker compose's interpolation: ${V}, ${V:-default}, ${V-default}, ${V:?error}, ${V?error}, $$."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2) or "", match.group(3) or ""
        present = name in env
        empty = present and env[name] == ""
        if operator in (":?", "?") and (not present or (operator == ":?" and empty)):
            raise MissingVariable(name, argument)
        if operator in (":-", "-") and (not present or (operator == ":-" and empty)):
            return argument
        return env.get(name, "")

    return _VARIABLE.sub(substitute, value)


def load_compose() -> dict[str, Any]:
    """docker-compose.yml as YAML (anchors and `<<` merges resolved), not yet interpolated."""
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"not KEY=VALUE: {line!r}"
            values[key] = value
    return values


def seconds(duration: str) -> float:
    """A compose/Docker duration ("10s", "1m30s", "500ms") in seconds."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"bad duration {duration!r}"
    return sum(float(n) * units[u] for n, u in parts)


# --- the Envoy configs `make generate` writes -------------------------------------------------------


def make_generate_writes(config: Path, work_dir: Path) -> str:
    """What the `catapult envoy-config … --output <config>` line of `make generate` writes now."""
    relative = str(config.relative_to(REPO))
    for line in (REPO / "Makefile").read_text().splitlines():
        if "envoy-config" in line and f"--output {relative}" in line:
            words = shlex.split(line.strip())
            args = words[words.index("envoy-config") + 1 :]
            break
    else:
        raise AssertionError(f"`make generate` does not write {relative}")
    output = work_dir / config.name
    args[args.index("--output") + 1] = str(output)
    result = subprocess.run([CATAPULT, "envoy-config", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return output.read_text()
