"""MQTT devices: one paho-mqtt client per broker bridged into asyncio, and a generic device
driven by topic maps kept as YAML data in ``maps/``."""
