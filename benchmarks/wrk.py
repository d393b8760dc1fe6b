"""wrk as a second load generator for benchmarks.rest: a C client that spends far less CPU per request than
Python's http.client, so on a small machine the trivial endpoint gets more of the CPUs it shares."""
from __future__ import annotations

import re
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class WrkRun:
    """What one wrk run reported, plus CPU seconds of server, database and wrk itself."""

    name: str
    requests: int
    rate: float  # good answers per second
    bad: int  # socket errors and non-2xx answers
    p50: float
    p99: float
    cpu: dict

    def cpu_ms(self, part: str) -> float:
        """CPU milliseconds per request of one part, NaN where unknown."""
        return 1000 * self.cpu[part] / self.requests if self.requests and part in self.cpu else float("nan")


def available() -> str | None:
    """Return the wrk executable, or None when it is not installed (apt-get install wrk)."""
    return shutil.which("wrk")


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNIT_MS[unit]


def parse(name: str, out: str, cpu: dict) -> WrkRun:
    """Read wrk's --latency report."""
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad += sum(int(n) for n in errors.groups()) if errors else 0
    # wrk's own rate counts bad answers too (the fast 404s past the task pool would inflate it)
    rate = rate * (requests - bad) / requests if requests else 0.0
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    return WrkRun(name, requests, rate, bad, p50, p99, cpu)


EXHAUSTED_PATH = "/bench/no-more-tasks"


def completion_script(slices: list[list[tuple[str, str]]], body: str) -> str:
    """A wrk Lua script: thread i posts body to its slice's (path, bearer token) pairs once each; past the end
    it asks for EXHAUSTED_PATH, which answers 404 and so counts as a bad answer (wrk cannot stop early)."""
    rows = ",".join("{" + ",".join(f'{{"{path}","{token}"}}' for path, token in pairs) + "}" for pairs in slices)
    return f"""local slices = {{{rows}}}
local made = 0
function setup(thread) made = made + 1; thread:set("slice", made) end
function init(args) mine = slices[slice]; sent = 0 end
function request()
  sent = sent + 1
  local pair = mine[sent]
  if pair == nil then return wrk.format("GET", "{EXHAUSTED_PATH}") end
  return wrk.format("POST", pair[1], {{["Authorization"] = "Bearer " .. pair[2],
                                      ["Content-Type"] = "application/json"}}, '{body}')
end
"""


def run(name: str, url: str, *, seconds: float, threads: int, connections: int, cpu_now,
        script: str | None = None) -> WrkRun:
    """Run wrk against url; cpu_now() returns the CPU seconds of server and database so far."""
    args = [available(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script is not None:
            lua.write(script)
            lua.flush()
            args += ["-s", lua.name]
        before, own = cpu_now(), resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 120).stdout
        after, own_after = cpu_now(), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {k: after[k] - before[k] for k in after}
    cpu["clients"] = (own_after.ru_utime + own_after.ru_stime) - (own.ru_utime + own.ru_stime)
    return parse(name, out, cpu)
