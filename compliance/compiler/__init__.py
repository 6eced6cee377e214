"""Compiler: takes a checked model (`compliance.checker`), gives a program (generated Python).

Code generation, the program, vectorized evaluation, the frequency-rules→caps bridge.
"""
