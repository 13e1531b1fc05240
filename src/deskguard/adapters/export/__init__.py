"""SIEM/SOAR destinations of the export queue (``app.export``): one module per format or vendor."""
