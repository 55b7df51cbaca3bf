"""The Flask app (create_app in app.py) and its resources."""
