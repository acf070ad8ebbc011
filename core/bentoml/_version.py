"""The kernel's version, in a module of its own so that no kernel module imports the package."""
__version__ = "2.0.0.dev0"
