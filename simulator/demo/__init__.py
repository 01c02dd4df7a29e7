"""``atsim demo``: the webhook service and the simulator, wired together, running a batch of
calls with mixed outcomes. See :mod:`at_voice_kit.simulator.commands.demo` for the command and
:mod:`at_voice_kit.simulator.demo.scenario` for the calls it places."""
