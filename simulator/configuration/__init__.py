"""What a simulator run starts with and how settings are read.

- :mod:`~at_voice_kit.simulator.configuration.simulator_config`: the run's configuration
  (defaults, the YAML file, ``ATSIM_*`` variables, command-line flags).
- :mod:`~at_voice_kit.simulator.configuration.readers`: strict readers of settings documents
  (accounts, numbers, callees, event faults, inbound calls), shared by the config file and
  the admin API.
- :mod:`~at_voice_kit.simulator.configuration.fields`: how one field is read and checked.
"""
