"""``atsim demo``: the webhook service and the simulator, wired together, running a batch of
calls with mixed outcomes. See :mod:`simulator.commands.demo` for the command and
:mod:`simulator.demo.scenario` for the calls it places."""
