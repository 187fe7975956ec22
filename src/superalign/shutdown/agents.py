"""Agents for the shutdown gridworlds: tabular REINFORCE on one layout (as in Thornley et al.), and PPO
from Stable-Baselines3 on many layouts, for the test on unseen ones (as in Cullen et al.).

Both are trained with the DReST or the default reward through `MetaEpisode`, which sees only what a
mini-episode ended with (its length and coins): the reward arrives at the end of each mini-episode.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from superalign.errors import MissingDependencyError
from superalign.shutdown.drest import MetaEpisode, behaviour
from superalign.shutdown.gridworld import GridworldEnv, Layout


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


@dataclass
class TabularReinforce:
    """A softmax policy per state (cell, coins held, button state), trained by REINFORCE with a baseline."""

    lr: float = 1.0
    entropy: float = 0.2  # an entropy bonus keeps it exploring until a better path pays (annealed in training)
    seed: int = 0
    logits: dict = field(default_factory=lambda: defaultdict(lambda: np.zeros(4)))

    def __post_init__(self):
        self.rng = np.random.default_rng(self.seed)

    def act(self, env) -> int:
        return int(self.rng.choice(4, p=_softmax(self.logits[env.state_key()])))

    def update(self, episodes: list[tuple[list[tuple], float]]) -> None:
        """One step along the meta-episode's policy gradient: sum over its mini-episodes of
        (standardised return) * grad log pi, plus the entropy bonus, divided by the number of mini-episodes.
        Updating once per meta-episode, rather than after each mini-episode, keeps the choice between
        lengths from swinging to whichever length the discount currently favours."""
        returns = np.array([g for _, g in episodes])
        # Standardised within the meta-episode: DReST returns span a factor lambda ** -E between the first and
        # the last repeat of a length, and raw returns that wide make the steps swing.
        advantages = (returns - returns.mean()) / (returns.std() + 1e-8)
        total: dict = defaultdict(lambda: np.zeros(4))
        for (steps, _), advantage in zip(episodes, advantages):
            for key, action in steps:
                p = _softmax(self.logits[key])  # once per step: the policy gradient and the entropy both need it
                grad = -p
                grad[action] += 1
                total[key] += advantage * grad
                log_p = np.log(p + 1e-12)
                total[key] += self.entropy * -p * (log_p - (p * log_p).sum())  # gradient of the entropy
        for key, grad in total.items():
            self.logits[key] = self.logits[key] + self.lr * grad / len(episodes)


def run_episode(env, act) -> tuple[list[tuple], str, float]:
    env.reset()
    steps, done, info = [], False, {}
    while not done:
        key = env.state_key()
        action = act(env)
        _, _, done, _, info = env.step(action)
        steps.append((key, action))
    return steps, info["length"], float(info["coins"])


def train_tabular(layout: Layout, reward: str, meta_episodes: int = 150, meta_episode: int = 32,
                  discount: float = 0.9, lr: float = 1.0, entropy: float = 0.2, seed: int = 0,
                  progress=lambda n: None):
    """A REINFORCE agent trained on one layout; returns it and its training curve (per meta-episode)."""
    env = GridworldEnv([layout], seed=seed)
    agent = TabularReinforce(lr=lr, entropy=entropy, seed=seed)
    scorer = MetaEpisode(reward, meta_episode, discount)
    curve = []
    for m in range(meta_episodes):
        lengths, coins, episodes = [], [], []
        for _ in range(meta_episode):
            steps, length, got = run_episode(env, agent.act)
            episodes.append((steps, scorer.score(got, length, layout)))
            lengths.append(length)
            coins.append(got)
        # Explore widely at first, so both lengths' routes are found before the policy settles; then anneal.
        agent.entropy = entropy * max(0.0, 1 - m / (0.6 * meta_episodes))
        agent.update(episodes)
        b = behaviour(lengths, coins, layout)
        curve.append({"meta_episode": m, "p_long": b.p_long, "usefulness": b.usefulness, "neutrality": b.neutrality})
        progress(1)
    return agent, curve


def evaluate(act_on: "callable", layouts: list[Layout], episodes: int = 200, seed: int = 1000) -> list[dict]:
    """Sampled behaviour of a policy on each layout: P(long), coins per length, USEFULNESS, NEUTRALITY."""
    out = []
    for i, layout in enumerate(layouts):
        env = GridworldEnv([layout], seed=seed + i)
        lengths, coins = [], []
        for _ in range(episodes):
            _, length, got = run_episode(env, act_on(env))
            lengths.append(length)
            coins.append(got)
        out.append({"layout": layout.name, **behaviour(lengths, coins, layout).to_dict(),
                    "lengths": lengths, "coins": coins})
    return out


# --- PPO (Stable-Baselines3) on many layouts ------------------------------------------------------

def _meta_wrapper(env, reward: str, meta_episode: int, discount: float):
    import gymnasium as gym

    class DrestWrapper(gym.Wrapper):
        """Withholds the per-coin reward and pays the meta-episode score when a mini-episode ends."""

        def __init__(self, inner):
            super().__init__(inner)
            self.scorer = MetaEpisode(reward, meta_episode, discount)

        def step(self, action):
            obs, _, done, truncated, info = self.env.step(action)
            value = self.scorer.score(info["coins"], info["length"], self.env.unwrapped.layout) if done else 0.0
            return obs, value, done, truncated, info

    return DrestWrapper(env)


def train_ppo(layouts: list[Layout], reward: str, steps: int = 40_000, meta_episode: int = 32,
              discount: float = 0.9, seed: int = 0, n_envs: int = 4):
    """PPO with a small MLP over the gridworld observation, on layouts drawn at random each episode."""
    try:
        from stable_baselines3 import PPO
        from stable_baselines3.common.vec_env import DummyVecEnv
    except ImportError as exc:
        raise MissingDependencyError("PPO agents need Stable-Baselines3: pip install 'superalign[agents]'") from exc
    import torch

    torch.set_num_threads(1)  # a tiny MLP: threads cost more than they save
    # One layout per meta-episode (as in Cullen et al.): were the layout redrawn every mini-episode, an agent
    # could balance the lengths across layouts while being deterministic on each, and DReST would not see it.
    venv = DummyVecEnv([lambda i=i: _meta_wrapper(GridworldEnv(layouts, seed=seed * 100 + i, hold=meta_episode), reward,
                                                  meta_episode, discount) for i in range(n_envs)])
    model = PPO("MlpPolicy", venv, n_steps=256, batch_size=256, n_epochs=4, gamma=1.0, gae_lambda=0.95,
                ent_coef=0.01, learning_rate=1e-3, policy_kwargs={"net_arch": [64, 64]}, seed=seed, verbose=0,
                device="cpu")
    model.learn(total_timesteps=steps)
    return model


def ppo_policy(model):
    """An act_on(env) for `evaluate`: samples the PPO policy's actions (it is stochastic by design)."""
    def act_on(env):
        def act(e):
            action, _ = model.predict(e._obs(), deterministic=False)
            return int(action)
        return act
    return act_on
