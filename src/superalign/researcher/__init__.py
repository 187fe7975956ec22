"""The automated alignment researcher: an agent (a chat model, or a script) that proposes, runs and reflects on
weak-to-strong experiments within a budget, its code sandboxed; scored on held-out settings against search
baselines at the same budget. A kind on the engine (`kind: researcher`, `superalign.researcher.kind`)."""
