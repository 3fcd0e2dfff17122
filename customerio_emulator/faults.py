"""Fault injection: which Track requests get an error, a 429, a delay, a dropped connection or an outage.

The policy is set at run time through `POST /_emulator/faults`. A seeded policy draws from its own
`random.Random`, so the same seed and the same sequence of requests give the same faults.
"""

import random
import threading
from dataclasses import asdict, dataclass
from typing import Any


class FaultPolicyError(ValueError):
    """A fault policy document that cannot be used; the message goes back in the 400."""


@dataclass(frozen=True)
class FaultPolicy:
    """Probabilities and parameters of injected faults. The default injects nothing."""

    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503)
    rate_429: float = 0.0
    retry_after: int | None = None
    delay_ms: int = 0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    outage: bool = False
    seed: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> "FaultPolicy":
        """Build a policy from a JSON object; keys not given keep their defaults, unknown keys are refused."""
        if not isinstance(data, dict):
            raise FaultPolicyError("fault policy must be a JSON object")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise FaultPolicyError(f"unknown fault policy keys: {', '.join(unknown)}")
        values = dict(data)
        for key in ("error_rate", "rate_429", "timeout_rate"):
            if key in values:
                rate = values[key]
                if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                    raise FaultPolicyError(f"{key} must be a number between 0 and 1")
                values[key] = float(rate)
        if "error_statuses" in values:
            statuses = values["error_statuses"]
            valid = (
                isinstance(statuses, list)
                and bool(statuses)
                and all(isinstance(s, int) and not isinstance(s, bool) and 400 <= s <= 599 for s in statuses)
            )
            if not valid:
                raise FaultPolicyError("error_statuses must be a non-empty list of HTTP statuses 400-599")
            values["error_statuses"] = tuple(statuses)
        for key in ("retry_after", "seed"):
            value = values.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise FaultPolicyError(f"{key} must be a non-negative integer or null")
        for key in ("delay_ms", "timeout_seconds"):
            value = values.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise FaultPolicyError(f"{key} must be a non-negative number")
        if not isinstance(values.get("outage", False), bool):
            raise FaultPolicyError("outage must be a boolean")
        return cls(**values)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_statuses"] = list(self.error_statuses)
        return data


@dataclass(frozen=True)
class Fault:
    """The fault chosen for one request: `kind` is outage, timeout, rate_429 or error."""

    kind: str
    status: int | None = None
    retry_after: int | None = None
    timeout_seconds: float = 0.0


class FaultInjector:
    """Holds the current policy and decides, per Track request, which fault (if any) applies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._policy = FaultPolicy()
        self._random = random.Random()

    @property
    def policy(self) -> FaultPolicy:
        with self._lock:
            return self._policy

    def configure(self, policy: FaultPolicy) -> None:
        with self._lock:
            self._policy = policy
            self._random = random.Random(policy.seed)

    def clear(self) -> None:
        self.configure(FaultPolicy())

    def decide(self) -> tuple[Fault | None, int]:
        """Return the fault for the next request (or None) and the delay to add before answering, in ms.

        Each request draws the same three numbers in the same order whatever the outcome, so a seeded run is
        reproducible request by request.
        """
        with self._lock:
            policy = self._policy
            timeout_roll, rate_roll, error_roll = (self._random.random() for _ in range(3))
            status = self._random.choice(policy.error_statuses)
        if policy.outage:
            return Fault("outage", status=503), policy.delay_ms
        if timeout_roll < policy.timeout_rate:
            return Fault("timeout", timeout_seconds=policy.timeout_seconds), policy.delay_ms
        if rate_roll < policy.rate_429:
            return Fault("rate_429", status=429, retry_after=policy.retry_after), policy.delay_ms
        if error_roll < policy.error_rate:
            return Fault("error", status=status), policy.delay_ms
        return None, policy.delay_ms
