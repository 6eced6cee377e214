"""Checker: takes the AST of a rules file (`compliance.grammar`), gives a checked model.

Types, the built-in functions and their signatures, the checked model, and the checker itself.
"""
