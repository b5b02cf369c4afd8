"""The engine: copy/sync, skip rules, version lists, external tools, the native async edge.

Layer 3 of the package (see ``docs/architecture.md``): below the node/manager facade,
above the backends. Import from the modules; this package exports nothing.
"""
