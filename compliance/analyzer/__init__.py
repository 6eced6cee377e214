"""Copy analyzer: takes message text, gives `Hit`s and lint `Finding`s (normalize → lexicons → matcher → scanners → lint).

The copy lint pipeline (`lint`) runs a compiled program over those primitives; most of it is the mypyc hot path.
"""
