"""sensorapp: companion app for the BLE load-cell ankle belt."""

__version__ = "0.1.0"
