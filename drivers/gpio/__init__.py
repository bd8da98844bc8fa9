"""GPIO relay outputs through gpiozero (mock pins off a Raspberry Pi)."""
