"""Checker: takes the AST of a rules file (`compliance.grammar`), gives a checked model.

Types, built-in functions, the checked model, the checker, and the reference evaluator it runs examples with.
"""
