"""Layer sweep: which layer of each rung of the language-model ladder carries what a task needs.

For each model, one forward pass per text (the text wrapped in the model's chat template, as the encoders'
`template=chat` does) keeps the last-token hidden state of every layer; a logistic probe (standardised
features, C=0.05) is scored by 5-fold cross-validation at every layer. This is how the ladder's encoders
for `examples/ladder/arithmetic.yaml` were chosen (last layer, chat template).

Usage: python benchmarks/ladder_probe.py [--task arithmetic-claims] [--n 400] [--models smollm2-135m,qwen-0.5b,qwen-1.5b]
       [--suffix " Answer yes or no."] [--first]
The README's sweep: --first --suffix " Answer yes or no." (the task's first 400 claims, about 40 minutes).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def hidden_states(model_dir: str, texts: list[str], batch_size: int = 16, suffix: str = "") -> np.ndarray:
    """[n, layers + 1, d]: the last token's state at every layer (0 = embeddings)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32).eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": t + suffix}], tokenize=False,
                                             add_generation_prompt=True) for t in texts]
    out = []
    with torch.inference_mode():
        for i in range(0, len(prompts), batch_size):
            batch = tokenizer(prompts[i:i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
            states = torch.stack(model(**batch, output_hidden_states=True).hidden_states, 1)
            last = batch["attention_mask"].sum(1) - 1
            out.append(states[torch.arange(len(last)), :, last].float().numpy())
    return np.concatenate(out)


def probe_by_layer(features: np.ndarray, labels: np.ndarray) -> list[float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))
    return [float(cross_val_score(probe, features[:, layer], labels, cv=5).mean()) for layer in range(features.shape[1])]


def main() -> None:
    from superalign.data.registry import load_task
    from superalign.models.encoder import get_encoder

    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="arithmetic-claims")
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--models", default="smollm2-135m,qwen-0.5b,qwen-1.5b")
    parser.add_argument("--suffix", default="", help='appended to each text, e.g. " Answer yes or no."')
    parser.add_argument("--first", action="store_true", help="the task's first N examples instead of a stratified subset")
    args = parser.parse_args()
    task = load_task(args.task)
    task = task.subset(np.arange(args.n)) if args.first else task.subsample(args.n, seed=0)
    print(f"{args.task}: {len(task)} examples, last token, chat template, 5-fold CV logistic probe per layer")
    for name in args.models.split(","):
        start = time.perf_counter()
        scores = probe_by_layer(hidden_states(get_encoder(name).path, list(task.inputs), suffix=args.suffix), task.labels)
        best = int(np.argmax(scores))
        every = " ".join(f"{layer}:{s:.3f}" for layer, s in enumerate(scores) if layer % 2 == 0 or layer == len(scores) - 1)
        print(f"{name}: best layer {best} ({scores[best]:.3f}), last layer {scores[-1]:.3f}, middle "
              f"{scores[len(scores) // 2]:.3f} [{time.perf_counter() - start:.0f} s]\n  {every}", flush=True)


if __name__ == "__main__":
    main()
