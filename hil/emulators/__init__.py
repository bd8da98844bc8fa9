"""Device emulators on the wires the agent uses in the field: SunSpec Modbus TCP, MQTT, GPIO."""
