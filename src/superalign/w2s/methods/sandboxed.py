"""`file:PATH`: a method written as a file (see `superalign.sandbox.method_file`), run in the sandbox.

    superalign run --method file:my_method.py -o sha256=<hash> -o options='{"k": 5}'

It reads only the weak labels (strong features and the weak supervisor's soft labels go in; ground truth never
does), so its budget is `weak-labels`, and its ceiling is the usual head on ground truth. Whatever the sandbox's
monitor refused while it ran is kept in the method's diagnostics (and so in the run record).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from superalign.errors import SuperalignError
from superalign.io import file_sha256
from superalign.paths import home
from superalign.sandbox.method_file import run_method_file
from superalign.sandbox.runner import Limits
from superalign.w2s.method import METHODS, Method, MethodConfig, StudentSplit


class SandboxedConfig(MethodConfig):
    sha256: str = Field("", description="SHA-256 of the file: the run refuses a file that changed, and the "
                                        "run store keys on it")
    options: dict[str, Any] = Field(default_factory=dict, description="keyword options passed to fit_predict")
    cpu_seconds: int = Field(120, ge=1, description="CPU-time limit of one call")
    memory_mb: int = Field(2048, ge=256, description="address-space limit of one call")


def sandboxed_method(path: str) -> type[Method]:
    resolved = Path(path).expanduser().resolve()

    class FileConfig(SandboxedConfig):
        sha256: str = Field("", validate_default=True, description=SandboxedConfig.model_fields["sha256"].description)

        @field_validator("sha256")
        @classmethod
        def _given(cls, value: str) -> str:
            # The hash keys the run store: without it an edited file would be served its old results.
            if not value:
                current = file_sha256(resolved) if resolved.is_file() else "(the file does not exist)"
                raise ValueError(f"give the file's SHA-256, -o sha256={current}")
            return value

    class Sandboxed(Method):
        __doc__ = f"the method file {resolved.name}, run in the sandbox"
        config_cls = FileConfig
        budget = "weak-labels"
        file = resolved

        def fit(self, transfer: StudentSplit, val: StudentSplit) -> "Sandboxed":
            # Training happens with the query in one sandboxed call (a fitted object never crosses back:
            # that would mean unpickling what the code wrote).
            self.transfer_, self.val_ = transfer, val
            self.events_: list[dict] = []
            return self

        def predict_proba(self, split: StudentSplit) -> np.ndarray:
            cfg = self.config
            arrays = {"transfer_x": self.transfer_.features, "transfer_weak": self.transfer_.weak_probs,
                      "val_x": self.val_.features, "val_weak": self.val_.weak_probs, "query_x": split.features}
            run = run_method_file(self.file, arrays, self.context.n_classes, self.context.seed, cfg.options,
                                  limits=Limits.for_cpu(cfg.cpu_seconds, cfg.memory_mb),
                                  protected=[str(home())], sha256=cfg.sha256)
            self.events_ += run.events
            if not run.ok:
                raise SuperalignError(f"method file {self.file.name} failed in the sandbox: {run.error()}")
            return run.probabilities

        def diagnostics(self, transfer_labels: np.ndarray) -> dict:
            return {"sandbox_events": self.events_}

    Sandboxed.__name__ = f"Sandboxed[{resolved.name}]"
    return Sandboxed


METHODS.register_prefix("file", sandboxed_method)
