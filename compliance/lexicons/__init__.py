"""Built-in lexicons (data): TOML word lists the analyzer loads (`compliance.analyzer.lexicon`).

Policy lives here as data; a new lexicon is a new TOML file (docs/architecture.md).
"""
