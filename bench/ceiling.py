"""The ceiling of the load benchmark: a bare Flask app that answers one primary-key
select on the benchmark's database, served by the same gunicorn settings as the
product. No page of the product can be faster on this machine; each endpoint's
requests per second are reported as a share of this one's, measured right before it.

    DATABASE_URL=postgresql://… gunicorn --workers 2 --threads 4 bench.ceiling:app
"""

from __future__ import annotations

import os

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine, text

app = Flask(__name__)
_url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
engine = create_engine(_url, pool_pre_ping=False)


@app.get("/applications/<int:application_id>")
def application(application_id: int):
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT id, reference, title, state FROM applications WHERE id = :id"),
            {"id": application_id},
        ).one_or_none()
    if row is None:
        abort(404)
    return jsonify(id=row.id, reference=row.reference, title=row.title, state=row.state)
