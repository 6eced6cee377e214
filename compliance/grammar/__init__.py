"""Grammar: takes rules text, gives the AST (`compliance.grammar.ast`) or a `RulesSyntaxError`.

The Lark grammar (rules.lark), the parser front end and the source-text helpers.
"""
