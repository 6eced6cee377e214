"""Compiler: takes a checked model (`compliance.checker`), gives a program (generated Python).

Code generation, the program, the reference evaluator, vectorized evaluation, the frequency-rule caps bridge and the compiled-pack cache.
"""
