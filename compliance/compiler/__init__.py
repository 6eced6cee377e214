"""Compiler: takes a checked model (`compliance.checker`), gives a program (generated Python).

Codegen, program, reference evaluator, vectorized evaluation, the frequency-rules→caps bridge.
"""
