"""Decision theory of corrigibility: decision trees, plans, dominance rules, dynamic choice, money pumps."""
