"""``atsim`` subcommands, one module each.

Every module here exposes ``register(subparsers)``, which adds its subcommand and sets
``func`` (``Callable[[argparse.Namespace], int]``) on its parser. ``at_voice_kit.simulator.cli``
discovers the modules, so adding a command never touches a shared file.
"""
