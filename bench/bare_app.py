"""The reference for the HTTP figures: a bare Flask route served with the same gunicorn settings."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "ok"
