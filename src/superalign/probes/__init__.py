"""Safety probes of weak-to-strong supervision: a backdoored supervisor whose hidden behaviour the student may
inherit (`backdoor`), measured by attack success on triggered inputs, with defenses and detectors."""
