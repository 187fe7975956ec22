"""Prints the README's evaluation tables (consistency vs error, over-optimization, calibration) as Markdown.

    python examples/evaluation_tables.py
"""

from __future__ import annotations

from superalign.evaluation.calibration import calibration_report
from superalign.evaluation.consistency import consistency_report
from superalign.evaluation.overoptimization import overoptimization_report
from superalign.w2s.pipeline import ExperimentConfig

SETTINGS = [("bbc-news", "minilm-l3", "mpnet"), ("digits", "pca:4", "raw")]
OVEROPT = [("bbc-news", "minilm-l3", "mpnet"), ("digits", "pca:2", "raw")]


def main() -> None:
    print("| task | weak -> strong | model | error rate | mean inconsistency | Spearman(incons., error) | AUROC incons. -> error |")
    print("|---|---|---|---|---|---|---|")
    across = []
    for task, weak, strong in SETTINGS:
        report = consistency_report(ExperimentConfig(task=task, weak=weak, strong=strong))
        across.append((task, report["spearman_across_models"]))
        for name, r in report["models"].items():
            print(f"| {task} | {weak} -> {strong} | {name} | {r['error_rate']:.3f} | {r['mean_inconsistency']:.4f} | "
                  f"{r['spearman_inconsistency_error']:+.3f} | {r['auroc_inconsistency_predicts_error']:.3f} |")
    print()
    print("Across the three models of each setting, Spearman(mean inconsistency, error rate): "
          + "; ".join(f"{t} {rho:+.2f}" for t, rho in across))
    print()
    print("| task (pool) | proxy | proxy test acc | gold n=1 | gold at max n | distinct winners at max n | "
          "gold peak at n (measured) | alpha | beta | fitted peak n | log-fit slope b (R^2) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for task, weak, strong in OVEROPT:
        report = overoptimization_report(ExperimentConfig(task=task, weak=weak, strong=strong))
        for name, r in report["proxies"].items():
            fit, lf = r["fit"], r["log_fit"]
            print(f"| {task} ({weak} -> {strong}; {report['pool_size']}) | {name} | {r['test_accuracy']:.3f} | "
                  f"{r['gold_reward'][0]:.3f} | {r['gold_reward'][-1]:.3f} (n={report['n'][-1]}) | "
                  f"{r['distinct_winners'][-1]} | {r['n_peak_measured']} (gold {max(r['gold_reward']):.3f}) | "
                  f"{fit['alpha']:.3f} | {fit['beta']:.3f} | {fit['n_peak_fitted']:.3g} | {lf['b']:.3f} ({lf['r2']:.2f}) |")
    print()
    print("| task | model | accuracy | ECE |")
    print("|---|---|---|---|")
    for task, weak, strong in SETTINGS:
        report = calibration_report(ExperimentConfig(task=task, weak=weak, strong=strong))
        for name, r in report["models"].items():
            print(f"| {task} ({weak} -> {strong}) | {name} | {r['accuracy']:.3f} | {r['ece']:.3f} |")


if __name__ == "__main__":
    main()
