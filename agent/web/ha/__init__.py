"""Home Assistant MQTT discovery: entity configs, periodic state, command topics."""
