"""The attacker-learner-critic loop (Zhang et al., "The Superalignment of Superhuman Intelligence with Large
Language Models"): an attacker looks for the learner's errors, a critic labels and critiques what it finds, a
small expert budget buys ground truth where the critic is least sure, and the learner is refitted; repeated.

    queries   = attacker.propose(learner, pool)              # no labels read
    critique  = critic.critique(queries, learner's answers)  # the critic's labels, confidence and text
    experts   = oracle.buy(least confident critiques)        # transfer ground truth, within the budget
    learner   = refit(weak labels, critic labels, expert labels)

Modules: `critics` (weak supervisor with a consistency check, a language-model critic, an ensemble),
`attackers` (pool attackers and a random control), `generative` (a language model rewrites inputs), `oracle`
(the expert budget: the only holder of transfer ground truth), `loop` (rounds, the equal-budget baselines and
the evaluation by a fresh attacker).
"""
