"""Built-in rule packs (data): `.rules` files the grammar parses and the engine loads.

One file per channel family; the language is in docs (rules.lark in `compliance.grammar`).
"""
