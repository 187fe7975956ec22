"""What prompt-lookup decoding would buy the debaters: a speculative step that drafts the tokens which followed
the last n-gram's earlier occurrence in the prompt or the reply, and checks them all in one llama.cpp decode,
against one decode per token (our greedy loop), in one run.

Debaters restate the question and the answers ("The answer to the question ... is 69"), so many of their
tokens can be drafted from the prompt, and greedy verification keeps the output the same. Whether that is
faster depends on what a decode of 1 + K tokens costs against one of 1 token on this CPU. This script times
those decodes on the packaged Qwen-1.5B (with logits for every drafted position, as verification needs), and
replays the drafting on the real debater arguments of the run store (the model's first-round arguments in its
`bbc-cloze` debate records, read back from the request cache) to count how many drafts would be accepted; it prints the estimated speed-up of
generation for each n-gram length and draft size. It builds nothing into the chat backend: it measures
first (README, Speed).

Usage: python benchmarks/prompt_lookup.py [--model qwen-1.5b] [--max-draft 4]
"""

from __future__ import annotations

import argparse
import asyncio
import time


def drafted_steps(context: list[int], reply: list[int], ngram: int, k: int) -> list[int]:
    """Replay greedy decoding of `reply` after `context` with prompt-lookup drafts of up to `k` tokens: those
    that followed the latest earlier occurrence of the last 3, else 2, ... else `ngram` tokens. Returns the
    number of drafted tokens in each decode step (a step yields its accepted drafts and one token of its own)."""
    seq, i, steps = list(context), 0, []
    while i < len(reply):
        draft: list[int] = []
        for n in range(3, ngram - 1, -1):
            tail = seq[-n:]
            for j in range(len(seq) - n - 1, -1, -1):
                if seq[j:j + n] == tail:
                    draft = seq[j + n:j + n + k]
                    break
            if draft:
                break
        accepted = 0
        while accepted < len(draft) and i + accepted < len(reply) and reply[i + accepted] == draft[accepted]:
            accepted += 1
        steps.append(len(draft))
        advance = min(accepted + 1, len(reply) - i)  # the accepted drafts and the model's own next token
        seq += reply[i:i + advance]
        i += advance
    return steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen-1.5b")
    parser.add_argument("--max-draft", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()

    from superalign.chat.client import CHAT_MODELS, ChatBackend, ChatClient, RequestCache
    from superalign.oversight.items import load_items
    from superalign.oversight.protocols import ARGUE_TOKENS, _listing
    from superalign.engine.store import RunStore

    # Which first-round arguments this model made: (item set, item, side), from the debate records.
    argued, item_set = set(), None
    for record in RunStore().records(kind="oversight"):
        config = record["config"]
        if str(config.get("items", "")).startswith("bbc-cloze") and config.get("protocol") == "debate":
            for side, role in enumerate(("debater_a", "debater_b")):
                if config["models"][role]["name"] == args.model and (config["settings"].get("best_of_n_a" if side
                                                                     == 0 else "best_of_n_b") or 1) == 1:
                    argued |= {(config["items"], item_id, side) for item_id in config["item_ids"]}
    if not argued:
        raise SystemExit(f"no bbc-cloze debates by {args.model} in the run store: run "
                         "examples/oversight_persuasion.py (or examples/oversight_ladder.py) first")

    backend = CHAT_MODELS.get(args.model)()
    llama = backend.llama

    class CacheOnly(ChatBackend):  # the same cache keys as the real model, and no generation on a miss
        name = backend.name

        def identity(self):
            return backend.identity()

        async def generate(self, messages, max_tokens, temperature, seed=None):
            raise LookupError("not in the request cache")

    cached = ChatClient(CacheOnly(), cache=RequestCache())
    items = {(spec, item.id): item for spec in {a[0] for a in argued} for item in load_items(spec, 200)}
    pairs = []
    for spec, item_id, side in sorted(argued):
        item = items[(spec, item_id)]
        answer, other = item.answers[side], item.answers[1 - side]
        messages = [{"role": "user", "content": (  # the prompt of oversight.protocols._argue, first round
            f"Source text:\n{item.source}\n\nQuestion: {item.question}\n{_listing(item)}\n\n\n"  # no history
            f"Argue in at most three sentences that the answer is \"{answer}\", not \"{other}\". "
            "Support it with short exact quotes from the source inside <quote></quote> tags.")}]
        try:
            reply = asyncio.run(cached.chat(messages, max_tokens=ARGUE_TOKENS)).text
        except LookupError:
            continue
        formatted = backend._formatter(messages=messages)
        context = llama.tokenize(formatted.prompt.encode(), add_bos=not formatted.added_special, special=True)
        pairs.append((context, llama.tokenize(reply.encode(), add_bos=False)))

    # Seconds for a decode of 1 + K tokens after an argument-length prompt, logits for each (verification).
    context, reply = max(pairs, key=lambda p: len(p[0]))
    backend._evaluate(context, logits_from=len(context) - 1)
    seconds = {}
    for k in range(args.max_draft + 1):
        backend._eval(reply[:1 + k], logits_from=len(context))  # warm-up
        backend.llama.n_tokens = len(context)
        start = time.perf_counter()
        for _ in range(args.repeats):
            backend._eval(reply[:1 + k], logits_from=len(context))
            backend.llama.n_tokens = len(context)
        seconds[k] = (time.perf_counter() - start) / args.repeats
    print(f"{args.model}: one decode of 1 + K tokens after a {len(context)}-token prompt: " +
          ", ".join(f"K={k} {s * 1000:.0f} ms ({s / seconds[0]:.2f}x one token)" for k, s in seconds.items()))

    tokens = sum(len(reply) for _, reply in pairs)
    print(f"{len(pairs)} debater arguments (of {len(argued)} in the run store found in the request cache), {tokens} tokens; greedy loop: {tokens} decodes, "
          f"{tokens * seconds[0]:.0f} s")
    for ngram in (1, 2, 3):
        for k in range(1, args.max_draft + 1):
            steps = [s for context, reply in pairs for s in drafted_steps(context, reply, ngram, k)]
            cost = sum(seconds[s] for s in steps)
            print(f"prompt lookup, n-gram >= {ngram}, drafts <= {k}: {len(steps)} decodes, {cost:.0f} s: "
                  f"{tokens * seconds[0] / cost:.2f}x the greedy loop's generation speed")


if __name__ == "__main__":
    main()
